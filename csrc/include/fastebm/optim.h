// The fused optimizer updates: SGD (ATen in-place ops, one registration for every device; other
// ops reuse it, e.g. several PCD steps in one call) and Adam (adam.h's single-pass kernel on each
// backend's driver, over OptimPasses).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fastebm {

// SGD with momentum (dampening 0, as torch.optim.SGD), every parameter in one call:
//   g = grad + wd·p;  buf = g (first step) or momentum·buf + g;  p -= lr·buf  (buf = g if
//   momentum = 0). Checks lengths, shapes and rates.
void sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
              double lr, double momentum, double weight_decay, bool first_step);

// One Adam step's scalars: lr, β1, β2, eps, weight decay, 1 - β1ᵗ and √(1 - β2ᵗ).
struct AdamRates {
  double lr, beta1, beta2, eps, weight_decay, bias1, bias2_sqrt;
};

struct OptimPasses {
  // Adam's update of one parameter and its moments in place (adam.h), every tensor contiguous,
  // of one shape and floating dtype.
  void (*adam)(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg,
               at::Tensor& exp_avg_sq, const AdamRates& rates);
};

// Adam (as torch.optim.Adam with L2 weight decay) on every parameter, step t >= 1 for all of
// them; a parameter or moment that is not contiguous (or is float16 / bfloat16: float32 math) is
// updated through a contiguous copy.
// Checks lengths, shapes, dtypes and rates.
void adam_step_op(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                  at::TensorList exp_avg_sqs, int64_t step, double lr, double beta1,
                  double beta2, double eps, double weight_decay, const OptimPasses& passes);

}  // namespace fastebm
