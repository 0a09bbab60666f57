// The Langevin family's ops on any backend: argument checks, layouts and outputs around
// langevin.h's passes.
#include "fastebm/langevin_ops.h"

#include <ATen/ops/empty.h>

#include <c10/core/GradMode.h>

#include <initializer_list>
#include <utility>

#include "fastebm/checks.h"

namespace fastebm {
namespace {

// Refuses a step whose output holds NaN or Inf, naming the input that holds one (else the step
// itself overflowed): one pass over the output rather than one per input.
void check_step_finite(const at::Tensor& out,
                       std::initializer_list<std::pair<const at::Tensor*, const char*>> inputs) {
  if (!values_checked(out) || all_finite(out)) return;
  for (const auto& [t, name] : inputs) {
    if (t->defined()) check_finite(*t, name);
  }
  TORCH_CHECK_VALUE(false, "fastebm: the Langevin step overflowed: x - step_size * grad + "
                    "sqrt(2 step_size) * noise is too large for ", dtype_name(out.scalar_type()));
}

}  // namespace

at::Tensor langevin_step_op(const at::Tensor& x, const at::Tensor& grad, double step_size,
                            int64_t seed, const std::optional<at::Tensor>& noise,
                            const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;  // the Python wrapper registers the autograd formula
  check_float_tensor(x, "x", x.dim());
  check_same_shape(grad, "grad", x, "x");
  if (noise.has_value()) check_same_shape(*noise, "noise", x, "x");
  check_positive_finite(step_size, "step_size");
  const at::Tensor x_ = x.contiguous(), grad_ = grad.contiguous();
  const at::Tensor noise_ = noise.has_value() ? noise->contiguous() : at::Tensor();
  at::Tensor out = at::empty(x.sizes(), x.options());
  passes.langevin(x_, grad_, noise_, out, step_size, static_cast<uint64_t>(seed));
  check_step_finite(out, {{&x, "x"}, {&grad, "grad"}, {&noise_, "noise"}});
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> mala_accept_op(
    const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
    const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
    double step_size, int64_t seed, const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;
  check_float_tensor(x, "x", x.dim());
  TORCH_CHECK_VALUE(x.dim() >= 1, "fastebm: argument 'x' must have a batch dimension, got a scalar");
  check_same_shape(x_prop, "x_prop", x, "x");
  check_same_shape(grad, "grad", x, "x");
  check_same_shape(grad_prop, "grad_prop", x, "x");
  for (const auto& [t, name] : {std::pair{&energy, "energy"}, {&energy_prop, "energy_prop"}}) {
    check_float_tensor(*t, name, 1);
    check_same_kind(*t, name, x, "x");
    check_size(*t, name, 0, x.size(0), "batch = x.size(0)");
  }
  check_positive_finite(step_size, "step_size");
  // The current state must be finite; a non-finite proposal is that chain's rejection.
  check_finite(x, "x");
  check_finite(energy, "energy");
  check_finite(grad, "grad");
  MalaTensors t{x.contiguous(), x_prop.contiguous(), energy.contiguous(),
                energy_prop.contiguous(), grad.contiguous(), grad_prop.contiguous(),
                at::empty(x.sizes(), x.options()), at::empty(energy.sizes(), x.options()),
                at::empty(x.sizes(), x.options()), at::empty({x.size(0)}, x.options().dtype(at::kBool))};
  passes.mala(t, step_size, static_cast<uint64_t>(seed));
  return {t.x_out, t.energy_out, t.grad_out, t.accepted};
}

}  // namespace fastebm
