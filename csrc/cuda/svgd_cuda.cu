// The SVGD family's ops on CUDA: svgd.h's φ tiles and stein.h's Stein kernel tiles on the CUDA
// driver's rows (a particle per thread, tiles of 16), and the median's counting passes with
// atomics; the same tile code and sum order as cpu/svgd_cpu.cpp.
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "elementwise.cuh"
#include "fastebm/stein.h"
#include "fastebm/svgd.h"
#include "fastebm/svgd_register.h"

namespace fastebm {
namespace {

constexpr int kTile = 16;

// One particle's pairs counted with atomics: counts [bins + 2] = the bins, the count below, the
// least key above (as bits).
struct AtomicTally {
  unsigned long long* counts;
  RangePass pass;
  __device__ void operator()(uint64_t key) const {
    if (key < pass.low) {
      atomicAdd(counts + pass.bins, 1ull);
    } else if (key < pass.end()) {
      atomicAdd(counts + ((key - pass.low) >> pass.shift), 1ull);
    } else {
      atomicMin(counts + pass.bins + 1, static_cast<unsigned long long>(key));
    }
  }
};

template <class T>
__global__ void count_kernel(const T* x, const T* xt, int64_t n, int64_t np, int64_t d,
                             AtomicTally tally) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    pair_tiles<T, 1, kTile>(x, xt, n, np, d, i, [&](const T* dist, const int* first, const int* last) {
      for (int j = first[0]; j < last[0]; ++j) tally(distance_key(dist[j]));
    });
  }
}

void count_cuda(const at::Tensor& x, const at::Tensor& xt, int64_t set, const RangePass& pass,
                at::Tensor& counts) {
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t n = x.size(1), d = x.size(2), np = xt.size(2);
  counts.zero_();
  counts.narrow(0, pass.bins + 1, 1).fill_(-1);  // all ones: no key above yet
  const int64_t blocks = std::min((n + cuda::kThreads - 1) / cuda::kThreads, cuda::kMaxBlocks);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_count", [&] {
    count_kernel<scalar_t><<<blocks, cuda::kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<scalar_t>() + set * n * d, xt.data_ptr<scalar_t>() + set * d * np, n, np, d,
        AtomicTally{reinterpret_cast<unsigned long long*>(counts.data_ptr<int64_t>()), pass});
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

constexpr SvgdPasses kCudaSvgdPasses{phi_pass<cuda::ElementwiseDriver, 1, kTile>, count_cuda,
                                     stein_pass<cuda::ElementwiseDriver, 1, kTile>};

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_svgd_ops<kCudaSvgdPasses>(m); }

}  // namespace fastebm
