// The Langevin family's ops, written once for every backend over LangevinPasses: langevin.h's
// kernels on a backend's driver.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <tuple>

namespace fastebm {

// The tensors of one MALA correction: inputs x, x_prop, grad, grad_prop [B, ...], energy,
// energy_prop [B]; outputs x_out, grad_out [B, ...], energy_out [B], accepted [B] (bool). All
// contiguous, one dtype and device.
struct MalaTensors {
  at::Tensor x, x_prop, energy, energy_prop, grad, grad_prop;
  at::Tensor x_out, energy_out, grad_out, accepted;
};

struct LangevinPasses {
  // out <- x - step_size * grad + sqrt(2 step_size) * noise (noise undefined: the driver's
  // N(0, 1) draws of (seed, element, offset 0)); all contiguous, same shape.
  void (*langevin)(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& noise,
                   at::Tensor& out, double step_size, uint64_t seed);
  // Per chain: the MALA accept test (uniform of (seed, row, offset 0)) and the kept row.
  void (*mala)(const MalaTensors& t, double step_size, uint64_t seed);
};

// x' = x - ε grad + √(2ε) ξ, ξ ~ N(0, I) from (seed, element) or `noise`; x, grad (, noise) of one
// shape, dtype and device; ε = step_size finite and > 0.
at::Tensor langevin_step_op(const at::Tensor& x, const at::Tensor& grad, double step_size,
                            int64_t seed, const std::optional<at::Tensor>& noise,
                            const LangevinPasses& passes);

// The MALA accept / reject of proposals x_prop (from x by one Langevin step of size step_size):
// returns (x_new, energy_new, grad_new, accepted [B] bool), each chain's row taken from the
// proposal where accepted, else kept.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> mala_accept_op(
    const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
    const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
    double step_size, int64_t seed, const LangevinPasses& passes);

}  // namespace fastebm
