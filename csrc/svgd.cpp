// The SVGD family's op on any backend: argument checks, the centred and transposed layouts, the
// exact median bandwidth by radix selection (svgd_ops.h RadixPass) and the φ pass. Value checks
// (finite x and score) read device memory: always on the CPU, on CUDA only with value checks on
// (checks.h). The median's passes read their counts back: on CUDA, pass a bandwidth to keep a
// step free of synchronisation.
#include <ATen/TensorOperators.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/full.h>

#include <c10/core/GradMode.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "fastebm/checks.h"
#include "fastebm/svgd.h"

namespace fastebm {
namespace {

// [S, d, np]: each set's rows as columns, zero-padded to np = a multiple of kSvgdPad.
at::Tensor transposed(const at::Tensor& x) {
  const int64_t n = x.size(1), np = (n + kSvgdPad - 1) / kSvgdPad * kSvgdPad;
  return at::constant_pad_nd(x.transpose(1, 2), {0, np - n}).contiguous();
}

template <class T>
double key_value(uint64_t key) {
  T v;
  if constexpr (sizeof(T) == 4) {
    const auto bits = static_cast<uint32_t>(key);
    std::memcpy(&v, &bits, 4);
  } else {
    std::memcpy(&v, &key, 8);
  }
  return static_cast<double>(v);
}

// The median of set s's n(n-1)/2 pair distances (numpy: the mean of the two middle values for an
// even count), selected digit by digit from the top of their keys, one pass per digit.
template <class T>
double median_distance(const at::Tensor& x, const at::Tensor& xt, int64_t s,
                       const SvgdPasses& passes) {
  const int64_t n = x.size(1);
  const uint64_t pairs = static_cast<uint64_t>(n) * static_cast<uint64_t>(n - 1) / 2;
  const int bits = pairs < (uint64_t(1) << 22) ? 8 : 16;
  uint64_t rank = (pairs - 1) / 2;  // the lower middle, counted from 0
  auto counts = at::empty({int64_t(1) << bits}, x.options().dtype(at::kLong));
  auto above = at::empty({1}, x.options().dtype(at::kLong));
  uint64_t key = 0;
  int64_t digit = 0;
  at::Tensor host;
  for (int shift = static_cast<int>(sizeof(T)) * 8 - bits; shift >= 0; shift -= bits) {
    passes.radix(x, xt, s, RadixPass{shift, bits, key}, counts, above);
    host = counts.cpu();
    const int64_t* c = host.data_ptr<int64_t>();
    for (digit = 0; rank >= static_cast<uint64_t>(c[digit]); ++digit) rank -= c[digit];
    key = (key << bits) | static_cast<uint64_t>(digit);
  }
  const double low = key_value<T>(key);
  if (pairs % 2 == 1) return low;
  // The upper middle: the same key, the next digit counted in the last pass, or the least key
  // above the last pass's prefix.
  const int64_t* c = host.data_ptr<int64_t>();
  if (rank + 1 < static_cast<uint64_t>(c[digit])) return low;
  for (int64_t next = digit + 1; next < host.numel(); ++next) {
    if (c[next] > 0) return 0.5 * (low + key_value<T>((key & ~uint64_t(host.numel() - 1)) | next));
  }
  uint64_t least;
  const int64_t least_bits = above.cpu().item<int64_t>();
  std::memcpy(&least, &least_bits, 8);
  return 0.5 * (low + key_value<T>(least));
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> svgd_rbf_op(const at::Tensor& x_in, const at::Tensor& score_in,
                                               std::optional<double> bandwidth,
                                               const SvgdPasses& passes) {
  const int64_t dim = x_in.dim();
  TORCH_CHECK_VALUE(dim == 2 || dim == 3, "fastebm: argument 'x' must be [n, d] or [S, n, d] ",
                    "particles, got shape ", x_in.sizes());
  check_float_tensor(x_in, "x", dim);
  check_same_shape(score_in, "score", x_in, "x");
  const at::Tensor x3 = dim == 2 ? x_in.unsqueeze(0) : x_in;
  const int64_t S = x3.size(0), n = x3.size(1), d = x3.size(2);
  TORCH_CHECK_VALUE(n >= 2, "fastebm: argument 'x' needs at least 2 particles per set, got n = ",
                    n);
  TORCH_CHECK_VALUE(d >= 1 && S >= 1, "fastebm: argument 'x' has an empty dimension: ",
                    x_in.sizes());
  check_finite(x_in, "x");
  check_finite(score_in, "score");
  if (bandwidth) check_positive_finite(*bandwidth, "bandwidth");
  const at::NoGradGuard no_grad;
  const at::Tensor x = (x3 - x3.mean({1}, true)).contiguous();  // [S, n, d]: distances kept
  const at::Tensor score = (dim == 2 ? score_in.unsqueeze(0) : score_in).contiguous();
  const at::Tensor xt = transposed(x);
  at::Tensor h;
  if (bandwidth) {
    h = at::full({S}, *bandwidth, x.options());
  } else {
    at::Tensor values = at::empty({S}, at::TensorOptions().dtype(at::kDouble));
    double* v = values.data_ptr<double>();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_median", [&] {
      for (int64_t s = 0; s < S; ++s) {
        const double med = median_distance<scalar_t>(x, xt, s, passes);
        v[s] = med > 0 ? med / std::log(static_cast<double>(n) + 1) : 1.0;
      }
    });
    h = values.to(x.options());
  }
  const at::Tensor vt = transposed(score - h.reciprocal().mul(2).view({S, 1, 1}) * x);
  at::Tensor phi = at::empty_like(x);
  passes.phi(x, xt, vt, h, phi);
  return {dim == 2 ? phi.squeeze(0) : phi, dim == 2 ? h.squeeze(0) : h};
}

}  // namespace fastebm
