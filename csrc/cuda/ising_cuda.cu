// The Boltzmann-machine and Ising ops on CUDA: the family's passes (ising.h) on the CUDA
// element-wise driver; the same kernels and Philox keys as cpu/ising_cpu.cpp, so a seed draws
// the same bits on both.
#include "elementwise.cuh"
#include "fastebm/ising_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CUDA, m) { register_ising_ops<cuda::ElementwiseDriver>(m); }

}  // namespace fastebm
