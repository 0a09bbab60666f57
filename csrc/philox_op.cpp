#include "fastebm/philox_op.h"

#include "fastebm/checks.h"

#include <ATen/ops/empty_like.h>
#include <ATen/ops/ge.h>
#include <ATen/ops/lt.h>

namespace fastebm {

at::Tensor philox_op_prepare(const at::Tensor& counter) {
  TORCH_CHECK_VALUE(counter.dim() == 2 && counter.size(1) == 4,
                    "fastebm: argument 'counter' must have shape [N, 4], got ", counter.sizes());
  TORCH_CHECK_VALUE(counter.scalar_type() == at::kLong,
                    "fastebm: argument 'counter' must be int64, got ", dtype_name(counter.scalar_type()));
  TORCH_CHECK_VALUE(!values_checked(counter) ||
                        (at::ge(counter, 0).all().item<bool>() &&
                         at::lt(counter, int64_t(1) << 32).all().item<bool>()),
                    "fastebm: argument 'counter' must hold 32-bit words in [0, 2^32)");
  return at::empty_like(counter, at::MemoryFormat::Contiguous);
}

}  // namespace fastebm
