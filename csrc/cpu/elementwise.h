// THE CPU element-wise driver: every kernel family's per-element pass runs through
// ElementwiseDriver::run. It walks the elements i = row * cols + col of a [rows, cols] index
// space in blocks of 1,024, in parallel (at::parallel_for over blocks). For each block it fills the
// Philox words (philox.h's tile layout; AVX2 by intrinsics, philox_avx2.h), turns them into draws
// (draws.h's uniform / normal), then calls the kernel on every element of each row segment, each
// step a vectorised loop (`omp simd`: a kernel may write element i's outputs only):
//   kernel(i, row, col, draw)       (draw: T; 0 for Draw::kNone)
// The kernel is a family's FEBM_HD functor (e.g. rbm.h), shared with cuda/elementwise.cuh.
// Per-chain work (a row's sums, then its outputs) runs as row_kernel(row) over rows, in parallel
// over blocks of rows (run_rows); the row kernel draws its own words (draws.h element_uniform).
// The block loop is compiled once per x86-64 level (cpu_isa.h) and the active path is picked per
// call; the bits of element i depend only on (seed, offset, i), not on threads, blocks or ISA.
#pragma once

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cstdint>

#include "fastebm/cpu_isa.h"
#include "fastebm/draws.h"
#include "fastebm/seed.h"
#if FEBM_X86_ISA_PATHS
#include "philox_avx2.h"
#endif

namespace fastebm::cpu {

constexpr int64_t kBlockTiles = 16;                               // Philox tiles per block
constexpr int64_t kBlockElements = kBlockTiles * kTileElements;  // 1,024
constexpr int64_t kGrainBlocks = 16;  // blocks per thread before at::parallel_for splits

// Philox words in philox.h's tile layout, by the compiler's vectorisation of philox.h: words held
// in Word (uint32_t for SSE2, uint64_t for AVX-512; see philox4x32_10).
template <class Word>
struct PhiloxVectorised {
  // words[t * 64 + j * 16 + l] = word j of group g0 + 16 t + l, for `tiles` tiles.
  [[gnu::always_inline]] static inline void fill(uint32_t* words, uint64_t seed, uint64_t offset,
                                                 int64_t g0, int64_t tiles) {
    for (int64_t t = 0; t < tiles; ++t) {
      uint32_t* tile = words + t * kTileElements;
#pragma omp simd
      for (int64_t l = 0; l < kTileGroups; ++l) {  // one group per vector lane
        const Philox4 r =
            philox_group<Word>(seed, static_cast<uint64_t>(g0 + t * kTileGroups + l), offset);
        for (int j = 0; j < 4; ++j) tile[j * kTileGroups + l] = r.x[j];
      }
    }
  }
};

// draws[i] = the draw of word i, group by group (draws.h: the Box-Muller pairs of a group).
template <Draw D, class T>
[[gnu::always_inline]] inline void draws_from_words(T* draws, const uint32_t* words,
                                                    int64_t tiles) {
  for (int64_t t = 0; t < tiles; ++t) {
    const uint32_t* w = words + t * kTileElements;
    T* d = draws + t * kTileElements;
#pragma omp simd
    for (int64_t l = 0; l < kTileGroups; ++l) {  // one group per vector lane
      const Draws4<T> out = group_draws<D, T>(
          Philox4{{w[l], w[kTileGroups + l], w[2 * kTileGroups + l], w[3 * kTileGroups + l]}});
      for (int j = 0; j < 4; ++j) d[j * kTileGroups + l] = out.x[j];
    }
  }
}

// The kernel over elements [b0 * kBlockElements, min(b1 * kBlockElements, n)), words from
// Philox::fill.
template <Draw D, class T, class Philox, class Kernel>
[[gnu::always_inline]] inline void run_blocks(const Kernel& kernel, int64_t n, int64_t cols,
                                              uint64_t seed, uint64_t offset, int64_t b0,
                                              int64_t b1) {
  constexpr int64_t kDrawElements = D == Draw::kNone ? 1 : kBlockElements;
  alignas(64) uint32_t words[kDrawElements];
  alignas(64) T draws[kDrawElements];
  for (int64_t blk = b0; blk < b1; ++blk) {
    const int64_t e0 = blk * kBlockElements, e1 = std::min(e0 + kBlockElements, n);
    if constexpr (D != Draw::kNone) {
      const int64_t tiles = (e1 - e0 + kTileElements - 1) / kTileElements;
      Philox::fill(words, seed, offset, e0 / kTileElements * kTileGroups, tiles);
      draws_from_words<D>(draws, words, tiles);
    }
    for (int64_t e = e0; e < e1;) {  // row segments
      const int64_t row = e / cols, col0 = e - row * cols, len = std::min(cols - col0, e1 - e);
      const T* d = draws + (D == Draw::kNone ? 0 : e - e0);
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        kernel(e + j, row, col0 + j, D == Draw::kNone ? T(0) : d[j]);
      }
      e += len;
    }
  }
}

