// The diffusion ops on CUDA: the family's passes (diffusion.h) on the CUDA element-wise driver;
// the same kernels and Philox keys as cpu/diffusion_cpu.cpp, so a seed draws the same bits on
// both.
#include "elementwise.cuh"
#include "fastebm/diffusion_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_diffusion_ops<cuda::ElementwiseDriver>(m); }

}  // namespace fastebm
