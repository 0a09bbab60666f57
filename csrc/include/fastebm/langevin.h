// The Langevin family's per-element and per-chain kernels (FEBM_HD: the CPU and CUDA drivers run
// the very same code) and its passes, written once over a driver (cpu/elementwise.h,
// cuda/elementwise.cuh). Target p(x) ∝ exp(-E(x)); ε is the step size.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include "fastebm/draws.h"
#include "fastebm/langevin_ops.h"
#include "fastebm/math.h"

namespace fastebm {

// out[i] <- x[i] - ε grad[i] + √(2ε) ξᵢ: one unadjusted Langevin step, ξᵢ the driver's N(0, 1)
// draw of element i, or noise[i] when kExplicitNoise.
template <class T, bool kExplicitNoise>
struct LangevinKernel {
  const T* x;      // [n]
  const T* grad;   // [n]
  const T* noise;  // [n] (kExplicitNoise) or null
  T* out;          // [n]
  T step;          // ε
  T scale;         // √(2ε)
  FEBM_HD void operator()(int64_t i, int64_t, int64_t, T z) const {
    out[i] = x[i] - step * grad[i] + scale * (kExplicitNoise ? noise[i] : z);
  }
};

// Lanes of the per-chain sums: element j of a row adds into lane j % kSumLanes, and the lanes
// are added in one fixed tree, so a sum has the same bits on every ISA path and on CUDA.
constexpr int kSumLanes = 16;

template <class T>
FEBM_HD T sum_lanes(const T* lanes) {
  T s[kSumLanes / 2];
  for (int l = 0; l < kSumLanes / 2; ++l) s[l] = lanes[l] + lanes[l + kSumLanes / 2];
  for (int width = kSumLanes / 4; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) s[l] = s[l] + s[l + width];
  }
  return s[0];
}

// The Metropolis-adjusted Langevin (MALA) correction of one chain (Roberts & Tweedie 1996):
// the proposal x' ~ N(x - ε∇E(x), 2ε I) is accepted with probability min(1, α),
//   log α = E(x) - E(x') - (‖x - x' + ε∇E(x')‖² - ‖x' - x + ε∇E(x)‖²) / (4ε),
// accept iff u < e^{log α}, u the row's uniform (draw offset 0, element index = row). A NaN in
// the proposal's energy or gradient makes log α NaN: that chain rejects. Writes the kept row of
// x and grad, the kept energy and the decision.
template <class T>
struct MalaKernel {
  const T* x;            // [B, D]
  const T* x_prop;       // [B, D]
  const T* energy;       // [B]
  const T* energy_prop;  // [B]
  const T* grad;         // [B, D]
  const T* grad_prop;    // [B, D]
  T* x_out;              // [B, D]
  T* energy_out;         // [B]
  T* grad_out;           // [B, D]
  bool* accepted;        // [B]
  int64_t dim;           // D
  T step;                // ε
  uint64_t seed;

  FEBM_HD void operator()(int64_t row) const {
    const int64_t r0 = row * dim;
    T back[kSumLanes] = {}, fwd[kSumLanes] = {};  // ‖x - x' + ε∇E(x')‖², ‖x' - x + ε∇E(x)‖²
    int64_t j = 0;
    for (; j + kSumLanes <= dim; j += kSumLanes) {
#pragma omp simd
      for (int l = 0; l < kSumLanes; ++l) {
        const int64_t i = r0 + j + l;
        const T d = x_prop[i] - x[i];
        const T b = step * grad_prop[i] - d, f = d + step * grad[i];
        back[l] = back[l] + b * b;
        fwd[l] = fwd[l] + f * f;
      }
    }
    for (int l = 0; j + l < dim; ++l) {
      const int64_t i = r0 + j + l;
      const T d = x_prop[i] - x[i];
      const T b = step * grad_prop[i] - d, f = d + step * grad[i];
      back[l] = back[l] + b * b;
      fwd[l] = fwd[l] + f * f;
    }
    const T log_alpha =
        (energy[row] - energy_prop[row]) - (sum_lanes(back) - sum_lanes(fwd)) / (T(4) * step);
    const bool accept = element_uniform<T>(seed, 0, row) < exp_clamped(log_alpha);
    const T* x_keep = accept ? x_prop : x;
    const T* grad_keep = accept ? grad_prop : grad;
#pragma omp simd
    for (int64_t k = r0; k < r0 + dim; ++k) {
      x_out[k] = x_keep[k];
      grad_out[k] = grad_keep[k];
    }
    energy_out[row] = accept ? energy_prop[row] : energy[row];
    accepted[row] = accept;
  }
};

template <class Driver>
void langevin_pass(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& noise,
                   at::Tensor& out, double step_size, uint64_t seed) {
  const double scale = std::sqrt(2.0 * step_size);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::langevin_pass", [&] {
    const auto step = static_cast<scalar_t>(step_size);
    const auto s = static_cast<scalar_t>(scale);
    if (noise.defined()) {
      Driver::template run<Draw::kNone, scalar_t>(
          x, 1, x.numel(), seed, 0,
          LangevinKernel<scalar_t, true>{x.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                                         noise.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                         step, s});
    } else {
      Driver::template run<Draw::kNormal, scalar_t>(
          x, 1, x.numel(), seed, 0,
          LangevinKernel<scalar_t, false>{x.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                                          nullptr, out.data_ptr<scalar_t>(), step, s});
    }
  });
}

template <class Driver>
void mala_pass(const MalaTensors& t, double step_size, uint64_t seed) {
  const int64_t rows = t.x.size(0), dim = rows == 0 ? 0 : t.x.numel() / rows;
  AT_DISPATCH_FLOATING_TYPES(t.x.scalar_type(), "fastebm::mala_pass", [&] {
    Driver::run_rows(
        t.x, rows, dim,
        MalaKernel<scalar_t>{t.x.data_ptr<scalar_t>(), t.x_prop.data_ptr<scalar_t>(),
                             t.energy.data_ptr<scalar_t>(), t.energy_prop.data_ptr<scalar_t>(),
                             t.grad.data_ptr<scalar_t>(), t.grad_prop.data_ptr<scalar_t>(),
                             t.x_out.data_ptr<scalar_t>(), t.energy_out.data_ptr<scalar_t>(),
                             t.grad_out.data_ptr<scalar_t>(), t.accepted.data_ptr<bool>(), dim,
                             static_cast<scalar_t>(step_size), seed});
  });
}

template <class Driver>
inline constexpr LangevinPasses kLangevinPasses{langevin_pass<Driver>, mala_pass<Driver>};

}  // namespace fastebm
