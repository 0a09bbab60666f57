// The variational-inference family's per-element kernel (FEBM_HD: the CPU and CUDA drivers run
// the very same code) and its pass, written once over a driver (cpu/elementwise.h,
// cuda/elementwise.cuh).
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include <type_traits>

#include "fastebm/draws.h"
#include "fastebm/math.h"
#include "fastebm/vi_ops.h"

namespace fastebm {

// z[i] <- mu[i] + scaled[i], scaled[i] = exp(log_sigma[i]) · ε (exp_full: e^x wherever it is
// finite), ε the driver's N(0, 1) draw of element i, or noise[i] when kExplicitNoise; scaled is
// written only when kScaled (σ ⊙ ε is ∂z/∂log σ: the backward pass reads it). A non-finite
// log σ (-Inf included, whose σ would be 0) makes z NaN: + (log σ - log σ), 0 for a finite one,
// so the op's check of z alone names every bad argument.
template <class T, bool kExplicitNoise, bool kScaled>
struct ReparameterizeKernel {
  const T* mu;         // [n]
  const T* log_sigma;  // [n]
  const T* noise;      // [n] (kExplicitNoise) or null
  T* z;                // [n]
  T* scaled;           // [n] (kScaled) or null
  FEBM_HD void operator()(int64_t i, int64_t, int64_t, T draw) const {
    const T ls = log_sigma[i];
    const T step = exp_full(ls) * (kExplicitNoise ? noise[i] : draw) + (ls - ls);
    z[i] = mu[i] + step;
    if constexpr (kScaled) scaled[i] = step;
  }
};

template <class Driver>
void reparameterize_pass(const at::Tensor& mu, const at::Tensor& log_sigma, const at::Tensor& noise,
                         at::Tensor& z, at::Tensor& scaled, const Seed& seed) {
  AT_DISPATCH_FLOATING_TYPES(mu.scalar_type(), "fastebm::reparameterize_pass", [&] {
    const scalar_t *m = mu.data_ptr<scalar_t>(), *ls = log_sigma.data_ptr<scalar_t>();
    scalar_t* zp = z.data_ptr<scalar_t>();
    const auto run = [&](auto explicit_noise, auto keep_scaled) {
      constexpr bool kNoise = decltype(explicit_noise)::value;
      constexpr bool kScaled = decltype(keep_scaled)::value;
      Driver::template run<kNoise ? Draw::kNone : Draw::kNormal, scalar_t>(
          mu, 1, mu.numel(), seed, 0,
          ReparameterizeKernel<scalar_t, kNoise, kScaled>{
              m, ls, kNoise ? noise.data_ptr<scalar_t>() : nullptr, zp,
              kScaled ? scaled.data_ptr<scalar_t>() : nullptr});
    };
    const auto with_scaled = [&](auto explicit_noise) {
      if (scaled.defined()) {
        run(explicit_noise, std::true_type{});
      } else {
        run(explicit_noise, std::false_type{});
      }
    };
    if (noise.defined()) {
      with_scaled(std::true_type{});
    } else {
      with_scaled(std::false_type{});
    }
  });
}

template <class Driver>
inline constexpr ViPasses kViPasses{reparameterize_pass<Driver>};

}  // namespace fastebm
