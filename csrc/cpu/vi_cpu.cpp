// The variational-inference op on the CPU: the family's pass (vi.h) on the CPU element-wise
// driver.
#include "elementwise.h"
#include "fastebm/vi_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_vi_ops<cpu::ElementwiseDriver>(m); }

}  // namespace fastebm
