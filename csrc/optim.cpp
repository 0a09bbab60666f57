// Fused optimizer updates: one C++ call updates every parameter, so a training step of a small
// model is not dominated by Python. SGD is composed of ATen in-place ops, so one registration
// serves every device (CompositeExplicitAutograd); Adam runs adam.h's single-pass kernel on each
// backend (cpu/optim_cpu.cpp, cuda/optim_cuda.cu). Formulas are those of torch.optim.SGD / Adam.
#include <ATen/core/Tensor.h>
#include <torch/library.h>

#include <cmath>
#include <utility>


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

void adam_step_op(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                  at::TensorList exp_avg_sqs, int64_t step, double lr, double beta1,
                  double beta2, double eps, double weight_decay, const OptimPasses& passes) {
  check_lists(params, grads, exp_avgs, "exp_avgs");
  check_lists(params, grads, exp_avg_sqs, "exp_avg_sqs");
  check_at_least(step, "step", 1);
  check_rate(lr, "lr", params);
  check_rate(weight_decay, "weight_decay", params);
  TORCH_CHECK_VALUE(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0,
                    "fastebm: need 0 <= beta1, beta2 < 1 and eps > 0");
  const AdamRates rates{lr, beta1, beta2, eps, weight_decay,
                        1 - std::pow(beta1, static_cast<double>(step)),
                        std::sqrt(1 - std::pow(beta2, static_cast<double>(step)))};
  for (size_t i = 0; i < params.size(); ++i) {
    const at::ScalarType dtype = params[i].scalar_type();
    TORCH_CHECK_VALUE(at::isFloatingType(dtype), "fastebm: argument 'params' entry ", i,
                      " must be a floating tensor, got ", dtype_name(dtype));
    const std::pair<const at::Tensor&, const char*> state[] = {
        {grads[i], "grads"}, {exp_avgs[i], "exp_avgs"}, {exp_avg_sqs[i], "exp_avg_sqs"}};
    for (const auto& [t, name] : state) check_same_kind(t, name, params[i], "params");
    // float32 math for float16 / bfloat16 (rounded back, as torch.optim's opmath).
    const at::ScalarType compute =
        dtype == at::kHalf || dtype == at::kBFloat16 ? at::kFloat : dtype;
    const auto work = [&](const at::Tensor& t) {
      return t.to(compute).contiguous();
    };
    at::Tensor p = work(params[i]), m = work(exp_avgs[i]), v = work(exp_avg_sqs[i]);
    passes.adam(p, work(grads[i]), m, v, rates);
    for (auto [out, value] : {std::pair{params[i], p}, {exp_avgs[i], m}, {exp_avg_sqs[i], v}}) {
      if (!out.is_same(value)) at::Tensor(out).copy_(value);
    }
  }
}

TORCH_LIBRARY_IMPL(fastebm, CompositeExplicitAutograd, m) {
  m.impl("sgd_step_", sgd_step);
}

}  // namespace fastebm
