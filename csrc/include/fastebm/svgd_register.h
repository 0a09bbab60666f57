// Registers the SVGD op (svgd_rbf) for one backend, given its passes:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_svgd_ops(m, kCpuSvgdPasses); }
#pragma once

#include <torch/library.h>

#include "fastebm/svgd_ops.h"

namespace fastebm {

template <const SvgdPasses& passes>
void register_svgd_ops(torch::Library& m) {
  m.impl("svgd_rbf", [](const at::Tensor& x, const at::Tensor& score,
                        std::optional<double> bandwidth, at::OptionalIntArrayRef rows) {
    return svgd_rbf_op(x, score, bandwidth, rows, passes);
  });
}

}  // namespace fastebm
