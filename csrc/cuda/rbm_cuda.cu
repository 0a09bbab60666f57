// CUDA per-element halves of the RBM Gibbs sweeps (one thread per Philox group: its 4 elements
// in philox.h's tile layout) and the CUDA registration of the RBM ops. The math and the Philox keys are those of
// cpu/rbm_cpu.cpp (fastebm/math.h, fastebm/philox.h), so a seed draws the same bits on both.
#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "fastebm/math.h"
#include "fastebm/philox.h"
#include "fastebm/rbm_register.h"

namespace fastebm {
namespace {

constexpr int kThreads = 256;

int64_t blocks_for_groups(int64_t groups) { return (groups + kThreads - 1) / kThreads; }

// act: [R, C] row-major, n = R * C; bias: [C]. act <- Bern(sigmoid(scale * act + bias)).
template <class T>
__global__ void bernoulli_sigmoid_kernel(T* act, const T* bias, T scale, int64_t n,
                                         int64_t cols, uint64_t seed, uint64_t offset) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= groups_for(n)) return;
  const Philox4 r = philox_group(seed, static_cast<uint64_t>(g), offset);
#pragma unroll
  for (int word = 0; word < 4; ++word) {
    const int64_t i = tile_element(g, word);
    if (i < n) {
      act[i] = bernoulli_sigmoid(uniform_open(r.x[word], T()), scale * act[i] + bias[i % cols]);
    }
  }
}

// act: [R, C] (h W^T in, v out), v_scaled: [R, C]; bias, sigma: [C].
template <class T>
__global__ void gaussian_visible_kernel(T* act, T* v_scaled, const T* bias, const T* sigma,
                                        int64_t n, int64_t cols, uint64_t seed,
                                        uint64_t offset) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= groups_for(n)) return;
  const Philox4 r = philox_group(seed, static_cast<uint64_t>(g), offset);
  T z[4];
  box_muller(uniform_open(r.x[0], T()), uniform_open(r.x[1], T()), &z[0], &z[1]);
  box_muller(uniform_open(r.x[2], T()), uniform_open(r.x[3], T()), &z[2], &z[3]);
#pragma unroll
  for (int word = 0; word < 4; ++word) {
    const int64_t i = tile_element(g, word);
    if (i < n) {
      const int64_t col = i % cols;
      const T v = bias[col] + sigma[col] * (act[i] + z[word]);
      act[i] = v;
      v_scaled[i] = v / sigma[col];
    }
  }
}

void bernoulli_sigmoid_cuda(at::Tensor& act, const at::Tensor& bias, double scale,
                            uint64_t seed, uint64_t offset) {
  const int64_t n = act.numel(), groups = groups_for(n);
  if (n == 0) return;
  const c10::cuda::CUDAGuard guard(act.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::bernoulli_sigmoid_cuda", [&] {
    bernoulli_sigmoid_kernel<scalar_t><<<blocks_for_groups(groups), kThreads, 0, stream>>>(
        act.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(), static_cast<scalar_t>(scale), n,
        act.size(1), seed, offset);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

void gaussian_visible_cuda(at::Tensor& act, at::Tensor& v_scaled, const at::Tensor& bias,
                           const at::Tensor& sigma, uint64_t seed, uint64_t offset) {
  const int64_t n = act.numel(), groups = groups_for(n);
  if (n == 0) return;
  const c10::cuda::CUDAGuard guard(act.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::gaussian_visible_cuda", [&] {
    gaussian_visible_kernel<scalar_t><<<blocks_for_groups(groups), kThreads, 0, stream>>>(
        act.data_ptr<scalar_t>(), v_scaled.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(),
        sigma.data_ptr<scalar_t>(), n, act.size(1), seed, offset);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

constexpr RbmElementwise kCudaElementwise{bernoulli_sigmoid_cuda, gaussian_visible_cuda};

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_rbm_ops<kCudaElementwise>(m); }

}  // namespace fastebm
