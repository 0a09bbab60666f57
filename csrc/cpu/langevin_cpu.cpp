// The Langevin ops on the CPU: the family's passes (langevin.h) on the CPU element-wise driver.
#include "elementwise.h"
#include "fastebm/langevin_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_langevin_ops<cpu::ElementwiseDriver>(m); }

}  // namespace fastebm
