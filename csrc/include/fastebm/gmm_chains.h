// Whole Langevin / MALA chains on a Gaussian-mixture energy (FEBM_HD: the CPU and CUDA drivers run
// the very same code): every step of a chain runs without leaving the kernel, the energy and its
// gradient computed analytically, a block of chains per row-kernel call in vector lanes.
//   E(x) = -log Σₖ exp(cₖ - ½ Σ_d (x_d - m_kd)² / s_kd²),  cₖ = log wₖ - Σ_d log s_kd - (D/2) log 2π,
//   ∇E(x) = Σₖ rₖ (x - mₖ) / sₖ²,  r = softmax of the components' log terms.
#pragma once

#include <cstdint>

#include "fastebm/draws.h"
#include "fastebm/math.h"
#include "fastebm/seed.h"

namespace fastebm {

constexpr int64_t kGmmMaxDim = 16;
constexpr int64_t kGmmMaxComponents = 64;

// Step s of a chain (s counted from the op's step0) draws its noise at offset 2s (element
// row · D + d) and, for MALA, its accept uniform at offset 2s + 1 (element row).
FEBM_HD uint64_t gmm_noise_offset(int64_t step) { return 2 * static_cast<uint64_t>(step); }
FEBM_HD uint64_t gmm_accept_offset(int64_t step) { return 2 * static_cast<uint64_t>(step) + 1; }

// The chains of one row-kernel call: a block of Lanes chains (Lanes = 16 on the CPU, where every
// loop over a block's lanes is a vector loop; 1 on CUDA, one thread per chain). Lanes never mix,
// so a chain's bits do not depend on Lanes, the ISA path or the device.
template <class T, int64_t Lanes>
struct GmmChainsKernel {
  T* x;                  // [B, D], advanced in place
  int64_t* accepted;     // [B]: accepted proposals
  const T* log_coef;     // [K]: cₖ
  const T* means;        // [K, D]
  const T* inv_var;      // [K, D]: 1 / s²
  int64_t chains, dim, components, n_steps, step0;
  T step, scale;         // ε, √(2ε)
  bool mala;
  Seed seed;

  // E(x) [Lanes] and g = ∇E(x) [D][Lanes] of the states xs [D][Lanes]: the components' log
  // terms, their maximum `top`, then one exp per component for the softmax weights.
  FEBM_HD void energy_grad(const T (*xs)[Lanes], T (*g)[Lanes], T* energy) const {
    T logits[kGmmMaxComponents][Lanes], top[Lanes], total[Lanes], weight[Lanes];
    for (int64_t k = 0; k < components; ++k) {
#pragma omp simd
      for (int64_t l = 0; l < Lanes; ++l) logits[k][l] = log_coef[k];
      for (int64_t d = 0; d < dim; ++d) {
        const T m = means[k * dim + d], iv = inv_var[k * dim + d];
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) {
          const T z = xs[d][l] - m;
          logits[k][l] = logits[k][l] - T(0.5) * (z * z * iv);
        }
      }
#pragma omp simd
      for (int64_t l = 0; l < Lanes; ++l) {
        top[l] = (k == 0 || logits[k][l] > top[l]) ? logits[k][l] : top[l];
      }
    }
    for (int64_t l = 0; l < Lanes; ++l) total[l] = T(0);
    for (int64_t d = 0; d < dim; ++d) {
      for (int64_t l = 0; l < Lanes; ++l) g[d][l] = T(0);
    }
    for (int64_t k = 0; k < components; ++k) {
#pragma omp simd
      for (int64_t l = 0; l < Lanes; ++l) {
        weight[l] = exp_clamped(logits[k][l] - top[l]);
        total[l] = total[l] + weight[l];
      }
      for (int64_t d = 0; d < dim; ++d) {
        const T m = means[k * dim + d], iv = inv_var[k * dim + d];
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) g[d][l] = g[d][l] + weight[l] * ((xs[d][l] - m) * iv);
      }
    }
    for (int64_t d = 0; d < dim; ++d) {
#pragma omp simd
      for (int64_t l = 0; l < Lanes; ++l) g[d][l] = g[d][l] / total[l];
    }
#pragma omp simd
    for (int64_t l = 0; l < Lanes; ++l) energy[l] = -(top[l] + log_positive(total[l]));
  }

  FEBM_HD void operator()(int64_t block) const {
    const int64_t c0 = block * Lanes;
    const int64_t n = chains - c0 < Lanes ? chains - c0 : Lanes;  // live lanes; the rest idle
    T cur[kGmmMaxDim][Lanes], grad[kGmmMaxDim][Lanes];
    T prop[kGmmMaxDim][Lanes], grad_prop[kGmmMaxDim][Lanes];
    T energy[Lanes], energy_prop[Lanes], back[Lanes], fwd[Lanes];
    T accept[Lanes];  // 1 or 0, in T so that the selects below stay vector selects
    int64_t n_accepted[Lanes];
    const uint64_t key = seed.get();
    for (int64_t d = 0; d < dim; ++d) {
      for (int64_t l = 0; l < Lanes; ++l) cur[d][l] = l < n ? x[(c0 + l) * dim + d] : T(0);
    }
    for (int64_t l = 0; l < Lanes; ++l) n_accepted[l] = 0;
    energy_grad(cur, grad, energy);
    for (int64_t s = step0; s < step0 + n_steps; ++s) {
      for (int64_t d = 0; d < dim; ++d) {
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) {
          const T z = element_normal<T>(key, gmm_noise_offset(s), (c0 + l) * dim + d);
          prop[d][l] = cur[d][l] - step * grad[d][l] + scale * z;
        }
      }
      energy_grad(prop, grad_prop, energy_prop);
      for (int64_t l = 0; l < Lanes; ++l) {
        back[l] = T(0);
        fwd[l] = T(0);
      }
      if (mala) {  // log α as MalaCorrection (langevin.h), summed in order over d
        for (int64_t d = 0; d < dim; ++d) {
#pragma omp simd
          for (int64_t l = 0; l < Lanes; ++l) {
            const T diff = prop[d][l] - cur[d][l];
            const T b = step * grad_prop[d][l] - diff, f = diff + step * grad[d][l];
            back[l] = back[l] + b * b;
            fwd[l] = fwd[l] + f * f;
          }
        }
      }
      if (mala) {
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) {
          const T log_alpha = (energy[l] - energy_prop[l]) - (back[l] - fwd[l]) / (T(4) * step);
          const T u = element_uniform<T>(key, gmm_accept_offset(s), c0 + l);
          accept[l] = u < exp_clamped(log_alpha) ? T(1) : T(0);
        }
      } else {
        for (int64_t l = 0; l < Lanes; ++l) accept[l] = T(1);
      }
#pragma omp simd
      for (int64_t l = 0; l < Lanes; ++l) {
        energy[l] = accept[l] > T(0) ? energy_prop[l] : energy[l];
        n_accepted[l] += accept[l] > T(0) ? 1 : 0;
      }
      for (int64_t d = 0; d < dim; ++d) {
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) {
          cur[d][l] = accept[l] > T(0) ? prop[d][l] : cur[d][l];
          grad[d][l] = accept[l] > T(0) ? grad_prop[d][l] : grad[d][l];
        }
      }
    }
    for (int64_t l = 0; l < n; ++l) {
      for (int64_t d = 0; d < dim; ++d) x[(c0 + l) * dim + d] = cur[d][l];
      accepted[c0 + l] = n_accepted[l];
    }
  }
};

}  // namespace fastebm
