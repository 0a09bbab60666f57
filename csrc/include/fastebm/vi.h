// The variational-inference family's per-element kernel (FEBM_HD: the CPU and CUDA drivers run
// the very same code) and its pass, written once over a driver (cpu/elementwise.h,
// cuda/elementwise.cuh).
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include "fastebm/draws.h"
#include "fastebm/math.h"
#include "fastebm/vi_ops.h"

namespace fastebm {

// scaled[i] <- exp(log_sigma[i]) · ε (exp_full: e^x wherever it is finite) and z[i] <- mu[i] + scaled[i]: ε the driver's N(0, 1) draw of
// element i, or noise[i] when kExplicitNoise. (σ ⊙ ε is ∂z/∂log σ: the backward pass reads it.)
template <class T, bool kExplicitNoise>
struct ReparameterizeKernel {
  const T* mu;         // [n]
  const T* log_sigma;  // [n]
  const T* noise;      // [n] (kExplicitNoise) or null
  T* z;                // [n]
  T* scaled;           // [n]
  FEBM_HD void operator()(int64_t i, int64_t, int64_t, T draw) const {
    const T step = exp_full(log_sigma[i]) * (kExplicitNoise ? noise[i] : draw);
    z[i] = mu[i] + step;
    scaled[i] = step;
  }
};

template <class Driver>
void reparameterize_pass(const at::Tensor& mu, const at::Tensor& log_sigma,
                         const at::Tensor& noise, at::Tensor& z, at::Tensor& scaled, uint64_t seed) {
  AT_DISPATCH_FLOATING_TYPES(mu.scalar_type(), "fastebm::reparameterize_pass", [&] {
    const scalar_t *m = mu.data_ptr<scalar_t>(), *ls = log_sigma.data_ptr<scalar_t>();
    scalar_t *zp = z.data_ptr<scalar_t>(), *sp = scaled.data_ptr<scalar_t>();
    if (noise.defined()) {
      Driver::template run<Draw::kNone, scalar_t>(
          mu, 1, mu.numel(), seed, 0,
          ReparameterizeKernel<scalar_t, true>{m, ls, noise.data_ptr<scalar_t>(), zp, sp});
    } else {
      Driver::template run<Draw::kNormal, scalar_t>(
          mu, 1, mu.numel(), seed, 0,
          ReparameterizeKernel<scalar_t, false>{m, ls, nullptr, zp, sp});
    }
  });
}

template <class Driver>
inline constexpr ViPasses kViPasses{reparameterize_pass<Driver>};

}  // namespace fastebm
