// The Boltzmann-machine and Ising family's per-element kernels (FEBM_HD: the CPU and CUDA drivers
// run the very same code) and its passes, written once over a driver (cpu/elementwise.h,
// cuda/elementwise.cuh); ising.cpp runs the sweeps around them.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "fastebm/draws.h"
#include "fastebm/ising_ops.h"

namespace fastebm {

// ---------------------------------------------------------------- Boltzmann machine

// One block of sites [k0, k1) (k1 - k0 <= kBmBlock, k0 a multiple of 4) of one sequential
// heat-bath sweep, for Lanes chains per call (16 on the CPU, in vector lanes; 1 on CUDA). The
// fields u = b + x J of the block's sites are current on entry (ising.cpp); site i of chain r
// draws x_i ~ Bern(σ(β_r u_i)), and its change d = x_i' - x_i is added to the later sites of the
// block at once, u_j += d J_ij (j in (i, k1), in site order), and written to delta [B, k1 - k0]
// for the GEMM that brings the sites past the block up to date.
// Draws (bm_draw_element): chain r's sites 4m .. 4m+3 take the 4 words of one Philox group, so
// every word drawn is used; a chain's bits do not depend on Lanes, the ISA path or the device.
// A held site (held [B, n] non-zero; held null: none) keeps its value: it draws and discards its
// word, so the other sites' draws are those of the unclamped sweep.
template <class T, int64_t Lanes>
struct BmBlockKernel {
  T* x;              // [B, n], updated in place
  T* u;              // [B, n]: the local fields b + x J
  T* delta;          // [B, k1 - k0]: out
  const T* J;        // [n, n], symmetric, zero diagonal
  const T* beta;     // [B]
  const T* held;     // [B, n] or null
  int64_t chains, n, k0, k1;
  Seed seed;
  uint64_t offset;

  static_assert(16 % Lanes == 0, "a block of lanes lies inside one 16-chain draw tile");

  FEBM_HD void operator()(int64_t block) const {
    const int64_t c0 = block * Lanes, width = k1 - k0;
    const int64_t live = chains - c0 < Lanes ? chains - c0 : Lanes;  // the rest idle
    T field[kBmBlock][Lanes], state[kBmBlock][Lanes], change[kBmBlock][Lanes];
    T keep[kBmBlock][Lanes], scale[Lanes], draw[4][Lanes], d[Lanes];
    const uint64_t key = seed.get();
    for (int64_t s = 0; s < width; ++s) {
      for (int64_t l = 0; l < Lanes; ++l) {
        const int64_t e = (c0 + l) * n + k0 + s;
        field[s][l] = l < live ? u[e] : T(0);
        state[s][l] = l < live ? x[e] : T(0);
        keep[s][l] = l < live && held != nullptr ? held[e] : T(0);
      }
    }
    for (int64_t l = 0; l < Lanes; ++l) scale[l] = l < live ? beta[c0 + l] : T(0);
    for (int64_t s = 0; s < width; ++s) {
      const int64_t site = k0 + s;
      if (site % 4 == 0) {
        // Lanes divides 16 and c0 is a multiple of Lanes, so chain c0 + l's group is c0's + l.
        const uint64_t draw_offset = offset, group = bm_draw_group(c0, site, n);
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) {
          const Philox4 w = philox_group<uint32_t>(key, group + l, draw_offset);
          draw[0][l] = uniform_open(w.x[0], T());
          draw[1][l] = uniform_open(w.x[1], T());
          draw[2][l] = uniform_open(w.x[2], T());
          draw[3][l] = uniform_open(w.x[3], T());
        }
      }
      T flips = T(0);
#pragma omp simd reduction(+ : flips)
      for (int64_t l = 0; l < Lanes; ++l) {
        const T drawn = bernoulli_sigmoid(draw[site % 4][l], scale[l] * field[s][l]);
        const T next = keep[s][l] != T(0) ? state[s][l] : drawn;
        d[l] = next - state[s][l];
        state[s][l] = next;
        change[s][l] = d[l];
        flips += d[l] * d[l];
      }
      if (flips == T(0)) continue;  // no chain of the block changed: no field moves
      const T* row = J + site * n + k0;
      for (int64_t j = s + 1; j < width; ++j) {
        const T coupling = row[j];
#pragma omp simd
        for (int64_t l = 0; l < Lanes; ++l) {
          field[j][l] = field[j][l] + d[l] * coupling;
        }
      }
    }
    for (int64_t l = 0; l < live; ++l) {
      for (int64_t s = 0; s < width; ++s) {
        x[(c0 + l) * n + k0 + s] = state[s][l];
        delta[(c0 + l) * width + s] = change[s][l];
      }
    }
  }
};

