// The SVGD family (Liu & Wang 2016) with the RBF kernel k(x, y) = exp(-‖x - y‖²/h), FEBM_HD:
// the CPU and CUDA backends run the very same tile code. Tiled like a flash kernel: a row call
// takes IB particles i and walks the particles j in tiles of J, holding only the IB × J tile
// of distances (then kernel values), so neither the n × n kernel nor the distances are stored.
//
//   φᵢ = (1/n) Σⱼ k(xⱼ, xᵢ)(scoreⱼ + (2/h)(xᵢ - xⱼ)) = (1/n) (Σⱼ kᵢⱼ vⱼ + (2/h) xᵢ Σⱼ kᵢⱼ),
//   vⱼ = scoreⱼ - (2/h) xⱼ,
//
// so a pair costs d differences, one exp and d multiply-adds. The sums over j run in
// math.h's fixed lanes and each tile's sum is added in j order: the same bits on every ISA path,
// thread count and on CUDA (no FMA contraction on either).
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <cstring>

#include "fastebm/math.h"
#include "fastebm/svgd_ops.h"

namespace fastebm {

// Particles j are stored transposed and padded: xt, vt [S, d, np] with np a multiple of this
// (zeros past n), so a tile reads whole lanes.
constexpr int64_t kSvgdPad = 256;

// dist[r J + j] = ‖x_{i0+r} - x_{j0+j}‖² for r < IB, j < J: the differences summed over c in
// order. x: one set's [n, d] rows (row indices clamped to n - 1); xt: its [d, np] columns.
template <class T, int IB, int J>
FEBM_HD void tile_distances(const T* x, const T* xt, int64_t n, int64_t np, int64_t d, int64_t i0,
                            int64_t j0, T* dist) {
  for (int r = 0; r < IB * J; ++r) dist[r] = T(0);
  for (int64_t c = 0; c < d; ++c) {
    const T* col = xt + c * np + j0;
    for (int r = 0; r < IB; ++r) {
      const int64_t i = i0 + r < n ? i0 + r : n - 1;
      const T xi = x[i * d + c];
      T* row = dist + r * J;
#pragma omp simd
      for (int j = 0; j < J; ++j) {
        const T diff = xi - col[j];
        row[j] = row[j] + diff * diff;
      }
    }
  }
}

// Σ_j a[j] b[j] over a tile of J (a multiple of kSumLanes), in fixed lanes.
template <class T, int J>
FEBM_HD T tile_dot(const T* a, const T* b) {
  T lanes[kSumLanes] = {};
  for (int j0 = 0; j0 < J; j0 += kSumLanes) {
#pragma omp simd
    for (int l = 0; l < kSumLanes; ++l) lanes[l] = lanes[l] + a[j0 + l] * b[j0 + l];
  }
  return sum_lanes(lanes);
}

template <class T, int J>
FEBM_HD T tile_sum(const T* a) {
  T lanes[kSumLanes] = {};
  for (int j0 = 0; j0 < J; j0 += kSumLanes) {
#pragma omp simd
    for (int l = 0; l < kSumLanes; ++l) lanes[l] = lanes[l] + a[j0 + l];
  }
  return sum_lanes(lanes);
}

// Kernel values below e^-80 (float) or e^-700 (double) count as 0: next to k(xᵢ, xᵢ) = 1 in
// every sum they are below rounding, and their products would be subnormal (slow on x86).
template <class T>
FEBM_HD constexpr T flush_below() {
  return sizeof(T) == 4 ? T(-80) : T(-700);
}

// φ for IB particles of one set per row call: row = set · blocks + block, particles
// begin + block · IB .. + IB - 1 (of the set's rows begin .. end - 1, all n particles j summed).
// φ's rows hold Σⱼ kᵢⱼ vⱼ while the tiles are walked, then φ itself. A particle's φ does not
// depend on the others in its block: a row range gives the bits of the whole set's call.
template <class T, int IB, int J>
struct SvgdPhiKernel {
  const T* x;   // [S, n, d] (centred per set)
  const T* xt;  // [S, d, np]
  const T* vt;  // [S, d, np]: score - (2/h) x, transposed
  const T* h;   // [S] bandwidths
  T* phi;       // [S, end - begin, d]
  int64_t n, np, d, blocks, begin, end;
  FEBM_HD void operator()(int64_t row) const {
    const int64_t s = row / blocks, i0 = begin + (row - s * blocks) * IB;
    const int rows = end - i0 < IB ? static_cast<int>(end - i0) : IB;
    const T* xs = x + s * n * d;
    const T* xts = xt + s * d * np;
    const T* vts = vt + s * d * np;
    T* out = phi + (s * (end - begin) + i0 - begin) * d;  // [rows, d]: particles i0 .. i0 + rows - 1
    const T neg_inv_h = T(-1) / h[s];
    T ksum[IB] = {};
    for (int r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < d; ++c) out[r * d + c] = T(0);
    }
    T k[IB * J];
    for (int64_t j0 = 0; j0 < n; j0 += J) {
      const int valid = n - j0 < J ? static_cast<int>(n - j0) : J;  // int: SSE2 compares it
      tile_distances<T, IB, J>(xs, xts, n, np, d, i0, j0, k);
      for (int r = 0; r < IB; ++r) {
        T* kr = k + r * J;
#pragma omp simd
        for (int j = 0; j < J; ++j) {
          const T arg = kr[j] * neg_inv_h;
          kr[j] = j < valid && arg > flush_below<T>() ? exp_clamped(arg) : T(0);
        }
      }
      for (int r = 0; r < rows; ++r) {
        ksum[r] = ksum[r] + tile_sum<T, J>(k + r * J);
        for (int64_t c = 0; c < d; ++c) {
          out[r * d + c] = out[r * d + c] + tile_dot<T, J>(k + r * J, vts + c * np + j0);
        }
      }
    }
    const T two_over_h = T(2) / h[s], inv_n = T(1) / static_cast<T>(n);
    for (int r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < d; ++c) {
        const int64_t e = r * d + c;
        out[e] = (out[e] + two_over_h * ksum[r] * xs[i0 * d + e]) * inv_n;
      }
    }
  }
};

