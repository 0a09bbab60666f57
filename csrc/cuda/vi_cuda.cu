// The variational-inference op on CUDA: the family's pass (vi.h) on the CUDA element-wise driver;
// the same kernel and Philox keys as cpu/vi_cpu.cpp, so a seed draws the same bits on both.
#include "elementwise.cuh"
#include "fastebm/vi_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_vi_ops<cuda::ElementwiseDriver>(m); }

}  // namespace fastebm
