// Registers the RBM ops (rbm_gibbs, grbm_gibbs, rbm_cd_grad, rbm_ais) for one backend, given
// that backend's element-wise halves:
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
  m.impl("rbm_cd_grad", [](const at::Tensor& v_data, const at::Tensor& v_chain,
                           const at::Tensor& W, const at::Tensor& b, const at::Tensor& c,
                           int64_t k, int64_t seed) {
    return rbm_cd_grad_sweeps(v_data, v_chain, W, b, c, k, seed, EW);
  });
  m.impl("rbm_ais", [](const at::Tensor& v0, const at::Tensor& W, const at::Tensor& b,
                       const at::Tensor& c, const at::Tensor& base_b, at::ArrayRef<double> betas,
                       int64_t seed) {
    return rbm_ais_sweeps(v0, W, b, c, base_b, betas, seed, EW);
  });
}

}  // namespace fastebm
