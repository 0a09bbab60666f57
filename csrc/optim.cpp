// Fused optimizer updates: one C++ call updates every parameter, so a training step of a small
// model is not dominated by Python. Composed of ATen in-place ops, so one registration serves
// every device (CompositeExplicitAutograd). Formulas are those of torch.optim.SGD / Adam.
#include <ATen/core/Tensor.h>
#include <torch/library.h>


#include "fastebm/checks.h"
#include "fastebm/optim.h"

namespace fastebm {
namespace {

void check_lists(at::TensorList params, at::TensorList grads, at::TensorList state,
                 const char* state_name) {
  TORCH_CHECK_VALUE(params.size() == grads.size() && params.size() == state.size(),
                    "fastebm: params, grads and ", state_name, " must have the same length");
  for (size_t i = 0; i < params.size(); ++i) {
    TORCH_CHECK_VALUE(grads[i].sizes() == params[i].sizes() &&
                          state[i].sizes() == params[i].sizes(),
                      "fastebm: argument 'grads' / '", state_name, "' entry ", i,
                      " does not match its parameter's shape ", params[i].sizes());
  }
}

// A rate >= 0 that every parameter's dtype holds (an lr of 1e300 is finite as a double only).
void check_rate(double value, const char* name, at::TensorList params) {
  for (const at::Tensor& p : params) check_scalar(value, name, p.scalar_type());
  TORCH_CHECK_VALUE(value >= 0, "fastebm: argument '", name, "' must be >= 0, got ", value);
}

}  // namespace

void sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
              double lr, double momentum, double weight_decay, bool first_step) {
  check_lists(params, grads, momentum_buffers, "momentum_buffers");
  check_rate(lr, "lr", params);
  check_rate(momentum, "momentum", params);
  check_rate(weight_decay, "weight_decay", params);
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i], buf = momentum_buffers[i];
    at::Tensor g = weight_decay != 0 ? grads[i].add(p, weight_decay) : grads[i];
    if (momentum == 0) {
      p.sub_(g, lr);
      continue;
    }
    if (first_step) {
      buf.copy_(g);
    } else {
      buf.mul_(momentum).add_(g);
    }
    p.sub_(buf, lr);
  }
}

namespace {

// Adam (Kingma & Ba 2015), as torch.optim.Adam with L2 weight decay: g = grad + wd·p;
//   m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;
//   p -= lr / (1-β1ᵗ) · m / (√v / √(1-β2ᵗ) + eps),  t = step (>= 1).
void adam_step(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
               at::TensorList exp_avg_sqs, int64_t step, double lr, double beta1, double beta2,
               double eps, double weight_decay) {
  check_lists(params, grads, exp_avgs, "exp_avgs");
  check_lists(params, grads, exp_avg_sqs, "exp_avg_sqs");
  check_at_least(step, "step", 1);
  check_rate(lr, "lr", params);
  check_rate(weight_decay, "weight_decay", params);
  TORCH_CHECK_VALUE(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0,
                    "fastebm: need 0 <= beta1, beta2 < 1 and eps > 0");
  const double bias1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias2_sqrt = std::sqrt(1 - std::pow(beta2, static_cast<double>(step)));
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i], m = exp_avgs[i], v = exp_avg_sqs[i];
    at::Tensor g = weight_decay != 0 ? grads[i].add(p, weight_decay) : grads[i];
    m.lerp_(g, 1 - beta1);
    v.mul_(beta2).addcmul_(g, g, 1 - beta2);
    p.addcdiv_(m, v.sqrt().div_(bias2_sqrt).add_(eps), -lr / bias1);
  }
}

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CompositeExplicitAutograd, m) {
  m.impl("sgd_step_", sgd_step);
  m.impl("adam_step_", adam_step);
}

}  // namespace fastebm
