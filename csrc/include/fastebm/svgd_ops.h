// The SVGD family's op, written once for every backend over SvgdPasses: svgd.h's tile kernels
// on a backend (cpu/svgd_cpu.cpp, cuda/svgd_cuda.cu).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

#include "fastebm/hd.h"

namespace fastebm {

// One counting pass of the exact median over a set's pair distances, keyed by their bits (svgd.h
// distance_key: monotone in the value): the keys below `low` are counted, those in [low, end)
// counted by bin (key - low) >> shift (end = low + bins << shift), and the least key at or
// above `end` kept (the value past the range, for an even count's upper middle).
struct RangePass {
  uint64_t low;
  int shift;
  int64_t bins;
  FEBM_HD uint64_t end() const { return low + (static_cast<uint64_t>(bins) << shift); }
};

// The base kernel of a Stein kernel (stein.h).
enum class SteinBase : int { kRbf = 0, kImq = 1 };

struct SvgdPasses {
  // phi [S, m, d] <- φ of every set's particles begin .. begin + m - 1 from x [S, n, d]
  // (centred), xt, vt [S, d, np] (svgd.h) and the bandwidths h [S].
  void (*phi)(const at::Tensor& x, const at::Tensor& xt, const at::Tensor& vt,
              const at::Tensor& h, int64_t begin, at::Tensor& phi);
  // counts [bins + 2] int64 <- one counting pass over the pairs of set `set`: the bins, then
  // the count below `low`, then the least key at or above the range's end (as bits; all ones
  // when none).
  void (*count)(const at::Tensor& x, const at::Tensor& xt, int64_t set, const RangePass& pass,
                at::Tensor& counts);
  // out [n, m] <- Σⱼ u(xᵢ, xⱼ) w_jb, the Stein kernel u of stein.h, from x [n, d] (centred),
  // score [n, d], their transposes xt, st [d, np] and the weights' wt [m, np].
  void (*stein)(const at::Tensor& x, const at::Tensor& score, const at::Tensor& xt,
                const at::Tensor& st, const at::Tensor& wt, double h, SteinBase base,
                double beta, bool diagonal, at::Tensor& out);
};

// (φ, h) of SVGD with the RBF kernel k(x, y) = exp(-‖x - y‖²/h) for x, score [n, d] or
// [S, n, d] (S independent particle sets): φᵢ = (1/n) Σⱼ [k(xⱼ, xᵢ) scoreⱼ + (2/h) k(xⱼ, xᵢ)
// (xᵢ - xⱼ)]; h = bandwidth, or (None) med / log(n + 1) with med the exact median of ‖xᵢ - xⱼ‖²
// over the pairs i < j (numpy's median; h = 1 when med = 0). h: [] or [S], x's dtype. With
// rows = [begin, end): φ of particles begin .. end - 1 only ([end - begin, d] a set), the sums
// still over all n: those rows of the whole call, bit for bit.
std::tuple<at::Tensor, at::Tensor> svgd_rbf_op(const at::Tensor& x, const at::Tensor& score,
                                               std::optional<double> bandwidth,
                                               at::OptionalIntArrayRef rows,
                                               const SvgdPasses& passes);

// [S] or [] (as x): the exact median of ‖xᵢ - xⱼ‖² over each set's pairs i < j (numpy's
// median), the one svgd_rbf's default bandwidth divides by log(n + 1).
at::Tensor pair_distance_median_op(const at::Tensor& x, const SvgdPasses& passes);

// [n, m] = U w for particles x, their scores ∇log p(x) [n, d] and weights [n, m]: U the kernel
// Stein discrepancy's Stein kernel (stein.h) with base kernel `kernel` ("rbf": exp(-‖r‖²/h);
// "imq": (1 + ‖r‖²/h)^beta, -1 < beta < 0), its diagonal kept or left out.
at::Tensor stein_kernel_matvec_op(const at::Tensor& x, const at::Tensor& score,
                                  const at::Tensor& weights, double bandwidth,
                                  std::string_view kernel, double beta, bool diagonal,
                                  const SvgdPasses& passes);

}  // namespace fastebm