template <class Driver>
void bm_block_pass(at::Tensor& x, at::Tensor& u, at::Tensor& delta, const at::Tensor& J,
                   const at::Tensor& beta, const at::Tensor& held, int64_t k0, int64_t k1,
                   const Seed& seed, uint64_t offset) {
  constexpr int64_t kLanes = Driver::kRowLanes;
  const int64_t chains = x.size(0), n = x.size(1);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::bm_block_pass", [&] {
    Driver::run_rows(x, (chains + kLanes - 1) / kLanes, kLanes * (k1 - k0) * (k1 - k0) / 2,
                     BmBlockKernel<scalar_t, kLanes>{
                         x.data_ptr<scalar_t>(), u.data_ptr<scalar_t>(),
                         delta.data_ptr<scalar_t>(), J.data_ptr<scalar_t>(),
                         beta.data_ptr<scalar_t>(),
                         held.defined() ? held.data_ptr<scalar_t>() : nullptr, chains, n, k0, k1,
                         seed, offset});
  });
}

// ---------------------------------------------------------------- Ising lattice

// One colour's half-sweep of the checkerboard heat bath on planes of padded rows (ising_ops.h:
// plane [B·L, L/2 + 2], site (i, j = 2k + p) at column k + 1, p = (i + colour) & 1, the ends
// wrapped into columns 0 and L/2 + 1). The four neighbours of (i, j) are the other colour's
// (i ± 1, same k) and (i, k + p - 1), (i, k + p): with Σ their spins, the site becomes +1 with
// probability prob[b][(Σ + 4) / 2] = σ(2β_b (J Σ + h)) (ising.cpp tabulates it), else -1.
// Element e = row · L/2 + k draws at offset 2·sweep + colour: keyed by site, not by thread.
// Clamped: a site whose held plane is non-zero keeps its spin (its draw discarded).
template <class T, bool Clamped>
struct IsingHalfSweepKernel {
  T* own;           // [B·L, L/2 + 2]: the colour updated
  const T* other;   // [B·L, L/2 + 2]: the other colour
  const T* prob;    // [B, 5]
  const T* held;    // [B·L, L/2 + 2]: own colour's held sites (Clamped)
  int64_t L, colour;

  FEBM_HD void operator()(int64_t, int64_t row, int64_t k, T u) const {
    const int64_t width = L / 2 + 2, b = row / L, i = row - b * L;
    // (no selects on the row: they would stay in the vector loop and make its loads gathers)
    const int64_t up = b * L + (i + L - 1) % L, down = b * L + (i + 1) % L;
    const int64_t p = (i + colour) & 1;
    const T sum = other[up * width + k + 1] + other[down * width + k + 1] +
                  other[row * width + k + p] + other[row * width + k + p + 1];
    const T* t = prob + b * 5;  // loaded before the selects, which then need no branch
    const T t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4];
    const T q = sum < T(-3) ? t0 : sum < T(-1) ? t1 : sum < T(1) ? t2 : sum < T(3) ? t3 : t4;
    const T next = u < q ? T(1) : T(-1);
    const int64_t e = row * width + k + 1;
    if constexpr (Clamped) {
      own[e] = held[e] != T(0) ? own[e] : next;
    } else {
      own[e] = next;
    }
  }
};

