// The Boltzmann-machine and Ising ops on the CPU: the family's passes (ising.h) on the CPU
// element-wise driver.
#include "elementwise.h"
#include "fastebm/ising_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_ising_ops<cpu::ElementwiseDriver>(m); }

}  // namespace fastebm
