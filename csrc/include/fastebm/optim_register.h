// Registers the fused Adam step for one backend, given that backend's element-wise driver:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_optim_ops<cpu::ElementwiseDriver>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/adam.h"

namespace fastebm {

template <class Driver>
void register_optim_ops(torch::Library& m) {
  static constexpr const OptimPasses& passes = kOptimPasses<Driver>;
  m.impl("adam_step_", [](at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                          at::TensorList exp_avg_sqs, int64_t step, double lr, double beta1,
                          double beta2, double eps, double weight_decay) {
    adam_step_op(params, grads, exp_avgs, exp_avg_sqs, step, lr, beta1, beta2, eps,
                 weight_decay, passes);
  });
}

}  // namespace fastebm
