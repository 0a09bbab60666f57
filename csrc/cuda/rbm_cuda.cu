// The RBM ops on CUDA: the family's passes (rbm.h) on the CUDA element-wise driver; the same
// kernels and Philox keys as cpu/rbm_cpu.cpp, so a seed draws the same bits on both.
#include "elementwise.cuh"
#include "fastebm/rbm_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_rbm_ops<cuda::ElementwiseDriver>(m); }

}  // namespace fastebm
