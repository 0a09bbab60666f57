// The kernel Stein discrepancy's pass (Liu, Lee & Jordan 2016; Chwialkowski, Strathmann & Gretton
// 2016), FEBM_HD on svgd.h's tiling: a row call takes IB particles i and walks the particles j
// in tiles of J, so the n × n Stein kernel is never stored. With r = xᵢ - xⱼ, sᵢ = ∇log p(xᵢ)
// and a = 2/h, the Stein kernel of a base kernel k is
//
//   u(xᵢ, xⱼ) = sᵢᵀsⱼ k + sᵢᵀ∇ⱼk + sⱼᵀ∇ᵢk + tr ∇ᵢ∇ⱼk
//     RBF  k = exp(-‖r‖²/h):           u = k [sᵢᵀsⱼ + a (sᵢᵀr - sⱼᵀr) + a d - a² ‖r‖²]
//     IMQ  k = q^β, q = 1 + ‖r‖²/h:    u = q^(β-2) [q² sᵢᵀsⱼ - aβq (sᵢᵀr - sⱼᵀr)
//                                                    - aβ (d q + (β - 1) a ‖r‖²)]
//
// and the pass returns (U w)ᵢ_b = Σⱼ u(xᵢ, xⱼ) w_jb for weights w [n, m] (j ≠ i without the
// diagonal): w = 1 gives the statistic's row sums, Rademacher columns its wild bootstrap. The four
// pair sums (‖r‖², sᵢᵀr, sⱼᵀr, sᵢᵀsⱼ) run over c in order and the sums over j in math.h's fixed
// lanes: the same bits on every ISA path, thread count and on CUDA.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "fastebm/math.h"
#include "fastebm/svgd.h"

namespace fastebm {

template <class T, int IB, int J>
struct SteinRowsKernel {
  const T* x;   // [n, d] (centred)
  const T* s;   // [n, d] scores
  const T* xt;  // [d, np]
  const T* st;  // [d, np]
  const T* wt;  // [m, np] weights, transposed (zeros past n)
  T* out;       // [n, m]
  int64_t n, np, d, m;
  T h, beta;
  SteinBase base;
  bool diagonal;
  // dist <- u(xᵢ, xⱼ) of the tile from its pair sums (0 past n, and at j = i without the diagonal).
  template <SteinBase B>
  FEBM_HD void stein_values(int64_t i0, int64_t j0, int valid, T* dist, const T* sr, const T* rs,
                            const T* ss) const {
    const T a = T(2) / h, inv_h = T(1) / h, dim = static_cast<T>(d);
    for (int r = 0; r < IB; ++r) {
      const int self = diagonal ? -1 : static_cast<int>(i0 + r - j0);  // j = i: left out
      const int o = r * J;
#pragma omp simd
      for (int j = 0; j < J; ++j) {
        const T r2 = dist[o + j], cross = sr[o + j] - rs[o + j];
        T u;
        if constexpr (B == SteinBase::kRbf) {
          const T arg = -r2 * inv_h;
          const T k = arg > flush_below<T>() ? exp_clamped(arg) : T(0);
          u = k * (ss[o + j] + a * cross + a * dim - a * a * r2);
        } else {
          const T q = T(1) + r2 * inv_h;
          const T q_pow = exp_clamped((beta - T(2)) * log_positive(q));  // q^(β-2)
          u = q_pow * (q * q * ss[o + j] - a * beta * q * cross -
                       a * beta * (dim * q + (beta - T(1)) * a * r2));
        }
        dist[o + j] = j < valid && j != self ? u : T(0);
      }
    }
  }

  FEBM_HD void operator()(int64_t block) const {
    const int64_t i0 = block * IB;
    const int rows = n - i0 < IB ? static_cast<int>(n - i0) : IB;
    for (int r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < m; ++b) out[(i0 + r) * m + b] = T(0);
    }
    T dist[IB * J], sr[IB * J], rs[IB * J], ss[IB * J];  // u in dist once a tile is summed
    for (int64_t j0 = 0; j0 < n; j0 += J) {
      for (int e = 0; e < IB * J; ++e) dist[e] = sr[e] = rs[e] = ss[e] = T(0);
      for (int64_t c = 0; c < d; ++c) {
        const T* xcol = xt + c * np + j0;
        const T* scol = st + c * np + j0;
        for (int r = 0; r < IB; ++r) {
          const int64_t i = i0 + r < n ? i0 + r : n - 1;
          const T xi = x[i * d + c], si = s[i * d + c];
          const int o = r * J;
#pragma omp simd
          for (int j = 0; j < J; ++j) {
            const T diff = xi - xcol[j];
            dist[o + j] = dist[o + j] + diff * diff;
            sr[o + j] = sr[o + j] + si * diff;
            rs[o + j] = rs[o + j] + scol[j] * diff;
            ss[o + j] = ss[o + j] + si * scol[j];
          }
        }
      }
      const int valid = n - j0 < J ? static_cast<int>(n - j0) : J;
      if (base == SteinBase::kRbf) {
        stein_values<SteinBase::kRbf>(i0, j0, valid, dist, sr, rs, ss);
      } else {
        stein_values<SteinBase::kImq>(i0, j0, valid, dist, sr, rs, ss);
      }
      for (int r = 0; r < rows; ++r) {
        for (int64_t b = 0; b < m; ++b) {
          T& acc = out[(i0 + r) * m + b];
          acc = acc + tile_dot<T, J>(dist + r * J, wt + b * np + j0);
        }
      }
    }
  }
};

// out [n, m] <- Σⱼ u(xᵢ, xⱼ) w_jb on a driver's run_rows (IB particles, tiles of J: a backend's
// choice). x, s [n, d] (x centred), xt, st [d, np], wt [m, np] as svgd.h lays them out.
template <class Driver, int IB, int J>
void stein_pass(const at::Tensor& x, const at::Tensor& s, const at::Tensor& xt,
                const at::Tensor& st, const at::Tensor& wt, double h, SteinBase base, double beta,
                bool diagonal, at::Tensor& out) {
  const int64_t n = x.size(0), d = x.size(1), np = xt.size(1), m = wt.size(0);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::stein_kernel_matvec", [&] {
    Driver::run_rows(
        x, (n + IB - 1) / IB, IB * n * (4 * d + m + 12),
        SteinRowsKernel<scalar_t, IB, J>{
            x.data_ptr<scalar_t>(), s.data_ptr<scalar_t>(), xt.data_ptr<scalar_t>(),
            st.data_ptr<scalar_t>(), wt.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), n, np,
            d, m, static_cast<scalar_t>(h), static_cast<scalar_t>(beta), base, diagonal});
  });
}

}  // namespace fastebm
