// THE CUDA element-wise driver: the twin of cpu/elementwise.h. One thread per Philox group
// (grid-stride), which draws its 4 words (draws.h) and calls the family's FEBM_HD kernel on the 4
// elements of philox.h's tile layout:  kernel(i, row, col, draw)  for i < rows * cols.
// Per-chain kernels run one thread per row (run_rows). Each launch: device guard, the current
// stream, C10_CUDA_KERNEL_LAUNCH_CHECK. Nothing here reads device memory from the host, so a
// pass never synchronises the device.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <cstdint>

#include "fastebm/draws.h"
#include "fastebm/seed.h"

namespace fastebm::cuda {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t(1) << 16;  // grid-stride past this

template <Draw D, class T, class Kernel>
__global__ void elementwise_kernel(Kernel kernel, int64_t n, int64_t cols, Seed seed,
                                   uint64_t offset) {
  const uint64_t key = D == Draw::kNone ? 0 : seed.get();  // captured: read now (seed.h)
  const int64_t groups = groups_for(n);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups;
       g += stride) {
    Draws4<T> draws{{T(0), T(0), T(0), T(0)}};
    if constexpr (D != Draw::kNone) {
      draws = group_draws<D, T>(philox_group(key, static_cast<uint64_t>(g), offset));
    }
#pragma unroll
    for (int word = 0; word < 4; ++word) {
      const int64_t i = tile_element(g, word);
      if (i < n) kernel(i, i / cols, i % cols, draws.x[word]);
    }
  }
}

template <class RowKernel>
__global__ void rows_kernel(RowKernel kernel, int64_t rows) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows;
       r += stride) {
    kernel(r);
  }
}

struct ElementwiseDriver {
  // A per-chain kernel that works in lanes takes one chain per thread.
  static constexpr int64_t kRowLanes = 1;

  // kernel(i, row, col, draw) for every element of a [rows, cols] index space, on `like`'s
  // device and the current stream. Draws are keyed by (seed, offset, i), as on the CPU.
  template <Draw D, class T, class Kernel>
  static void run(const at::Tensor& like, int64_t rows, int64_t cols, const Seed& seed,
                  uint64_t offset, const Kernel& kernel) {
    const int64_t n = rows * cols;
    if (n == 0) return;
    const c10::cuda::CUDAGuard guard(like.device());
    const int64_t blocks = std::min((groups_for(n) + kThreads - 1) / kThreads, kMaxBlocks);
    elementwise_kernel<D, T><<<blocks, kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        kernel, n, cols, seed, offset);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }

  // row_kernel(row) for every row in [0, rows): one thread per row (a chain's sums run in the
  // kernel's fixed lane order, as on the CPU).
  template <class RowKernel>
  static void run_rows(const at::Tensor& like, int64_t rows, int64_t /*row_elements*/,
                       const RowKernel& kernel) {
    if (rows == 0) return;
    const c10::cuda::CUDAGuard guard(like.device());
    const int64_t blocks = std::min((rows + kThreads - 1) / kThreads, kMaxBlocks);
    rows_kernel<<<blocks, kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(kernel, rows);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

}  // namespace fastebm::cuda
