// The variational-inference op on any backend: argument checks and outputs around vi.h's pass.
#include "fastebm/vi_ops.h"

#include <ATen/ops/empty.h>

#include <c10/core/GradMode.h>

#include "fastebm/checks.h"

namespace fastebm {

std::tuple<at::Tensor, at::Tensor> reparameterize_op(const at::Tensor& mu,
                                                     const at::Tensor& log_sigma,
                                                     const std::optional<at::Tensor>& noise,
                                                     const Seed& seed, bool keep_scaled,
                                                     const ViPasses& passes) {
  const at::NoGradGuard no_grad;  // the Python wrapper registers the autograd formula
  check_float_tensor(mu, "mu", mu.dim());
  check_same_shape(log_sigma, "log_sigma", mu, "mu");
  if (noise.has_value()) check_same_shape(*noise, "noise", mu, "mu");
  const at::Tensor mu_ = mu.contiguous(), log_sigma_ = log_sigma.contiguous();
  const at::Tensor noise_ = noise.has_value() ? noise->contiguous() : at::Tensor();
  at::Tensor z = at::empty(mu.sizes(), mu.options());
  at::Tensor scaled = keep_scaled ? at::empty(mu.sizes(), mu.options()) : at::Tensor();
  passes.reparameterize(mu_, log_sigma_, noise_, z, scaled, seed);
  // Non-finite arguments make z non-finite (vi.h): its check names them.
  check_step_finite(z, {{&mu, "mu"}, {&log_sigma, "log_sigma"}, {&noise_, "noise"}});
  return {z, keep_scaled ? scaled : at::empty({0}, mu.options())};
}

}  // namespace fastebm
