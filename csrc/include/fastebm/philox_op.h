// The philox4x32 op: raw Philox4x32-10 blocks, so tests can check csrc/include/fastebm/philox.h
// against published known-answer vectors and CPU against CUDA bit for bit.
#pragma once

#include <ATen/core/Tensor.h>

namespace fastebm {

// counter: [N, 4] int64 in [0, 2^32). Checks arguments and returns an empty [N, 4] int64 output
// on counter's device, ready for a backend to fill.
at::Tensor philox_op_prepare(const at::Tensor& counter);

}  // namespace fastebm