// Columns 0 and L/2 + 1 of a padded row <- its columns L/2 and 1 (the periodic wrap).
template <class T>
struct IsingWrapKernel {
  T* plane;  // [B·L, L/2 + 2]
  int64_t half;
  FEBM_HD void operator()(int64_t row) const {
    T* r = plane + row * (half + 2);
    r[0] = r[half];
    r[half + 1] = r[1];
  }
};

// Site pair (i, 2k), (i, 2k + 1) of the lattice s [B·L, L] <-> column k + 1 of the colour planes
// (colour c holds (i, 2k + ((i + c) & 1))): to_planes copies the lattice into the planes, else
// the planes back into the lattice. The row parity p = i & 1 enters as an offset, not a select.
template <class T, bool ToPlanes>
struct IsingLayoutKernel {
  T* lattice;  // [B·L, L]
  T* plane0;   // [B·L, L/2 + 2]
  T* plane1;   // [B·L, L/2 + 2]
  int64_t L;

  FEBM_HD void operator()(int64_t, int64_t row, int64_t k, T) const {
    const int64_t p = (row % L) & 1, width = L / 2 + 2;
    T* first = lattice + row * L + 2 * k + p;       // colour 0's site
    T* second = lattice + row * L + 2 * k + 1 - p;  // colour 1's site
    T* a = plane0 + row * width + k + 1;
    T* b = plane1 + row * width + k + 1;
    if constexpr (ToPlanes) {
      *a = *first;
      *b = *second;
    } else {
      *first = *a;
      *second = *b;
    }
  }
};

template <class Driver>
void ising_layout_pass(at::Tensor& lattice, at::Tensor& plane0, at::Tensor& plane1, int64_t L,
                       bool to_planes) {
  const int64_t rows = plane0.size(0), half = plane0.size(1) - 2;
  AT_DISPATCH_FLOATING_TYPES(lattice.scalar_type(), "fastebm::ising_layout_pass", [&] {
    scalar_t *s = lattice.data_ptr<scalar_t>(), *p0 = plane0.data_ptr<scalar_t>(),
             *p1 = plane1.data_ptr<scalar_t>();
    if (!to_planes) {
      Driver::template run<Draw::kNone, scalar_t>(
          lattice, rows, half, 0, 0, IsingLayoutKernel<scalar_t, false>{s, p0, p1, L});
      return;
    }
    Driver::template run<Draw::kNone, scalar_t>(
        lattice, rows, half, 0, 0, IsingLayoutKernel<scalar_t, true>{s, p0, p1, L});
    Driver::run_rows(lattice, rows, 2, IsingWrapKernel<scalar_t>{p0, half});
    Driver::run_rows(lattice, rows, 2, IsingWrapKernel<scalar_t>{p1, half});
  });
}

template <class Driver>
void ising_half_sweep_pass(at::Tensor& own, const at::Tensor& other, const at::Tensor& prob,
                           const at::Tensor& held, int64_t L, int64_t colour, const Seed& seed,
                           uint64_t offset) {
  const int64_t rows = own.size(0), half = own.size(1) - 2;
  AT_DISPATCH_FLOATING_TYPES(own.scalar_type(), "fastebm::ising_half_sweep_pass", [&] {
    const auto sweep = [&](auto kernel) {
      Driver::template run<Draw::kUniform, scalar_t>(own, rows, half, seed, offset, kernel);
    };
    scalar_t* p = own.data_ptr<scalar_t>();
    const scalar_t *o = other.data_ptr<scalar_t>(), *t = prob.data_ptr<scalar_t>();
    if (held.defined()) {
      sweep(IsingHalfSweepKernel<scalar_t, true>{p, o, t, held.data_ptr<scalar_t>(), L, colour});
    } else {
      sweep(IsingHalfSweepKernel<scalar_t, false>{p, o, t, nullptr, L, colour});
    }
    Driver::run_rows(own, rows, 2, IsingWrapKernel<scalar_t>{p, half});
  });
}

template <class Driver>
inline constexpr IsingPasses kIsingPasses{bm_block_pass<Driver>, ising_half_sweep_pass<Driver>,
                                          ising_layout_pass<Driver>};

}  // namespace fastebm
