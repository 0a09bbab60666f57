// Registers the SVGD family's ops (svgd_rbf, pair_distance_median, stein_kernel_matvec) for one backend, given its passes:
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
  m.impl("pair_distance_median",
         [](const at::Tensor& x) { return pair_distance_median_op(x, passes); });
  m.impl("stein_kernel_matvec",
         [](const at::Tensor& x, const at::Tensor& score, const at::Tensor& weights,
            double bandwidth, std::string_view kernel, double beta, bool diagonal) {
           return stein_kernel_matvec_op(x, score, weights, bandwidth, kernel, beta, diagonal,
                                         passes);
         });
}

}  // namespace fastebm
