// The Langevin family's per-element kernels (Langevin step, HMC leapfrog) and per-chain kernels
// (the MALA and HMC Metropolis steps), FEBM_HD: the CPU and CUDA drivers run the very same code;
// and its passes, written once over a driver (cpu/elementwise.h, cuda/elementwise.cuh). Target
// p(x) ∝ exp(-E(x)); ε is the step size.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include <type_traits>

#include "fastebm/draws.h"
#include "fastebm/gmm_chains.h"
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

// One Hamiltonian-dynamics leapfrog update (position and momentum in one pass), diagonal mass
// M = diag(1 / inv_mass):  p' = p - a ε ∇E(x),  x' = x + ε inv_mass ⊙ p'  (a = ½ on the first
// half step of a trajectory, 1 where two half steps meet). kUnitMass: M = I (inv_mass unread,
// so the pass runs x as one row).
template <class T, bool kUnitMass>
struct LeapfrogKernel {
  const T* x;         // [B, D]
  const T* p;         // [B, D]
  const T* grad;      // [B, D]
  const T* inv_mass;  // [D], or null (kUnitMass)
  T* x_out;           // [B, D]
  T* p_out;           // [B, D]
  T momentum_step;    // a ε
  T step;             // ε
  FEBM_HD void operator()(int64_t i, int64_t, int64_t col, T) const {
    const T p_new = p[i] - momentum_step * grad[i];
    p_out[i] = p_new;
    x_out[i] = x[i] + step * (kUnitMass ? p_new : inv_mass[col] * p_new);
  }
};

// MALA's correction (Roberts & Tweedie 1996) for proposals x' ~ N(x - ε∇E(x), 2ε I):
//   log α = E(x) - E(x') - (‖x - x' + ε∇E(x')‖² - ‖x' - x + ε∇E(x)‖²) / (4ε).
template <class T>
struct MalaCorrection {
  const T* grad;       // [B, D] ∇E(x)
  const T* grad_prop;  // [B, D] ∇E(x')
  T step;              // ε
  // Element i's terms of the two sums: (x - x' + ε∇E(x'))², (x' - x + ε∇E(x))².
  FEBM_HD void terms(const T* x, const T* x_prop, int64_t i, int64_t, T* a, T* b) const {
    const T d = x_prop[i] - x[i];
    const T back = step * grad_prop[i] - d, fwd = d + step * grad[i];
    *a = back * back;
    *b = fwd * fwd;
  }
  FEBM_HD T log_alpha(T energy_gap, T a, T b) const { return energy_gap - (a - b) / (T(4) * step); }
};

// HMC's correction (Duane et al. 1987; Neal 2011) for a leapfrog trajectory from (x, p0) whose
// last update left the half-step momentum p_half at x': the final half step
// p_end = p_half - (ε/2)∇E(x') is taken here, and with K(p) = ½ Σ inv_mass p²,
//   log α = E(x) + K(p0) - E(x') - K(p_end).
template <class T>
struct HmcCorrection {
  const T* p0;         // [B, D]
  const T* p_half;     // [B, D]
  const T* grad_prop;  // [B, D] ∇E(x')
  const T* inv_mass;   // [D]
  T half_step;         // ε / 2
  FEBM_HD void terms(const T*, const T*, int64_t i, int64_t col, T* a, T* b) const {
    const T p_end = p_half[i] - half_step * grad_prop[i];
    *a = inv_mass[col] * (p0[i] * p0[i]);
    *b = inv_mass[col] * (p_end * p_end);
  }
  FEBM_HD T log_alpha(T energy_gap, T a, T b) const { return energy_gap + (a - b) / T(2); }
};

// +0 when a and b are finite, NaN when either is NaN or ±Inf (x - x is exact: no fast-math).
template <class T>
FEBM_HD T non_finite_to_nan(T a, T b) {
  return (a - a) + (b - b);
}

// The Metropolis step of one chain, for either correction: the two sums over the chain's row in
// fixed lanes, log α = correction.log_alpha(E(x) - E(x'), sums), accept iff u < e^{log α} (u the
// row's uniform: draw offset 0, element index = row), then the kept row of x and ∇E, the kept
// energy and the decision. A NaN in the proposal's energy or gradient makes log α NaN: that
// chain rejects; so does a proposal with any NaN or ±Inf in x', ∇E(x') or E(x') (an E(x') of -Inf
// would otherwise be accepted with certainty).
template <class T, class Correction>
struct MetropolisKernel {
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
  Seed seed;
  Correction correction;

