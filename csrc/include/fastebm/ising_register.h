// Registers the Boltzmann-machine and Ising ops (bm_gibbs, ising_gibbs) for one backend, given
// that backend's element-wise driver:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_ising_ops<cpu::ElementwiseDriver>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/ising.h"
#include "fastebm/seed_ops.h"

namespace fastebm {

template <class Driver>
void register_ising_ops(torch::Library& m) {
  static constexpr const IsingPasses& passes = kIsingPasses<Driver>;
  m.impl("bm_gibbs", [](const at::Tensor& x, const at::Tensor& J, const at::Tensor& b,
                        int64_t n_steps, const at::Tensor& beta, int64_t seed, int64_t sweep0,
                        const std::optional<at::Tensor>& frozen,
                        const OptionalGenerator& generator) {
    return bm_gibbs_op(x, J, b, n_steps, beta, op_seed(seed, generator, x), sweep0, frozen, passes);
  });
  m.impl("ising_gibbs",
         [](const at::Tensor& s, int64_t n_steps, const at::Tensor& beta, double J, double h,
            int64_t seed, int64_t sweep0, const std::optional<at::Tensor>& frozen,
            const OptionalGenerator& generator) {
           return ising_gibbs_op(s, n_steps, beta, J, h, op_seed(seed, generator, s), sweep0,
                                 frozen, passes);
         });
}

}  // namespace fastebm
