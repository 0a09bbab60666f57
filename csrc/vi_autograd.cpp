// reparameterize's autograd formula, in C++: a VAE calls the op once per training step on a small
// [B, D] batch, where a Python autograd formula (torch.library.register_autograd) costs more
// than the draw itself. The op returns (z, s = σ ⊙ ε) with z = μ + s, so
//   ∂z/∂μ = 1,  ∂z/∂log σ = ∂s/∂log σ = s,  ∂z/∂ε = ∂s/∂ε = σ (only when ε is given);
// s is saved as an output, so the second derivative flows through it (gradgradcheck).
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/add.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/mul.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

namespace fastebm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::tuple<at::Tensor, at::Tensor> reparameterize_below_autograd(
    const at::Tensor& mu, const at::Tensor& log_sigma, const std::optional<at::Tensor>& noise,
    int64_t seed, bool keep_scaled, const std::optional<at::Generator>& generator) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("fastebm::reparameterize", "")
                             .typed<std::tuple<at::Tensor, at::Tensor>(
                                 const at::Tensor&, const at::Tensor&,
                                 const std::optional<at::Tensor>&, int64_t, bool,
                                 const std::optional<at::Generator>&)>();
  const at::AutoDispatchBelowADInplaceOrView below;
  return op.call(mu, log_sigma, noise, seed, keep_scaled, generator);
}

struct Reparameterize : torch::autograd::Function<Reparameterize> {
  // inputs: mu, log_sigma [any shape], noise (ε, that shape) or none.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& mu,
                               const at::Tensor& log_sigma, const std::optional<at::Tensor>& noise,
                               int64_t seed, bool keep_scaled,
                               const std::optional<at::Generator>& generator) {
    TORCH_CHECK(keep_scaled,
                "fastebm::reparameterize with keep_scaled=False has no backward: call it with "
                "keep_scaled=True where a gradient is wanted");
    auto [z, scaled] =
        reparameterize_below_autograd(mu, log_sigma, noise, seed, keep_scaled, generator);
    ctx->save_for_backward({noise.has_value() ? log_sigma : at::Tensor(), scaled});
    return {z, scaled};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& log_sigma = saved[0];
    const at::Tensor upstream = grads[1].defined() ? at::add(grads[0], grads[1]) : grads[0];
    return {grads[0], at::mul(upstream, saved[1]),
            log_sigma.defined() ? at::mul(upstream, at::exp(log_sigma)) : at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

std::tuple<at::Tensor, at::Tensor> reparameterize_autograd(
    const at::Tensor& mu, const at::Tensor& log_sigma, const std::optional<at::Tensor>& noise,
    int64_t seed, bool keep_scaled, const std::optional<at::Generator>& generator) {
  const bool wanted = at::GradMode::is_enabled() &&
                      (mu.requires_grad() || log_sigma.requires_grad() ||
                       (noise.has_value() && noise->requires_grad()));
  if (!wanted) {
    return reparameterize_below_autograd(mu, log_sigma, noise, seed, keep_scaled, generator);
  }
  const variable_list out =
      Reparameterize::apply(mu, log_sigma, noise, seed, keep_scaled, generator);
  return {out[0], out[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, Autograd, m) { m.impl("reparameterize", reparameterize_autograd); }

}  // namespace fastebm
