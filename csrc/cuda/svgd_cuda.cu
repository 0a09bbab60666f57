// The SVGD op on CUDA: svgd.h's φ tiles on the CUDA driver's rows (a particle per thread,
// tiles of 16), and the median's radix passes counting with atomics; the same tile code and
// sum order as cpu/svgd_cpu.cpp.
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "elementwise.cuh"
#include "fastebm/svgd.h"
#include "fastebm/svgd_register.h"

namespace fastebm {
namespace {

constexpr int kTile = 16;

struct AtomicTally {
  unsigned long long* counts;  // [pass.digits()]
  unsigned long long* least;
  RadixPass pass;
  __device__ void operator()(uint64_t key) const {
    if (pass.matches(key)) {
      atomicAdd(counts + pass.digit(key), 1ull);
    } else if (pass.high(key)) {
      atomicMin(least, static_cast<unsigned long long>(key));
    }
  }
};

template <class T>
__global__ void radix_kernel(const T* x, const T* xt, int64_t n, int64_t np, int64_t d,
                             AtomicTally tally) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    radix_pass_block<T, 1, kTile>(x, xt, n, np, d, i, tally);
  }
}

void radix_cuda(const at::Tensor& x, const at::Tensor& xt, int64_t set, const RadixPass& pass,
                at::Tensor& counts, at::Tensor& above) {
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t n = x.size(1), d = x.size(2), np = xt.size(2);
  counts.zero_();
  above.fill_(-1);  // all ones: no key above yet
  const int64_t blocks = std::min((n + cuda::kThreads - 1) / cuda::kThreads, cuda::kMaxBlocks);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_radix", [&] {
    radix_kernel<scalar_t><<<blocks, cuda::kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<scalar_t>() + set * n * d, xt.data_ptr<scalar_t>() + set * d * np, n, np, d,
        AtomicTally{reinterpret_cast<unsigned long long*>(counts.data_ptr<int64_t>()),
                    reinterpret_cast<unsigned long long*>(above.data_ptr<int64_t>()), pass});
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

constexpr SvgdPasses kCudaSvgdPasses{phi_pass<cuda::ElementwiseDriver, 1, kTile>, radix_cuda};

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_svgd_ops<kCudaSvgdPasses>(m); }

}  // namespace fastebm
