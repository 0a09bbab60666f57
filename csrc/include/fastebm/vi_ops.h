// The variational-inference family's op (reparameterize), written once for every backend over
// ViPasses: vi.h's kernel on a backend's driver (cpu/vi_cpu.cpp, cuda/vi_cuda.cu).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <tuple>

#include "fastebm/seed.h"

namespace fastebm {

struct ViPasses {
  // scaled <- exp(log_sigma) ⊙ ε (when scaled is defined) and z <- mu + exp(log_sigma) ⊙ ε: ε the
  // driver's N(0, 1) draw of element i (draw offset 0), or noise[i] when noise is defined; every
  // tensor contiguous, of one shape.
  void (*reparameterize)(const at::Tensor& mu, const at::Tensor& log_sigma,
                         const at::Tensor& noise, at::Tensor& z, at::Tensor& scaled,
                         const Seed& seed);
};

// The reparameterised Gaussian draw z = μ + exp(log σ) ⊙ ε, ε ~ N(0, I) (or ε = noise), for mu,
// log_sigma (and noise) of one shape, finite. Returns (z, σ ⊙ ε): the Python wrapper gives z and
// keeps σ ⊙ ε for the backward pass (∂z/∂μ = 1, ∂z/∂log σ = σ ⊙ ε); with keep_scaled false (no
// gradient wanted) σ ⊙ ε is not written and the second output is empty ([0]).
std::tuple<at::Tensor, at::Tensor> reparameterize_op(const at::Tensor& mu,
                                                     const at::Tensor& log_sigma,
                                                     const std::optional<at::Tensor>& noise,
                                                     const Seed& seed, bool keep_scaled,
                                                     const ViPasses& passes);

}  // namespace fastebm
