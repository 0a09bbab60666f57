// Registers the diffusion ops (ddpm_step, ddim_step, gaussian_diffusion_step,
// binomial_diffusion_step, each with its .out overload) for one backend, given that backend's
// element-wise driver:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_diffusion_ops<cpu::ElementwiseDriver>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/diffusion.h"
#include "fastebm/seed_ops.h"

namespace fastebm {

template <class Driver>
void register_diffusion_ops(torch::Library& m) {
  static constexpr const DiffusionPasses& passes = kDiffusionPasses<Driver>;
  m.impl("ddpm_step", [](const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                         const at::Tensor& alphas_cumprod, int64_t variance,
                         std::optional<double> clip_sample, const std::optional<at::Tensor>& noise,
                         int64_t seed, const OptionalGenerator& generator) {
    return ddpm_step_op(x_t, noise_pred, t, alphas_cumprod, variance, clip_sample, noise,
                        op_seed(seed, generator, x_t), std::nullopt, passes);
  });
  m.impl("ddpm_step.out",
         [](const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
            const at::Tensor& alphas_cumprod, int64_t variance, std::optional<double> clip_sample,
            const std::optional<at::Tensor>& noise, int64_t seed,
            const OptionalGenerator& generator, at::Tensor& out) {
           ddpm_step_op(x_t, noise_pred, t, alphas_cumprod, variance, clip_sample, noise,
                        op_seed(seed, generator, x_t), out, passes);
         });
  m.impl("ddim_step", [](const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                         const at::Tensor& t_prev, const at::Tensor& alphas_cumprod, double eta,
                         const std::optional<at::Tensor>& noise, int64_t seed,
                         const OptionalGenerator& generator) {
    return ddim_step_op(x_t, noise_pred, t, t_prev, alphas_cumprod, eta, noise,
                        op_seed(seed, generator, x_t), std::nullopt, passes);
  });
  m.impl("ddim_step.out",
         [](const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
            const at::Tensor& t_prev, const at::Tensor& alphas_cumprod, double eta,
            const std::optional<at::Tensor>& noise, int64_t seed,
            const OptionalGenerator& generator, at::Tensor& out) {
           ddim_step_op(x_t, noise_pred, t, t_prev, alphas_cumprod, eta, noise,
                        op_seed(seed, generator, x_t), out, passes);
         });
  m.impl("gaussian_diffusion_step",
         [](const at::Tensor& x_t, const at::Tensor& mu, const at::Tensor& var,
            const at::Tensor& noise_var, const std::optional<at::Tensor>& noise, int64_t seed,
            const OptionalGenerator& generator) {
           return gaussian_diffusion_step_op(x_t, mu, var, noise_var, noise,
                                             op_seed(seed, generator, x_t), std::nullopt, passes);
         });
  m.impl("gaussian_diffusion_step.out",
         [](const at::Tensor& x_t, const at::Tensor& mu, const at::Tensor& var,
            const at::Tensor& noise_var, const std::optional<at::Tensor>& noise, int64_t seed,
            const OptionalGenerator& generator, at::Tensor& out) {
           gaussian_diffusion_step_op(x_t, mu, var, noise_var, noise, op_seed(seed, generator, x_t),
                                      out, passes);
         });
  m.impl("binomial_diffusion_step",
         [](const at::Tensor& p, int64_t seed, const OptionalGenerator& generator) {
           return binomial_diffusion_step_op(p, op_seed(seed, generator, p), std::nullopt, passes);
         });
  m.impl("binomial_diffusion_step.out", [](const at::Tensor& p, int64_t seed,
                                           const OptionalGenerator& generator, at::Tensor& out) {
    binomial_diffusion_step_op(p, op_seed(seed, generator, p), out, passes);
  });
}

}  // namespace fastebm
