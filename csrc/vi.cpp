// The variational-inference op on any backend: argument checks and outputs around vi.h's pass.
#include "fastebm/vi_ops.h"

#include <ATen/ops/empty.h>

#include <c10/core/GradMode.h>

#include "fastebm/checks.h"

namespace fastebm {

std::tuple<at::Tensor, at::Tensor> reparameterize_op(const at::Tensor& mu,
                                                     const at::Tensor& log_sigma,
                                                     const std::optional<at::Tensor>& noise,
                                                     int64_t seed, const ViPasses& passes) {
  const at::NoGradGuard no_grad;  // the Python wrapper registers the autograd formula
  check_float_tensor(mu, "mu", mu.dim());
  check_same_shape(log_sigma, "log_sigma", mu, "mu");
  if (noise.has_value()) check_same_shape(*noise, "noise", mu, "mu");
  check_finite(mu, "mu");
  check_finite(log_sigma, "log_sigma");
  if (noise.has_value()) check_finite(*noise, "noise");
  const at::Tensor mu_ = mu.contiguous(), log_sigma_ = log_sigma.contiguous();
  const at::Tensor noise_ = noise.has_value() ? noise->contiguous() : at::Tensor();
  at::Tensor z = at::empty(mu.sizes(), mu.options());
  at::Tensor scaled = at::empty(mu.sizes(), mu.options());
  passes.reparameterize(mu_, log_sigma_, noise_, z, scaled, static_cast<uint64_t>(seed));
  check_step_finite(z, {{&mu, "mu"}, {&log_sigma, "log_sigma"}});
  return {z, scaled};
}

}  // namespace fastebm
