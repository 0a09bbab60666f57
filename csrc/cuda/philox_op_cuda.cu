// CUDA kernel of the philox4x32 op: one thread per counter row, the same philox.h as the CPU.
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "fastebm/philox.h"
#include "fastebm/philox_op.h"

namespace fastebm {
namespace {

// counter, out: [N, 4] int64.
__global__ void philox4x32_kernel(const int64_t* counter, int64_t* out, int64_t n, uint64_t key) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n) return;
  const int64_t* w = counter + 4 * r;
  const Philox4 x = philox4x32_10(w[0], w[1], w[2], w[3], static_cast<uint32_t>(key),
                                  static_cast<uint32_t>(key >> 32));
  for (int j = 0; j < 4; ++j) out[4 * r + j] = x.x[j];
}

at::Tensor philox4x32_cuda(const at::Tensor& counter, int64_t seed) {
  at::Tensor out = philox_op_prepare(counter);  // [N, 4]
  const int64_t n = counter.size(0);
  if (n == 0) return out;
  const at::Tensor c = counter.contiguous();
  const c10::cuda::CUDAGuard guard(c.device());
  constexpr int kThreads = 256;
  philox4x32_kernel<<<(n + kThreads - 1) / kThreads, kThreads, 0,
                      c10::cuda::getCurrentCUDAStream()>>>(
      c.const_data_ptr<int64_t>(), out.data_ptr<int64_t>(), n, static_cast<uint64_t>(seed));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { m.impl("philox4x32", philox4x32_cuda); }

}  // namespace fastebm
