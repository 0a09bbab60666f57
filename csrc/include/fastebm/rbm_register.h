// Registers the RBM ops (rbm_gibbs, grbm_gibbs, rbm_cd_grad, grbm_cd_grad, rbm_pcd_sgd_, rbm_ais,
// grbm_ais, bernoulli_sigmoid) for one
// backend, given that backend's element-wise driver:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_rbm_ops<cpu::ElementwiseDriver>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/rbm.h"
#include "fastebm/seed_ops.h"

namespace fastebm {

template <class Driver>
void register_rbm_ops(torch::Library& m) {
  static constexpr const RbmElementwise& ew = kRbmElementwise<Driver>;
  m.impl("rbm_gibbs",
         [](const at::Tensor& v, const at::Tensor& W, const at::Tensor& b, const at::Tensor& c,
            int64_t n_steps, int64_t seed, int64_t sweep0, const OptionalGenerator& generator) {
           return rbm_gibbs_sweeps(v, W, b, c, n_steps, op_seed(seed, generator, v), sweep0, ew);
         });
  m.impl("grbm_gibbs", [](const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                          const at::Tensor& c, const at::Tensor& sigma, int64_t n_steps,
                          int64_t seed, int64_t sweep0, const OptionalGenerator& generator) {
    return grbm_gibbs_sweeps(v, W, b, c, sigma, n_steps, op_seed(seed, generator, v), sweep0, ew);
  });
  m.impl("rbm_cd_grad", [](const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
                           const at::Tensor& b, const at::Tensor& c, int64_t k, int64_t seed,
                           int64_t sweep0, const OptionalGenerator& generator) {
    return rbm_cd_grad_sweeps(v_data, v_chain, W, b, c, k, op_seed(seed, generator, v_data), sweep0,
                              ew);
  });
  m.impl("grbm_cd_grad",
         [](const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
            const at::Tensor& b, const at::Tensor& c, const at::Tensor& sigma, int64_t k,
            int64_t seed, int64_t sweep0, const OptionalGenerator& generator) {
           return grbm_cd_grad_sweeps(v_data, v_chain, W, b, c, sigma, k,
                                      op_seed(seed, generator, v_data), sweep0, ew);
         });
  m.impl("rbm_pcd_sgd_",
         [](const at::Tensor& W, const at::Tensor& b, const at::Tensor& c, const at::Tensor& chains,
            at::TensorList momentum_buffers, const at::Tensor& data, int64_t batch_size,
            at::IntArrayRef seeds, int64_t k, double lr, double momentum, double weight_decay,
            bool first_step) {
           rbm_pcd_sgd_steps(W, b, c, chains, momentum_buffers, data, batch_size, seeds, k, lr,
                             momentum, weight_decay, first_step, ew);
         });
  m.impl("grbm_ais", [](const at::Tensor& v0, const at::Tensor& W, const at::Tensor& b,
                        const at::Tensor& c, const at::Tensor& sigma, at::ArrayRef<double> betas,
                        int64_t seed, int64_t step0, const OptionalGenerator& generator) {
    return grbm_ais_sweeps(v0, W, b, c, sigma, betas, op_seed(seed, generator, v0), step0, ew);
  });
  m.impl("rbm_ais", [](const at::Tensor& v0, const at::Tensor& W, const at::Tensor& b,
                       const at::Tensor& c, const at::Tensor& base_b, at::ArrayRef<double> betas,
                       int64_t seed, int64_t step0, const OptionalGenerator& generator) {
    return rbm_ais_sweeps(v0, W, b, c, base_b, betas, op_seed(seed, generator, v0), step0, ew);
  });
  m.impl("bernoulli_sigmoid",
         [](const at::Tensor& logits, int64_t seed, const OptionalGenerator& generator) {
           return bernoulli_sigmoid_op(logits, op_seed(seed, generator, logits), ew);
         });
}

}  // namespace fastebm