  FEBM_HD void operator()(int64_t row) const {
    const int64_t r0 = row * dim;
    T sum_a[kSumLanes] = {}, sum_b[kSumLanes] = {}, guard[kSumLanes] = {};
    int64_t j = 0;
    for (; j + kSumLanes <= dim; j += kSumLanes) {
#pragma omp simd
      for (int l = 0; l < kSumLanes; ++l) {
        T a, b;
        correction.terms(x, x_prop, r0 + j + l, j + l, &a, &b);
        sum_a[l] = sum_a[l] + a;
        sum_b[l] = sum_b[l] + b;
        guard[l] = guard[l] + non_finite_to_nan(x_prop[r0 + j + l], grad_prop[r0 + j + l]);
      }
    }
    for (int l = 0; j + l < dim; ++l) {
      T a, b;
      correction.terms(x, x_prop, r0 + j + l, j + l, &a, &b);
      sum_a[l] = sum_a[l] + a;
      sum_b[l] = sum_b[l] + b;
      guard[l] = guard[l] + non_finite_to_nan(x_prop[r0 + j + l], grad_prop[r0 + j + l]);
    }
    // guard: +0 for a finite proposal (x', ∇E(x'), E(x')), NaN otherwise: that chain rejects.
    const T log_alpha =
        correction.log_alpha(energy[row] - energy_prop[row], sum_lanes(sum_a), sum_lanes(sum_b)) +
        (sum_lanes(guard) + (energy_prop[row] - energy_prop[row]));
    const bool accept = element_uniform<T>(seed.get(), 0, row) < exp_clamped(log_alpha);
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
                   at::Tensor& out, double step_size, const Seed& seed) {
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
void leapfrog_pass(const LeapfrogTensors& t, double step_size, double momentum_step) {
  // x as [B, D] rows of inv_mass [D], or (M = I: inv_mass undefined) as one row.
  const bool unit = !t.inv_mass.defined();
  const int64_t rows = unit ? 1 : t.x.size(0), dim = rows == 0 ? 0 : t.x.numel() / rows;
  AT_DISPATCH_FLOATING_TYPES(t.x.scalar_type(), "fastebm::leapfrog_pass", [&] {
    const auto run = [&](auto unit_mass) {
      constexpr bool kUnit = decltype(unit_mass)::value;
      Driver::template run<Draw::kNone, scalar_t>(
          t.x, rows, dim, 0, 0,
          LeapfrogKernel<scalar_t, kUnit>{
              t.x.data_ptr<scalar_t>(), t.p.data_ptr<scalar_t>(), t.grad.data_ptr<scalar_t>(),
              kUnit ? nullptr : t.inv_mass.data_ptr<scalar_t>(), t.x_out.data_ptr<scalar_t>(),
              t.p_out.data_ptr<scalar_t>(), static_cast<scalar_t>(momentum_step * step_size),
              static_cast<scalar_t>(step_size)});
    };
    if (unit) {
      run(std::true_type{});
    } else {
      run(std::false_type{});
    }
  });
}

// The Metropolis step of every chain of t with a correction built from scalar_t pointers.
template <class Driver, template <class> class Correction, class MakeCorrection>
void metropolis_pass(const MetropolisTensors& t, const Seed& seed, const MakeCorrection& make) {
  const int64_t rows = t.x.size(0), dim = rows == 0 ? 0 : t.x.numel() / rows;
  AT_DISPATCH_FLOATING_TYPES(t.x.scalar_type(), "fastebm::metropolis_pass", [&] {
    Driver::run_rows(
        t.x, rows, dim,
        MetropolisKernel<scalar_t, Correction<scalar_t>>{
            t.x.data_ptr<scalar_t>(), t.x_prop.data_ptr<scalar_t>(),
            t.energy.data_ptr<scalar_t>(), t.energy_prop.data_ptr<scalar_t>(),
            t.grad.data_ptr<scalar_t>(), t.grad_prop.data_ptr<scalar_t>(),
            t.x_out.data_ptr<scalar_t>(), t.energy_out.data_ptr<scalar_t>(),
            t.grad_out.data_ptr<scalar_t>(), t.accepted.data_ptr<bool>(), dim, seed,
            make(scalar_t())});
  });
}

template <class Driver>
void mala_pass(const MetropolisTensors& t, double step_size, const Seed& seed) {
  metropolis_pass<Driver, MalaCorrection>(t, seed, [&](auto zero) {
    using T = decltype(zero);
    return MalaCorrection<T>{t.grad.data_ptr<T>(), t.grad_prop.data_ptr<T>(),
                             static_cast<T>(step_size)};
  });
}

template <class Driver>
void hmc_pass(const MetropolisTensors& t, const at::Tensor& p0, const at::Tensor& p_half,
              const at::Tensor& inv_mass, double step_size, const Seed& seed) {
  metropolis_pass<Driver, HmcCorrection>(t, seed, [&](auto zero) {
    using T = decltype(zero);
    return HmcCorrection<T>{p0.data_ptr<T>(), p_half.data_ptr<T>(), t.grad_prop.data_ptr<T>(),
                            inv_mass.data_ptr<T>(), static_cast<T>(step_size / 2)};
  });
}

template <class Driver>
void gmm_chains_pass(at::Tensor& x, at::Tensor& accepted, const at::Tensor& log_coef,
                     const at::Tensor& means, const at::Tensor& inv_var, double step_size,
                     int64_t n_steps, int64_t step0, bool mala, const Seed& seed) {
  constexpr int64_t kLanes = Driver::kRowLanes;
  const int64_t chains = x.size(0), dim = x.size(1), components = means.size(0);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::gmm_chains_pass", [&] {
    Driver::run_rows(
        x, (chains + kLanes - 1) / kLanes, kLanes * n_steps * components * dim,
        GmmChainsKernel<scalar_t, kLanes>{
            x.data_ptr<scalar_t>(), accepted.data_ptr<int64_t>(), log_coef.data_ptr<scalar_t>(),
            means.data_ptr<scalar_t>(), inv_var.data_ptr<scalar_t>(), chains, dim, components,
            n_steps, step0, static_cast<scalar_t>(step_size),
            static_cast<scalar_t>(std::sqrt(2.0 * step_size)), mala, seed});
  });
}

template <class Driver>
inline constexpr LangevinPasses kLangevinPasses{langevin_pass<Driver>, mala_pass<Driver>,
                                                leapfrog_pass<Driver>, hmc_pass<Driver>,
                                                gmm_chains_pass<Driver>};

}  // namespace fastebm
