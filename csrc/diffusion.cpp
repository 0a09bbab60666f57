// The diffusion family's ops on any backend: argument checks, layouts and outputs around
// diffusion.h's passes. Value checks (timesteps in range, ᾱ monotone, finite outputs) read
// device memory: always on the CPU, on CUDA only with value checks on (checks.h), so a sampling
// loop never synchronises by default.
#include "fastebm/diffusion_ops.h"

#include <ATen/ops/any.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/ge.h>
#include <ATen/ops/gt.h>
#include <ATen/ops/le.h>
#include <ATen/ops/logical_and.h>
#include <ATen/ops/logical_not.h>
#include <ATen/ops/lt.h>
#include <ATen/ops/stack.h>

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "fastebm/checks.h"
#include "fastebm/diffusion.h"

namespace fastebm {
namespace {

// A per-row value v: [B] (one per row of x, B = x.size(0)) or [1] (every row).
void check_per_row(const at::Tensor& v, const char* name, const at::Tensor& x) {
  TORCH_CHECK_VALUE(v.size(0) == 1 || v.size(0) == x.size(0), "fastebm: argument '", name,
                    "' has shape ", v.sizes(), " but must have one value per row of 'x_t' (",
                    x.size(0), ") or one for every row (1)");
}

// t [B] or [1] int64 on x's device.
void check_timesteps(const at::Tensor& t, const char* name, const at::Tensor& x) {
  TORCH_CHECK_VALUE(t.dim() == 1 && t.scalar_type() == at::kLong, "fastebm: argument '", name,
                    "' must be a 1-D int64 tensor of timesteps, got ", dtype_name(t.scalar_type()),
                    " of shape ", t.sizes());
  TORCH_CHECK_VALUE(t.device() == x.device(), "fastebm: argument '", name, "' is on ",
                    t.device(), " but 'x_t' is on ", x.device());
  check_per_row(t, name, x);
}

// v [1] or [rows] as [rows].
at::Tensor per_row(const at::Tensor& v, int64_t rows) {
  return v.expand({rows}).contiguous();
}

// Raises unless every value of `bad` (a bool tensor) is false.
void check_none(const at::Tensor& bad, const char* name, const char* what) {
  TORCH_CHECK_VALUE(!at::any(bad).item<bool>(), "fastebm: argument '", name, "' ", what);
}

// A small per-row table (ᾱ [T], t [B]) as a contiguous host tensor: its value checks loop on the
// host (on CUDA after a copy, made only with value checks on) instead of launching a dozen
// element-wise ops at every sampling step.
at::Tensor on_host(const at::Tensor& v) {
  return v.to(at::kCPU).contiguous();
}

// ᾱ [T]: x's dtype and device, every value in (0, 1), strictly decreasing.
void check_alphas_cumprod(const at::Tensor& ac, const at::Tensor& x) {
  check_float_tensor(ac, "alphas_cumprod", 1);
  check_same_kind(ac, "alphas_cumprod", x, "x_t");
  TORCH_CHECK_VALUE(ac.numel() >= 1, "fastebm: argument 'alphas_cumprod' is empty");
  if (!values_checked(ac)) return;
  AT_DISPATCH_FLOATING_TYPES(ac.scalar_type(), "fastebm::check_alphas_cumprod", [&] {
    const at::Tensor host = on_host(ac);
    const scalar_t* a = host.const_data_ptr<scalar_t>();  // [T]
    for (int64_t i = 0; i < host.numel(); ++i) {
      TORCH_CHECK_VALUE(a[i] > 0 && a[i] < 1, "fastebm: argument 'alphas_cumprod' must lie in "
                        "(0, 1) (a NaN or a value out of range)");
    }
    for (int64_t i = 1; i < host.numel(); ++i) {
      TORCH_CHECK_VALUE(a[i] < a[i - 1], "fastebm: argument 'alphas_cumprod' must be strictly "
                        "decreasing in t");
    }
  });
}

// t in [0, T), and t_prev (if defined) in [-1, t); t, t_prev [B] or [1] (every row's).
void check_timestep_values(const at::Tensor& t, const at::Tensor& t_prev, int64_t steps) {
  const at::Tensor th = on_host(t);
  const int64_t* tv = th.const_data_ptr<int64_t>();
  for (int64_t i = 0; i < th.numel(); ++i) {
    TORCH_CHECK_VALUE(tv[i] >= 0 && tv[i] < steps, "fastebm: argument 't' must lie in [0, T), "
                      "T = alphas_cumprod.size(0)");
  }
  if (!t_prev.defined()) return;
  const at::Tensor ph = on_host(t_prev);
  const int64_t* pv = ph.const_data_ptr<int64_t>();
  for (int64_t i = 0; i < std::max(th.numel(), ph.numel()); ++i) {
    const int64_t p = pv[ph.numel() == 1 ? 0 : i], now = tv[th.numel() == 1 ? 0 : i];
    TORCH_CHECK_VALUE(p >= -1 && p < now, "fastebm: argument 't_prev' must lie in [-1, t) (-1: "
                      "the step to x_0)");
  }
}

ReverseTensors reverse_tensors(const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                               const at::Tensor& t_prev, const at::Tensor& ac,
                               const std::optional<at::Tensor>& noise,
                               const std::optional<at::Tensor>& out) {
  check_batched(x_t, "x_t");
  check_same_shape(noise_pred, "noise_pred", x_t, "x_t");
  if (noise.has_value()) check_same_shape(*noise, "noise", x_t, "x_t");
  check_timesteps(t, "t", x_t);
  if (t_prev.defined()) check_timesteps(t_prev, "t_prev", x_t);
  check_alphas_cumprod(ac, x_t);
  if (values_checked(t)) check_timestep_values(t, t_prev, ac.numel());
  // One coefficient row for every row of x when every timestep is shared, else one per row.
  const bool shared = t.size(0) == 1 && (!t_prev.defined() || t_prev.size(0) == 1);
  const int64_t rows = shared ? 1 : x_t.size(0);
  const at::Tensor x = x_t.contiguous(), eps = noise_pred.contiguous();
  const at::Tensor z = noise.has_value() ? noise->contiguous() : at::Tensor();
  return {x,
          eps,
          z,
          per_row(t, rows),
          t_prev.defined() ? per_row(t_prev, rows) : at::Tensor(),
          ac.contiguous(),
          at::empty({rows, kReverseCoefs}, x_t.options()),
          output_for(out, x_t, "x_t", {&x, &eps, &z})};
}

}  // namespace

at::Tensor ddpm_step_op(const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                        const at::Tensor& alphas_cumprod, int64_t variance,
                        std::optional<double> clip_sample, const std::optional<at::Tensor>& noise,
                        const Seed& seed, const std::optional<at::Tensor>& out,
                        const DiffusionPasses& passes) {
  const at::NoGradGuard no_grad;
  const ReverseTensors r =
      reverse_tensors(x_t, noise_pred, t, at::Tensor(), alphas_cumprod, noise, out);
  TORCH_CHECK_VALUE(variance == 0 || variance == 1, "fastebm: argument 'variance' must be 0 "
                    "(fixed_small) or 1 (fixed_large), got ", variance);
  if (clip_sample.has_value()) check_scalar(*clip_sample, "clip_sample", r.x.scalar_type(), true);
  passes.reverse(r, variance == 1, 0.0,
                 clip_sample.value_or(std::numeric_limits<double>::infinity()),
                 seed);
  check_step_finite(r.out, {{&r.x, "x_t"}, {&r.noise_pred, "noise_pred"}, {&r.noise, "noise"}});
  return r.out;
}

at::Tensor ddim_step_op(const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                        const at::Tensor& t_prev, const at::Tensor& alphas_cumprod, double eta,
                        const std::optional<at::Tensor>& noise, const Seed& seed,
                        const std::optional<at::Tensor>& out, const DiffusionPasses& passes) {
  const at::NoGradGuard no_grad;
  const ReverseTensors r = reverse_tensors(x_t, noise_pred, t, t_prev, alphas_cumprod, noise, out);
  check_scalar(eta, "eta", r.x.scalar_type());
  TORCH_CHECK_VALUE(eta >= 0, "fastebm: argument 'eta' must be >= 0, got ", eta);
  passes.reverse(r, false, eta, std::numeric_limits<double>::infinity(),
                 seed);
  check_step_finite(r.out, {{&r.x, "x_t"}, {&r.noise_pred, "noise_pred"}, {&r.noise, "noise"}});
  return r.out;
}

at::Tensor gaussian_diffusion_step_op(const at::Tensor& x_t, const at::Tensor& mu,
                                      const at::Tensor& var, const at::Tensor& noise_var,
                                      const std::optional<at::Tensor>& noise, const Seed& seed,
                                      const std::optional<at::Tensor>& out,
                                      const DiffusionPasses& passes) {
  const at::NoGradGuard no_grad;
  check_batched(x_t, "x_t");
  check_same_shape(mu, "mu", x_t, "x_t");
  check_same_shape(var, "var", x_t, "x_t");
  if (noise.has_value()) check_same_shape(*noise, "noise", x_t, "x_t");
  check_float_tensor(noise_var, "noise_var", 1);
  check_same_kind(noise_var, "noise_var", x_t, "x_t");
  check_per_row(noise_var, "noise_var", x_t);
  if (values_checked(noise_var)) {
    check_none(at::logical_and(at::gt(noise_var, 0), at::lt(noise_var, 1)).logical_not(), "noise_var",
               "must lie in (0, 1)");
  }
  const at::Tensor b = noise_var.to(at::kDouble);
  const at::Tensor coef =
      at::stack({b.neg().add(1).sqrt(), b.sqrt(), b.log().sub(b.neg().log1p())}, 1).to(x_t.scalar_type());
  const at::Tensor noise_ = noise.has_value() ? noise->contiguous() : at::Tensor();
  const at::Tensor x_ = x_t.contiguous(), mu_ = mu.contiguous(), var_ = var.contiguous();
  at::Tensor result = output_for(out, x_t, "x_t", {&x_, &mu_, &var_, &noise_});
  passes.gaussian(x_, mu_, var_, noise_, coef, result, seed);
  check_step_finite(result, {{&x_, "x_t"}, {&mu_, "mu"}, {&var_, "var"}, {&noise_, "noise"}});
  return result;
}

at::Tensor binomial_diffusion_step_op(const at::Tensor& p, const Seed& seed,
                                      const std::optional<at::Tensor>& out,
                                      const DiffusionPasses& passes) {
  const at::NoGradGuard no_grad;
  check_float_tensor(p, "p", p.dim());
  if (values_checked(p)) {
    check_none(at::logical_and(at::ge(p, 0), at::le(p, 1)).logical_not(), "p",
               "must lie in [0, 1] (probabilities; no NaN)");
  }
  const at::Tensor p_ = p.contiguous();
  at::Tensor result = output_for(out, p, "p", {&p_});
  passes.bernoulli(p_, result, seed);
  return result;
}

}  // namespace fastebm
