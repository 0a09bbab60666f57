// The fused optimizer updates other ops reuse (e.g. several PCD steps in one call).
#pragma once

#include <ATen/core/Tensor.h>

namespace fastebm {

// SGD with momentum (dampening 0, as torch.optim.SGD), every parameter in one call:
//   g = grad + wd·p;  buf = g (first step) or momentum·buf + g;  p -= lr·buf  (buf = g if
//   momentum = 0). Checks lengths, shapes and rates.
void sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
              double lr, double momentum, double weight_decay, bool first_step);

}  // namespace fastebm
