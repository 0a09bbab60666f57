// The fused Adam step on the CPU: adam.h's kernel on the CPU element-wise driver.
#include "elementwise.h"
#include "fastebm/optim_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_optim_ops<cpu::ElementwiseDriver>(m); }

}  // namespace fastebm