template <Draw D, class T, class Kernel>
void run_blocks_baseline(const Kernel& kernel, int64_t n, int64_t cols, uint64_t seed,
                         uint64_t offset, int64_t b0, int64_t b1) {
  run_blocks<D, T, PhiloxVectorised<uint32_t>>(kernel, n, cols, seed, offset, b0, b1);
}
#if FEBM_X86_ISA_PATHS
template <Draw D, class T, class Kernel>
FEBM_TARGET_AVX2 void run_blocks_avx2(const Kernel& kernel, int64_t n, int64_t cols,
                                      uint64_t seed, uint64_t offset, int64_t b0, int64_t b1) {
  run_blocks<D, T, PhiloxAvx2>(kernel, n, cols, seed, offset, b0, b1);
}
template <Draw D, class T, class Kernel>
FEBM_TARGET_AVX512 void run_blocks_avx512(const Kernel& kernel, int64_t n, int64_t cols,
                                          uint64_t seed, uint64_t offset, int64_t b0,
                                          int64_t b1) {
  run_blocks<D, T, PhiloxVectorised<uint64_t>>(kernel, n, cols, seed, offset, b0, b1);
}
#endif

// row_kernel(row) for rows [r0, r1), flattened into the caller so that each ISA copy compiles
// the kernel's loops for its own vector width.
template <class RowKernel>
[[gnu::flatten]] void run_rows_baseline(const RowKernel& kernel, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) kernel(r);
}
#if FEBM_X86_ISA_PATHS
template <class RowKernel>
[[gnu::flatten]] FEBM_TARGET_AVX2 void run_rows_avx2(const RowKernel& kernel, int64_t r0,
                                                     int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) kernel(r);
}
template <class RowKernel>
[[gnu::flatten]] FEBM_TARGET_AVX512 void run_rows_avx512(const RowKernel& kernel, int64_t r0,
                                                         int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) kernel(r);
}
#endif

struct ElementwiseDriver {
  // How many chains a per-chain kernel that works in lanes takes per row call: a vector's worth
  // and more (16 floats = two AVX2 or one AVX-512 register).
  static constexpr int64_t kRowLanes = 16;

  // kernel(i, row, col, draw) for every element of a [rows, cols] index space; `like` names the
  // device (unused on the CPU). Draws are keyed by (seed, offset, i); a CPU op's Seed is a value.
  template <Draw D, class T, class Kernel>
  static void run(const at::Tensor& /*like*/, int64_t rows, int64_t cols, const Seed& seed,
                  uint64_t offset, const Kernel& kernel) {
    const uint64_t key = seed.get();
    const int64_t n = rows * cols;
    if (n == 0) return;
    auto* blocks_fn = &run_blocks_baseline<D, T, Kernel>;
#if FEBM_X86_ISA_PATHS
    switch (active_cpu_isa()) {
      case CpuIsa::kAvx512:
        blocks_fn = &run_blocks_avx512<D, T, Kernel>;
        break;
      case CpuIsa::kAvx2:
        blocks_fn = &run_blocks_avx2<D, T, Kernel>;
        break;
      case CpuIsa::kBaseline:
        break;
    }
#endif
    const int64_t blocks = (n + kBlockElements - 1) / kBlockElements;
    at::parallel_for(0, blocks, kGrainBlocks, [&](int64_t b0, int64_t b1) {
      blocks_fn(kernel, n, cols, key, offset, b0, b1);
    });
  }

  // row_kernel(row) for every row in [0, rows), each row costing about `row_elements` element
  // visits (it sizes the threads' shares); `like` names the device (unused on the CPU).
  template <class RowKernel>
  static void run_rows(const at::Tensor& /*like*/, int64_t rows, int64_t row_elements,
                       const RowKernel& kernel) {
    if (rows == 0) return;
    auto* rows_fn = &run_rows_baseline<RowKernel>;
#if FEBM_X86_ISA_PATHS
    switch (active_cpu_isa()) {
      case CpuIsa::kAvx512:
        rows_fn = &run_rows_avx512<RowKernel>;
        break;
      case CpuIsa::kAvx2:
        rows_fn = &run_rows_avx2<RowKernel>;
        break;
      case CpuIsa::kBaseline:
        break;
    }
#endif
    const int64_t grain = std::max<int64_t>(1, kGrainBlocks * kBlockElements / std::max<int64_t>(1, row_elements));
    at::parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) { rows_fn(kernel, r0, r1); });
  }
};

}  // namespace fastebm::cpu
