// The Langevin family's ops, written once for every backend over LangevinPasses: langevin.h's
// kernels on a backend's driver.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <tuple>

#include "fastebm/seed.h"

namespace fastebm {

// The tensors of one Metropolis step (MALA or HMC): inputs x, x_prop, grad, grad_prop [B, ...],
// energy, energy_prop [B]; outputs x_out, grad_out [B, ...], energy_out [B], accepted [B] (bool).
// All contiguous, one dtype and device.
struct MetropolisTensors {
  at::Tensor x, x_prop, energy, energy_prop, grad, grad_prop;
  at::Tensor x_out, energy_out, grad_out, accepted;
};

// The tensors of one leapfrog update: x, p, grad [B, ...], inv_mass [D] (D = x's row size;
// undefined: M = I); outputs x_out, p_out [B, ...]. All contiguous.
struct LeapfrogTensors {
  at::Tensor x, p, grad, inv_mass, x_out, p_out;
};

struct LangevinPasses {
  // out <- x - step_size * grad + sqrt(2 step_size) * noise (noise undefined: the driver's
  // N(0, 1) draws of (seed, element, offset 0)); all contiguous, same shape.
  void (*langevin)(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& noise,
                   at::Tensor& out, double step_size, const Seed& seed);
  // Per chain: the MALA accept test (uniform of (seed, row, offset 0)) and the kept row.
  void (*mala)(const MetropolisTensors& t, double step_size, const Seed& seed);
  // p_out = p - momentum_step * step_size * grad, x_out = x + step_size * inv_mass * p_out.
  void (*leapfrog)(const LeapfrogTensors& t, double step_size, double momentum_step);
  // Per chain: the HMC accept test of the trajectory (x, p0) -> (x_prop, p_half) and the kept row.
  void (*hmc)(const MetropolisTensors& t, const at::Tensor& p0, const at::Tensor& p_half,
              const at::Tensor& inv_mass, double step_size, const Seed& seed);
  // Steps step0 .. step0 + n_steps - 1 of every chain of x [B, D] (in place) on the mixture
  // (gmm_chains.h: log_coef [K], means, inv_var [K, D]); accepted [B] <- accepted proposals.
  void (*gmm_chains)(at::Tensor& x, at::Tensor& accepted, const at::Tensor& log_coef,
                     const at::Tensor& means, const at::Tensor& inv_var, double step_size,
                     int64_t n_steps, int64_t step0, bool mala, const Seed& seed);
};

// x' = x - ε grad + √(2ε) ξ, ξ ~ N(0, I) from (seed, element) or `noise`; x, grad (, noise) of one
// shape, dtype and device; ε = step_size finite and > 0. Written into `out` when given (x's
// shape, dtype and device, contiguous; it may be x itself: checks.h output_for).
at::Tensor langevin_step_op(const at::Tensor& x, const at::Tensor& grad, double step_size,
                            const Seed& seed, const std::optional<at::Tensor>& noise,
                            const std::optional<at::Tensor>& out, const LangevinPasses& passes);

// The MALA accept / reject of proposals x_prop (from x by one Langevin step of size step_size):
// returns (x_new, energy_new, grad_new, accepted [B] bool), each chain's row taken from the
// proposal where accepted, else kept.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> mala_accept_op(
    const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
    const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
    double step_size, const Seed& seed, const LangevinPasses& passes);

// One leapfrog update of Hamiltonian dynamics with diagonal mass M = diag(1 / inv_mass):
// p' = p - momentum_step ε ∇E(x), x' = x + ε inv_mass ⊙ p'; x, p, grad [B, ...], inv_mass [D]
// (undefined: ones) > 0, momentum_step in (0, 1]. Returns (x', p'); x, p and grad's values are
// not checked (a diverging trajectory's Inf / NaN reaches hmc_accept, which rejects the chain).
std::tuple<at::Tensor, at::Tensor> leapfrog_step_op(const at::Tensor& x, const at::Tensor& p,
                                                    const at::Tensor& grad, double step_size,
                                                    const std::optional<at::Tensor>& inv_mass,
                                                    double momentum_step,
                                                    const LangevinPasses& passes);

// HMC's accept / reject of trajectories from (x, p0) that ended at x_prop with half-step momentum
// p_half: returns (x_new, energy_new, grad_new, accepted [B] bool).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> hmc_accept_op(
    const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
    const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
    const at::Tensor& p0, const at::Tensor& p_half, const std::optional<at::Tensor>& inv_mass,
    double step_size, const Seed& seed, const LangevinPasses& passes);

// n_steps Langevin (mala: MALA) steps of every chain x [B, D] on the mixture of K diagonal
// Gaussians with log weights log_weights [K] (normalised), means and stds [K, D]; draws of steps
// step0 .. step0 + n_steps - 1. Returns (x', accepted proposals per chain [B] int64).
std::tuple<at::Tensor, at::Tensor> gmm_langevin_op(
    const at::Tensor& x, const at::Tensor& log_weights, const at::Tensor& means,
    const at::Tensor& stds, double step_size, int64_t n_steps, bool mala, const Seed& seed,
    int64_t step0, const LangevinPasses& passes);

}  // namespace fastebm
