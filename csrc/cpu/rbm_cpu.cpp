// The RBM ops on the CPU: the family's passes (rbm.h) on the CPU element-wise driver.
#include "elementwise.h"
#include "fastebm/rbm_register.h"

namespace fastebm {

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_rbm_ops<cpu::ElementwiseDriver>(m); }

}  // namespace fastebm
