// The diffusion ops on the CPU: the family's passes (diffusion.h) on the CPU element-wise driver.
#include "elementwise.h"
#include "fastebm/diffusion_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_diffusion_ops<cpu::ElementwiseDriver>(m); }

}  // namespace fastebm
