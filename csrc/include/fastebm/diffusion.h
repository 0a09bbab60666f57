// The diffusion family's kernels, FEBM_HD (the CPU and CUDA drivers run the very same code), and
// its passes, written once over a driver (cpu/elementwise.h, cuda/elementwise.cuh):
//   - a per-row kernel that turns a row's timestep(s) into the coefficients of its reverse step
//     (DDPM, Ho et al. 2020; DDIM, Song et al. 2021), read from the ᾱ table on the device, so a
//     step with per-sample t never synchronises;
//   - the reverse step itself, one element-wise pass over x_t and the network's ε;
//   - the reverse kernels of Sohl-Dickstein et al. 2015: Gaussian (with the paper's mean and
//     variance parameterisation) and binomial.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <type_traits>

#include "fastebm/diffusion_ops.h"
#include "fastebm/draws.h"
#include "fastebm/math.h"

namespace fastebm {

// A row's reverse-step coefficients: with x̂₀ = clamp((x_t - s·ε)·r, ±clip),
//   x_prev = c_x0·x̂₀ + c_xt·x_t + c_eps·ε + σ·z.
enum ReverseCoef : int { kR, kS, kCx0, kCxt, kCeps, kSigma, kReverseCoefs };

// Where a step's Gaussian noise z comes from: the driver's N(0, 1) draws, a given tensor, or
// nowhere (a deterministic step: DDIM with η = 0; z = 0 and no Philox work).
enum class Noise { kDrawn, kGiven, kZero };

template <Noise N>
constexpr Draw kNoiseDraw = N == Noise::kDrawn ? Draw::kNormal : Draw::kNone;

// fn(std::integral_constant<Noise, N>{}) for the run-time noise source n: one instantiation each.
template <class Fn>
void with_noise(Noise n, const Fn& fn) {
  switch (n) {
    case Noise::kDrawn:
      return fn(std::integral_constant<Noise, Noise::kDrawn>{});
    case Noise::kGiven:
      return fn(std::integral_constant<Noise, Noise::kGiven>{});
    case Noise::kZero:
      return fn(std::integral_constant<Noise, Noise::kZero>{});
  }
}

// coef[row] from t[row] (and t_prev[row] for DDIM), in double, from ᾱ = alphas_cumprod [T]:
//   DDPM (t_prev null; ᾱ_p = ᾱ_{t-1}, ᾱ_{-1} = 1, β = 1 - ᾱ_t/ᾱ_p):
//     c_x0 = √ᾱ_p β/(1-ᾱ_t), c_xt = √(1-β)(1-ᾱ_p)/(1-ᾱ_t), c_eps = 0,
//     σ² = β(1-ᾱ_p)/(1-ᾱ_t) (fixed_large: β), σ = 0 at t = 0;
//   DDIM (ᾱ_p = ᾱ_{t_prev}, 1 for t_prev < 0):
//     σ = η √((1-ᾱ_p)/(1-ᾱ_t)) √(1-ᾱ_t/ᾱ_p), c_x0 = √ᾱ_p, c_xt = 0, c_eps = √(1-ᾱ_p-σ²);
//   both: r = 1/√ᾱ_t, s = √(1-ᾱ_t). A timestep outside the table (only possible where its values
// are not checked: CUDA without value checks) gives NaN coefficients, so NaN output.
template <class T>
struct ReverseCoefKernel {
  const T* alphas_cumprod;  // [T]
  const int64_t* t;         // [B]
  const int64_t* t_prev;    // [B] (DDIM) or null (DDPM)
  T* coef;                  // [B, kReverseCoefs]
  int64_t steps;            // T
  bool fixed_large;         // DDPM's σ² = β
  double eta;               // DDIM's η

