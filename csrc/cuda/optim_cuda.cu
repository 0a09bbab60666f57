// The fused Adam step on CUDA: adam.h's kernel on the CUDA element-wise driver, the same
// per-element code as cpu/optim_cpu.cpp.
#include "elementwise.cuh"
#include "fastebm/optim_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_optim_ops<cuda::ElementwiseDriver>(m); }

}  // namespace fastebm
