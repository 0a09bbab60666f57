// The SVGD family's op, written once for every backend over SvgdPasses: svgd.h's tile kernels
// on a backend (cpu/svgd_cpu.cpp, cuda/svgd_cuda.cu).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <tuple>

#include "fastebm/hd.h"

namespace fastebm {

// One radix-select pass of the exact median over a set's pair distances, keyed by their bits
// (svgd.h distance_key): the pairs whose key agrees with `prefix` above bit shift + bits are
// counted by their `bits`-wide digit at `shift`; the keys above that prefix give their minimum.
// Digits are 16 bits wide, 8 for sets of few pairs (a small histogram to clear and add up).
struct RadixPass {
  int shift;        // the digit's lowest bit
  int bits;         // the digit's width
  uint64_t prefix;  // the key bits above shift + bits
  FEBM_HD int64_t digits() const { return int64_t(1) << bits; }
  FEBM_HD bool matches(uint64_t key) const {
    return shift + bits >= 64 || (key >> (shift + bits)) == prefix;
  }
  FEBM_HD bool high(uint64_t key) const {
    return shift + bits < 64 && (key >> (shift + bits)) > prefix;
  }
  FEBM_HD int64_t digit(uint64_t key) const {
    return static_cast<int64_t>((key >> shift) & (digits() - 1));
  }
};

struct SvgdPasses {
  // phi [S, n, d] <- φ of every set from x [S, n, d] (centred), xt, vt [S, d, np] (svgd.h) and
  // the bandwidths h [S].
  void (*phi)(const at::Tensor& x, const at::Tensor& xt, const at::Tensor& vt,
              const at::Tensor& h, at::Tensor& phi);
  // counts [pass.digits()] int64 <- one radix pass over the pairs of set `set`; above [1] int64 <-
  // the least key above the pass's prefix (as bits; all ones when none).
  void (*radix)(const at::Tensor& x, const at::Tensor& xt, int64_t set, const RadixPass& pass,
                at::Tensor& counts, at::Tensor& above);
};

// (φ, h) of SVGD with the RBF kernel k(x, y) = exp(-‖x - y‖²/h) for x, score [n, d] or
// [S, n, d] (S independent particle sets): φᵢ = (1/n) Σⱼ [k(xⱼ, xᵢ) scoreⱼ + (2/h) k(xⱼ, xᵢ)
// (xᵢ - xⱼ)]; h = bandwidth, or (None) med / log(n + 1) with med the exact median of ‖xᵢ - xⱼ‖²
// over the pairs i < j (numpy's median; h = 1 when med = 0). h: [] or [S], x's dtype.
std::tuple<at::Tensor, at::Tensor> svgd_rbf_op(const at::Tensor& x, const at::Tensor& score,
                                               std::optional<double> bandwidth,
                                               const SvgdPasses& passes);

}  // namespace fastebm