  FEBM_HD void operator()(int64_t row) const {
    const int64_t tt = t[row];
    const int64_t tp = t_prev == nullptr ? tt - 1 : t_prev[row];
    const bool valid = tt >= 0 && tt < steps && tp >= -1 && tp < tt;
    const double ab_t = valid ? static_cast<double>(alphas_cumprod[tt]) : 0.5;
    const double ab_p = valid && tp >= 0 ? static_cast<double>(alphas_cumprod[tp]) : 1.0;
    const double one_m_t = 1.0 - ab_t, beta = 1.0 - ab_t / ab_p;
    double c[kReverseCoefs];
    c[kR] = 1.0 / sqrt_(ab_t);
    c[kS] = sqrt_(one_m_t);
    if (t_prev == nullptr) {
      c[kCx0] = sqrt_(ab_p) * beta / one_m_t;
      c[kCxt] = sqrt_(1.0 - beta) * (1.0 - ab_p) / one_m_t;
      c[kCeps] = 0.0;
      c[kSigma] = tt == 0 ? 0.0 : sqrt_(fixed_large ? beta : beta * (1.0 - ab_p) / one_m_t);
    } else {
      const double sigma = eta * sqrt_((1.0 - ab_p) / one_m_t) * sqrt_(beta);
      const double rest = 1.0 - ab_p - sigma * sigma;
      c[kCx0] = sqrt_(ab_p);
      c[kCxt] = 0.0;
      c[kCeps] = sqrt_(rest > 0.0 ? rest : 0.0);
      c[kSigma] = sigma;
    }
    const double nan = bit_cast<double>(uint64_t{0x7ff8000000000000});
    for (int k = 0; k < kReverseCoefs; ++k) {
      coef[row * kReverseCoefs + k] = static_cast<T>(valid ? c[k] : nan);
    }
  }
};

// out[i] <- one reverse step of element i of row `row` (coefficients from ReverseCoefKernel),
// z the driver's draw of element i (0 for Noise::kZero) or noise[i] (Noise::kGiven).
template <class T, Noise N>
struct ReverseStepKernel {
  const T* x;      // [B, n] x_t
  const T* eps;    // [B, n] ε̂(x_t, t)
  const T* noise;  // [B, n] (Noise::kGiven) or null
  const T* coef;   // [B, kReverseCoefs]
  T* out;          // [B, n] x_prev
  T clip;          // x̂₀'s bound (+inf: none)
  FEBM_HD void operator()(int64_t i, int64_t row, int64_t, T z) const {
    const T* c = coef + row * kReverseCoefs;
    const T x0 = (x[i] - c[kS] * eps[i]) * c[kR];
    const T lo = x0 < -clip ? -clip : x0;
    const T x0c = lo > clip ? clip : lo;
    out[i] = c[kCx0] * x0c + c[kCxt] * x[i] + c[kCeps] * eps[i] +
             c[kSigma] * (N == Noise::kGiven ? noise[i] : z);
  }
};

// Sohl-Dickstein et al. 2015's Gaussian reverse step from the network's outputs m, b at x_t:
//   μ = x_t √(1-β) + m √β,  σ² = σ(b + logit β),  out = μ + σ·z,
// with (√(1-β), √β, logit β) of row `row` in coef [R, 3] (R = B, or 1 with x run as one row).
template <class T, Noise N>
struct GaussianReverseKernel {
  const T* x;      // [B, n]
  const T* mu;     // [B, n] m
  const T* var;    // [B, n] b
  const T* noise;  // [B, n] (Noise::kGiven) or null
  const T* coef;   // [B, 3]
  T* out;          // [B, n]
  FEBM_HD void operator()(int64_t i, int64_t row, int64_t, T z) const {
    const T* c = coef + row * 3;
    const T sd = sqrt_(sigmoid(var[i] + c[2]));
    out[i] = x[i] * c[0] + mu[i] * c[1] + sd * (N == Noise::kGiven ? noise[i] : z);
  }
};

// out[i] <- 1{u < p[i]}: a binomial (Bernoulli) diffusion step.
template <class T>
struct BernoulliKernel {
  const T* p;
  T* out;
  FEBM_HD void operator()(int64_t i, int64_t, int64_t, T u) const { out[i] = u < p[i] ? T(1) : T(0); }
};

template <class Driver>
void reverse_pass(const ReverseTensors& t, bool fixed_large, double eta, double clip,
                  const Seed& seed) {
  // DDIM with η = 0 is deterministic: no draws.
  const Noise noise = t.noise.defined()                   ? Noise::kGiven
                      : t.t_prev.defined() && eta == 0.0 ? Noise::kZero
                                                          : Noise::kDrawn;
  // x as [coefficient rows, cols]: one row when every row of x shares its timesteps.
  const int64_t rows = t.coef.size(0), cols = rows == 0 ? 0 : t.x.numel() / rows;
  AT_DISPATCH_FLOATING_TYPES(t.x.scalar_type(), "fastebm::reverse_pass", [&] {
    Driver::run_rows(t.x, rows, kReverseCoefs * 8,
                     ReverseCoefKernel<scalar_t>{
                         t.alphas_cumprod.data_ptr<scalar_t>(), t.t.data_ptr<int64_t>(),
                         t.t_prev.defined() ? t.t_prev.data_ptr<int64_t>() : nullptr,
                         t.coef.data_ptr<scalar_t>(), t.alphas_cumprod.numel(), fixed_large,
                         eta});
    const auto bound = static_cast<scalar_t>(clip);
    with_noise(noise, [&](auto source) {
      constexpr Noise N = decltype(source)::value;
      Driver::template run<kNoiseDraw<N>, scalar_t>(
          t.x, rows, cols, seed, 0,
          ReverseStepKernel<scalar_t, N>{
              t.x.data_ptr<scalar_t>(), t.noise_pred.data_ptr<scalar_t>(),
              N == Noise::kGiven ? t.noise.data_ptr<scalar_t>() : nullptr,
              t.coef.data_ptr<scalar_t>(), t.out.data_ptr<scalar_t>(), bound});
    });
  });
}

template <class Driver>
void gaussian_reverse_pass(const at::Tensor& x, const at::Tensor& mu, const at::Tensor& var,
                           const at::Tensor& noise, const at::Tensor& coef, at::Tensor& out,
                           const Seed& seed) {
  // x as [coefficient rows, cols]: one row when every row of x shares its noise variance.
  const int64_t rows = coef.size(0), cols = rows == 0 ? 0 : x.numel() / rows;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::gaussian_reverse_pass", [&] {
    with_noise(noise.defined() ? Noise::kGiven : Noise::kDrawn, [&](auto source) {
      constexpr Noise N = decltype(source)::value;
      Driver::template run<kNoiseDraw<N>, scalar_t>(
          x, rows, cols, seed, 0,
          GaussianReverseKernel<scalar_t, N>{
              x.data_ptr<scalar_t>(), mu.data_ptr<scalar_t>(), var.data_ptr<scalar_t>(),
              N == Noise::kGiven ? noise.data_ptr<scalar_t>() : nullptr,
              coef.data_ptr<scalar_t>(), out.data_ptr<scalar_t>()});
    });
  });
}

template <class Driver>
void bernoulli_pass(const at::Tensor& p, at::Tensor& out, const Seed& seed) {
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "fastebm::bernoulli_pass", [&] {
    Driver::template run<Draw::kUniform, scalar_t>(
        p, 1, p.numel(), seed, 0,
        BernoulliKernel<scalar_t>{p.data_ptr<scalar_t>(), out.data_ptr<scalar_t>()});
  });
}

template <class Driver>
inline constexpr DiffusionPasses kDiffusionPasses{reverse_pass<Driver>,
                                                  gaussian_reverse_pass<Driver>,
                                                  bernoulli_pass<Driver>};

}  // namespace fastebm
