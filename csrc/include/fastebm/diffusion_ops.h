// The diffusion family's ops, written once for every backend over DiffusionPasses: diffusion.h's
// kernels on a backend's driver.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

#include "fastebm/seed.h"

namespace fastebm {

// Every step op writes a fresh output, or `out` when given (the `.out` overloads): x_t's shape,
// dtype and device, contiguous; it may be x_t itself (checks.h output_for).

// The tensors of one DDPM / DDIM reverse step: x, noise_pred, out [B, ...] (noise likewise, or
// undefined: drawn), t [R] and t_prev [R] (DDIM; undefined for DDPM) int64, alphas_cumprod [T],
// coef [R, kReverseCoefs] scratch, R = B (a timestep per row) or 1 (every row shares them: x is
// run as one row). All contiguous, x's dtype and device.
struct ReverseTensors {
  at::Tensor x, noise_pred, noise, t, t_prev, alphas_cumprod, coef, out;
};

struct DiffusionPasses {
  // Each row's coefficients (diffusion.h ReverseCoefKernel), then out <- the reverse step, z the
  // driver's N(0, 1) draws of (seed, element, offset 0) or t.noise; clip: x̂₀'s bound (+inf: none).
  void (*reverse)(const ReverseTensors& t, bool fixed_large, double eta, double clip,
                  const Seed& seed);
  // out <- x √(1-β) + mu √β + √σ(var + logit β) z, coef [R, 3] = (√(1-β), √β, logit β) per row
  // (R = B, or 1: one β for every row).
  void (*gaussian)(const at::Tensor& x, const at::Tensor& mu, const at::Tensor& var,
                   const at::Tensor& noise, const at::Tensor& coef, at::Tensor& out,
                   const Seed& seed);
  // out <- 1{u < p}, u the driver's uniforms of (seed, element, offset 0).
  void (*bernoulli)(const at::Tensor& p, at::Tensor& out, const Seed& seed);
};

// One DDPM reverse step (Ho et al. 2020) per row of x_t [B, ...] at its own timestep t [B] (or
// t [1]: every row's; int64, in [0, T)), from the network's ε [B, ...] and ᾱ = alphas_cumprod [T] (in (0, 1),
// strictly decreasing); variance 0: "fixed_small", 1: "fixed_large"; clip_sample > 0 bounds x̂₀.
at::Tensor ddpm_step_op(const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                        const at::Tensor& alphas_cumprod, int64_t variance,
                        std::optional<double> clip_sample, const std::optional<at::Tensor>& noise,
                        const Seed& seed, const std::optional<at::Tensor>& out,
                        const DiffusionPasses& passes);

// One DDIM step (Song et al. 2021) from t [B] to t_prev [B] (either [1]: every row's;
// -1 <= t_prev < t; -1: to x₀), η = eta >= 0.
at::Tensor ddim_step_op(const at::Tensor& x_t, const at::Tensor& noise_pred, const at::Tensor& t,
                        const at::Tensor& t_prev, const at::Tensor& alphas_cumprod, double eta,
                        const std::optional<at::Tensor>& noise, const Seed& seed,
                        const std::optional<at::Tensor>& out, const DiffusionPasses& passes);

// Sohl-Dickstein et al. 2015's Gaussian reverse step: x_t, mu (m), var (b) [B, ...], noise_var [B]
// or [1] (every row's), in (0, 1): x_{t-1} ~ N(x_t √(1-β) + m √β, σ(b + logit β)).
at::Tensor gaussian_diffusion_step_op(const at::Tensor& x_t, const at::Tensor& mu,
                                      const at::Tensor& var, const at::Tensor& noise_var,
                                      const std::optional<at::Tensor>& noise, const Seed& seed,
                                      const std::optional<at::Tensor>& out,
                                      const DiffusionPasses& passes);

// A binomial diffusion step: x ~ Bernoulli(p), p in [0, 1] of any shape.
at::Tensor binomial_diffusion_step_op(const at::Tensor& p, const Seed& seed,
                                      const std::optional<at::Tensor>& out,
                                      const DiffusionPasses& passes);

}  // namespace fastebm
