// Registers the variational-inference op (reparameterize) for one backend, given that backend's
// element-wise driver:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_vi_ops<cpu::ElementwiseDriver>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/seed_ops.h"
#include "fastebm/vi.h"

namespace fastebm {

template <class Driver>
void register_vi_ops(torch::Library& m) {
  static constexpr const ViPasses& passes = kViPasses<Driver>;
  m.impl("reparameterize", [](const at::Tensor& mu, const at::Tensor& log_sigma,
                              const std::optional<at::Tensor>& noise, int64_t seed,
                              bool keep_scaled, const OptionalGenerator& generator) {
    return reparameterize_op(mu, log_sigma, noise, op_seed(seed, generator, mu), keep_scaled,
                             passes);
  });
}

}  // namespace fastebm
