// The Langevin family's ops on any backend: argument checks, layouts and outputs around
// langevin.h's passes.
#include "fastebm/langevin_ops.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>

#include <c10/core/GradMode.h>

#include "fastebm/checks.h"
#include "fastebm/gmm_chains.h"

namespace fastebm {
namespace {

// The elements of one row of x [B, ...].
int64_t row_size(const at::Tensor& x) {
  int64_t d = 1;
  for (int64_t k = 1; k < x.dim(); ++k) d *= x.size(k);
  return d;
}

// inv_mass [D] finite and > 0 for x [B, ...] (undefined: ones).
at::Tensor checked_inv_mass(const std::optional<at::Tensor>& inv_mass, const at::Tensor& x) {
  if (!inv_mass.has_value()) return at::ones({row_size(x)}, x.options());
  check_float_tensor(*inv_mass, "inv_mass", 1);
  check_same_kind(*inv_mass, "inv_mass", x, "x");
  check_size(*inv_mass, "inv_mass", 0, row_size(x), "the elements of one row of x");
  check_finite(*inv_mass, "inv_mass");
  check_positive(*inv_mass, "inv_mass");
  return inv_mass->contiguous();
}

// The checks every Metropolis step shares, and its tensors (outputs allocated). The current
// state must be finite; a non-finite proposal is that chain's rejection.
MetropolisTensors metropolis_tensors(const at::Tensor& x, const at::Tensor& x_prop,
                                     const at::Tensor& energy, const at::Tensor& energy_prop,
                                     const at::Tensor& grad, const at::Tensor& grad_prop,
                                     double step_size) {
  check_batched(x, "x");
  check_same_shape(x_prop, "x_prop", x, "x");
  check_same_shape(grad, "grad", x, "x");
  check_same_shape(grad_prop, "grad_prop", x, "x");
  for (const auto& [t, name] : {std::pair{&energy, "energy"}, {&energy_prop, "energy_prop"}}) {
    check_float_tensor(*t, name, 1);
    check_same_kind(*t, name, x, "x");
    check_size(*t, name, 0, x.size(0), "batch = x.size(0)");
  }
  check_scalar(step_size, "step_size", x.scalar_type(), true);
  check_finite(x, "x");
  check_finite(energy, "energy");
  check_finite(grad, "grad");
  return {x.contiguous(), x_prop.contiguous(), energy.contiguous(), energy_prop.contiguous(),
          grad.contiguous(), grad_prop.contiguous(), at::empty(x.sizes(), x.options()),
          at::empty({x.size(0)}, x.options()), at::empty(x.sizes(), x.options()),
          at::empty({x.size(0)}, x.options().dtype(at::kBool))};
}

}  // namespace

at::Tensor langevin_step_op(const at::Tensor& x, const at::Tensor& grad, double step_size,
                            const Seed& seed, const std::optional<at::Tensor>& noise,
                            const std::optional<at::Tensor>& out, const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;  // the Python wrapper registers the autograd formula
  check_float_tensor(x, "x", x.dim());
  check_same_shape(grad, "grad", x, "x");
  if (noise.has_value()) check_same_shape(*noise, "noise", x, "x");
  check_scalar(step_size, "step_size", x.scalar_type(), true);
  const at::Tensor x_ = x.contiguous(), grad_ = grad.contiguous();
  const at::Tensor noise_ = noise.has_value() ? noise->contiguous() : at::Tensor();
  at::Tensor result = output_for(out, x, "x", {&x_, &grad_, &noise_});
  passes.langevin(x_, grad_, noise_, result, step_size, seed);
  check_step_finite(result, {{&x, "x"}, {&grad, "grad"}, {&noise_, "noise"}});
  return result;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> mala_accept_op(
    const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
    const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
    double step_size, const Seed& seed, const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;
  const MetropolisTensors t =
      metropolis_tensors(x, x_prop, energy, energy_prop, grad, grad_prop, step_size);
  passes.mala(t, step_size, seed);
  return {t.x_out, t.energy_out, t.grad_out, t.accepted};
}

std::tuple<at::Tensor, at::Tensor> leapfrog_step_op(const at::Tensor& x, const at::Tensor& p,
                                                    const at::Tensor& grad, double step_size,
                                                    const std::optional<at::Tensor>& inv_mass,
                                                    double momentum_step,
                                                    const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;
  check_batched(x, "x");
  check_same_shape(p, "p", x, "x");
  check_same_shape(grad, "grad", x, "x");
  check_scalar(step_size, "step_size", x.scalar_type(), true);
  TORCH_CHECK_VALUE(momentum_step > 0 && momentum_step <= 1, "fastebm: argument "
                    "'momentum_step' must be in (0, 1], got ", momentum_step);
  const at::Tensor m = inv_mass.has_value() ? checked_inv_mass(inv_mass, x) : at::Tensor();
  const LeapfrogTensors t{x.contiguous(), p.contiguous(), grad.contiguous(), m,
                          at::empty(x.sizes(), x.options()), at::empty(x.sizes(), x.options())};
  // Values are not checked: a diverging trajectory carries its Inf / NaN to hmc_accept, which
  // rejects that chain.
  passes.leapfrog(t, step_size, momentum_step);
  return {t.x_out, t.p_out};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> hmc_accept_op(
    const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
    const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
    const at::Tensor& p0, const at::Tensor& p_half, const std::optional<at::Tensor>& inv_mass,
    double step_size, const Seed& seed, const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;
  const MetropolisTensors t =
      metropolis_tensors(x, x_prop, energy, energy_prop, grad, grad_prop, step_size);
  check_same_shape(p0, "p0", x, "x");
  check_same_shape(p_half, "p_half", x, "x");
  check_finite(p0, "p0");
  const at::Tensor m = checked_inv_mass(inv_mass, x);
  passes.hmc(t, p0.contiguous(), p_half.contiguous(), m, step_size, seed);
  return {t.x_out, t.energy_out, t.grad_out, t.accepted};
}

std::tuple<at::Tensor, at::Tensor> gmm_langevin_op(
    const at::Tensor& x, const at::Tensor& log_weights, const at::Tensor& means,
    const at::Tensor& stds, double step_size, int64_t n_steps, bool mala, const Seed& seed,
    int64_t step0, const LangevinPasses& passes) {
  const at::NoGradGuard no_grad;
  check_float_tensor(x, "x", 2);
  check_float_tensor(means, "means", 2);
  check_same_kind(means, "means", x, "x");
  check_size(means, "means", 1, x.size(1), "D = x.size(1)");
  check_same_shape(stds, "stds", means, "means");
  check_float_tensor(log_weights, "log_weights", 1);
  check_same_kind(log_weights, "log_weights", x, "x");
  check_size(log_weights, "log_weights", 0, means.size(0), "K = means.size(0)");
  TORCH_CHECK_VALUE(x.size(1) >= 1 && x.size(1) <= kGmmMaxDim, "fastebm: argument 'x' must have "
                    "1 to ", kGmmMaxDim, " dimensions per chain for the mixture kernel, got ",
                    x.size(1));
  TORCH_CHECK_VALUE(means.size(0) >= 1 && means.size(0) <= kGmmMaxComponents,
                    "fastebm: argument 'means' must hold 1 to ", kGmmMaxComponents,
                    " components, got ", means.size(0));
  check_scalar(step_size, "step_size", x.scalar_type(), true);
  check_at_least(n_steps, "n_steps", 1);
  check_at_least(step0, "step0", 0);
  check_finite(x, "x");
  check_finite(means, "means");
  check_finite(stds, "stds");
  check_positive(stds, "stds");
  check_finite(log_weights, "log_weights");
  const double half_log_2pi = 0.9189385332046727;
  const at::Tensor log_coef = log_weights.sub(stds.log().sum(1))
                                  .sub(half_log_2pi * static_cast<double>(x.size(1)))
                                  .contiguous();
  const at::Tensor inv_var = stds.square().reciprocal().contiguous();
  if (values_checked(x)) {
    TORCH_CHECK_VALUE(all_finite(inv_var) && all_finite(log_coef), "fastebm: argument 'stds' is "
                      "too small or too large for ", dtype_name(x.scalar_type()),
                      ": 1 / std² or log std overflows");
  }
  at::Tensor out = x.contiguous().clone();
  at::Tensor accepted = at::zeros({x.size(0)}, x.options().dtype(at::kLong));
  passes.gmm_chains(out, accepted, log_coef, means.contiguous(), inv_var, step_size, n_steps,
                    step0, mala, seed);
  if (values_checked(out)) {
    TORCH_CHECK_VALUE(all_finite(out), "fastebm: the chains diverged (NaN or Inf within ",
                      n_steps, " steps): lower 'step_size', or start 'x' nearer the mixture");
  }
  return {out, accepted};
}

}  // namespace fastebm
