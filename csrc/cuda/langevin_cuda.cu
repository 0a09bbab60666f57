// The Langevin ops on CUDA: the family's passes (langevin.h) on the CUDA element-wise driver; the
// same kernels and Philox keys as cpu/langevin_cpu.cpp, so a seed draws the same bits on both.
#include "elementwise.cuh"
#include "fastebm/langevin_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_langevin_ops<cuda::ElementwiseDriver>(m); }

}  // namespace fastebm
