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
// (svgd.h distance_key): the pairs whose key agrees with `prefix` above bit shift + 16 are
// counted by their 16-bit digit at `shift`; the keys above that prefix give their minimum.
constexpr int kDigitBits = 16;
constexpr int64_t kDigits = int64_t(1) << kDigitBits;

struct RadixPass {
  int shift;        // the digit's lowest bit
  uint64_t prefix;  // the key bits above shift + 16
  FEBM_HD bool matches(uint64_t key) const {
    return shift + kDigitBits >= 64 || (key >> (shift + kDigitBits)) == prefix;
  }
  FEBM_HD bool high(uint64_t key) const {
    return shift + kDigitBits < 64 && (key >> (shift + kDigitBits)) > prefix;
  }
  FEBM_HD int64_t digit(uint64_t key) const {
    return static_cast<int64_t>((key >> shift) & (kDigits - 1));
  }
};

struct SvgdPasses {
  // phi [S, n, d] <- φ of every set from x [S, n, d] (centred), xt, vt [S, d, np] (svgd.h) and
  // the bandwidths h [S].
  void (*phi)(const at::Tensor& x, const at::Tensor& xt, const at::Tensor& vt,
              const at::Tensor& h, at::Tensor& phi);
  // counts [kDigits] int64 <- one radix pass over the pairs of set `set`; above [1] int64 <-
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