// The bits of a non-negative distance as an unsigned integer: monotone in the value, so the
// k-th smallest distance is the k-th smallest key (float: 32 bits, double: 64; a finite
// distance's key is below 2^31 or 2^63).
template <class T>
FEBM_HD uint64_t distance_key(T v) {
  if constexpr (sizeof(T) == 4) {
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
  } else {
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
  }
}

// tile(dist, j0, first, last) for every tile of particles j that holds a pair i < j of one set
// with i in i0 .. i0 + IB - 1: dist as tile_distances gives it, row r's pairs at j in
// [first[r], last[r]) (empty past n). A counting pass of the median (svgd_ops.h RangePass) is
// such a walk; the backend counts (CPU: vectorised, into the thread's histogram; CUDA: atomics).
template <class T, int IB, int J, class Tile>
FEBM_HD void pair_tiles(const T* x, const T* xt, int64_t n, int64_t np, int64_t d, int64_t i0,
                        const Tile& tile) {
  T dist[IB * J];
  int first[IB], last[IB];
  for (int64_t j0 = (i0 / J) * J; j0 < n; j0 += J) {
    tile_distances<T, IB, J>(x, xt, n, np, d, i0, j0, dist);
    for (int r = 0; r < IB; ++r) {
      const int64_t lo = i0 + r + 1 - j0, hi = n - j0;
      first[r] = static_cast<int>(lo < 0 ? 0 : (lo > J ? J : lo));
      last[r] = i0 + r < n ? static_cast<int>(hi > J ? J : hi) : 0;
    }
    tile(dist, first, last);
  }
}

// The φ pass on a driver's run_rows: IB particles and tiles of J per row call (a backend's
// choice: the CPU blocks for its caches and vectors, CUDA runs a particle per thread); phi
// [S, m, d] holds particles begin .. begin + m - 1.
template <class Driver, int IB, int J>
void phi_pass(const at::Tensor& x, const at::Tensor& xt, const at::Tensor& vt, const at::Tensor& h,
              int64_t begin, at::Tensor& phi) {
  const int64_t S = x.size(0), n = x.size(1), d = x.size(2), np = xt.size(2), m = phi.size(1);
  const int64_t blocks = (m + IB - 1) / IB;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_phi", [&] {
    Driver::run_rows(x, S * blocks, IB * n * (2 * d + 8),
                     SvgdPhiKernel<scalar_t, IB, J>{x.data_ptr<scalar_t>(), xt.data_ptr<scalar_t>(),
                                                    vt.data_ptr<scalar_t>(), h.data_ptr<scalar_t>(),
                                                    phi.data_ptr<scalar_t>(), n, np, d, blocks, begin,
                                                    begin + m});
  });
}

}  // namespace fastebm
