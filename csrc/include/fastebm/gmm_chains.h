// Whole Langevin / MALA chains on a Gaussian-mixture energy, one chain per row kernel call
// (FEBM_HD: the CPU and CUDA drivers run the very same code): every step of a chain runs without
// leaving the kernel, the energy and its gradient computed analytically.
//   E(x) = -log Σₖ exp(cₖ - ½ Σ_d (x_d - m_kd)² / s_kd²),  cₖ = log wₖ - Σ_d log s_kd - (D/2) log 2π,
//   ∇E(x) = Σₖ rₖ (x - mₖ) / sₖ²,  r = softmax of the components' log terms.
#pragma once

#include <cstdint>

#include "fastebm/draws.h"
#include "fastebm/math.h"

namespace fastebm {

constexpr int64_t kGmmMaxDim = 16;
constexpr int64_t kGmmMaxComponents = 64;

// Step s of a chain (s counted from the op's step0) draws its noise at offset 2s (element
// row · D + d) and, for MALA, its accept uniform at offset 2s + 1 (element row).
FEBM_HD uint64_t gmm_noise_offset(int64_t step) { return 2 * static_cast<uint64_t>(step); }
FEBM_HD uint64_t gmm_accept_offset(int64_t step) { return 2 * static_cast<uint64_t>(step) + 1; }

template <class T>
struct GmmChainsKernel {
  T* x;                  // [B, D], advanced in place
  int64_t* accepted;     // [B]: accepted MALA proposals
  const T* log_coef;     // [K]: cₖ
  const T* means;        // [K, D]
  const T* inv_var;      // [K, D]: 1 / s²
  int64_t dim, components, n_steps, step0;
  T step, scale;         // ε, √(2ε)
  bool mala;
  uint64_t seed;

  // E(x) of one state x [D], and g [D] <- ∇E(x).
  FEBM_HD T energy_grad(const T* xr, T* g) const {
    T logits[kGmmMaxComponents];
    T top = T(0);
    for (int64_t k = 0; k < components; ++k) {
      T l = log_coef[k];
      for (int64_t d = 0; d < dim; ++d) {
        const T z = xr[d] - means[k * dim + d];
        l = l - T(0.5) * (z * z * inv_var[k * dim + d]);
      }
      logits[k] = l;
      top = (k == 0 || l > top) ? l : top;
    }
    T total = T(0);
    for (int64_t d = 0; d < dim; ++d) g[d] = T(0);
    for (int64_t k = 0; k < components; ++k) {
      const T w = exp_clamped(logits[k] - top);
      total = total + w;
      for (int64_t d = 0; d < dim; ++d) {
        g[d] = g[d] + w * ((xr[d] - means[k * dim + d]) * inv_var[k * dim + d]);
      }
    }
    for (int64_t d = 0; d < dim; ++d) g[d] = g[d] / total;
    return -(top + log_positive(total));
  }

  FEBM_HD void operator()(int64_t row) const {
    T cur[kGmmMaxDim], grad[kGmmMaxDim], prop[kGmmMaxDim], grad_prop[kGmmMaxDim];
    for (int64_t d = 0; d < dim; ++d) cur[d] = x[row * dim + d];
    T energy = energy_grad(cur, grad);
    int64_t n_accepted = 0;
    for (int64_t s = step0; s < step0 + n_steps; ++s) {
      for (int64_t d = 0; d < dim; ++d) {
        const T z = element_normal<T>(seed, gmm_noise_offset(s), row * dim + d);
        prop[d] = cur[d] - step * grad[d] + scale * z;
      }
      const T energy_prop = energy_grad(prop, grad_prop);
      bool accept = true;
      if (mala) {  // log α as MalaCorrection (langevin.h), summed in order over d
        T back = T(0), fwd = T(0);
        for (int64_t d = 0; d < dim; ++d) {
          const T diff = prop[d] - cur[d];
          const T b = step * grad_prop[d] - diff, f = diff + step * grad[d];
          back = back + b * b;
          fwd = fwd + f * f;
        }
        const T log_alpha = (energy - energy_prop) - (back - fwd) / (T(4) * step);
        accept = element_uniform<T>(seed, gmm_accept_offset(s), row) < exp_clamped(log_alpha);
      }
      if (accept) {
        for (int64_t d = 0; d < dim; ++d) {
          cur[d] = prop[d];
          grad[d] = grad_prop[d];
        }
        energy = energy_prop;
        n_accepted += 1;
      }
    }
    for (int64_t d = 0; d < dim; ++d) x[row * dim + d] = cur[d];
    accepted[row] = n_accepted;
  }
};

}  // namespace fastebm
