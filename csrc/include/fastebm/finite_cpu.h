// One vectorised pass that tells whether a CPU tensor holds only finite values (ATen's
// isfinite().all() takes several passes and an allocation; this is the hot check of every op).
#pragma once

#include <ATen/core/Tensor.h>

namespace fastebm {

// t: any float32/float64 CPU tensor (made contiguous if needed).
bool all_finite_cpu(const at::Tensor& t);

}  // namespace fastebm
