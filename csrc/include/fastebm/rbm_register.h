// Registers rbm_gibbs and grbm_gibbs for one backend, given that backend's element-wise halves:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_rbm_ops<kCpuElementwise>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/rbm_sweeps.h"

namespace fastebm {

template <const RbmElementwise& EW>
void register_rbm_ops(torch::Library& m) {
  m.impl("rbm_gibbs", [](const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                         const at::Tensor& c, int64_t k, int64_t seed) {
    return rbm_gibbs_sweeps(v, W, b, c, k, seed, EW);
  });
  m.impl("grbm_gibbs", [](const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                          const at::Tensor& c, const at::Tensor& sigma, int64_t k,
                          int64_t seed) {
    return grbm_gibbs_sweeps(v, W, b, c, sigma, k, seed, EW);
  });
}

}  // namespace fastebm
