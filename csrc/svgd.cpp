// The SVGD family's op on any backend: argument checks, the centred and transposed layouts, the
// exact median bandwidth by counting passes (svgd_ops.h RangePass) and the φ pass. Value checks
// (finite x and score) read device memory: always on the CPU, on CUDA only with value checks on
// (checks.h). The median's passes read their counts back: on CUDA, pass a bandwidth to keep a
// step free of synchronisation.
#include <ATen/TensorOperators.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/full.h>

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

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

// The squared pair distances of an evenly strided sample of set s's particles, in float64 on the
// host: [m(m-1)/2]. All of a set of at most 256 particles; n/16 of a larger one, from 256 to 1,024
// (the sample's cost, m²·d, stays a small part of a pass's n²·d).
std::vector<double> sample_pairs(const at::Tensor& x, int64_t s) {
  const int64_t n = x.size(1), d = x.size(2);
  const int64_t size = std::clamp<int64_t>(n / 16, 256, 1024), stride = (n + size - 1) / size;
  const at::Tensor sub =
      x.select(0, s).slice(0, 0, n, stride).to(at::kCPU, at::kDouble).contiguous();  // [m, d]
  const int64_t m = sub.size(0);
  const double* p = sub.data_ptr<double>();
  std::vector<double> pairs;
  pairs.reserve(static_cast<size_t>(m * (m - 1) / 2));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = i + 1; j < m; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < d; ++k) {
        const double diff = p[i * d + k] - p[j * d + k];
        sum += diff * diff;
      }
      pairs.push_back(sum);
    }
  }
  return pairs;
}

// A bandwidth h the kernel can divide by: a normal number of the dtype (1/h finite).
void check_bandwidth(double h, at::ScalarType dtype, const char* what) {
  const double smallest = dtype == at::kFloat ? std::numeric_limits<float>::min()
                                              : std::numeric_limits<double>::min();
  TORCH_CHECK_VALUE(h >= smallest, "fastebm: ", what, " is ", h, ", below the smallest normal ",
                    dtype_name(dtype), " (", smallest, ")");
}

// Centred particles x [S, n, d] whose squared pair distances the dtype holds: ‖xᵢ - xⱼ‖² <=
// d (2 max|x|)² must stay finite (CPU, or CUDA with value checks: reads one number).
void check_spread(const at::Tensor& x) {
  if (!values_checked(x) || x.numel() == 0) return;
  const double reach = x.abs().max().item<double>();
  const double largest = x.scalar_type() == at::kFloat ? std::numeric_limits<float>::max()
                                                       : std::numeric_limits<double>::max();
  TORCH_CHECK_VALUE(4 * reach * reach * static_cast<double>(x.size(2)) <= largest,
                    "fastebm: argument 'x' is too spread out for ", dtype_name(x.scalar_type()),
                    ": its particles lie up to ", reach, " from their mean, so squared pair "
                    "distances overflow; rescale the particles");
}

// Particles x [n, d] or [S, n, d] as the SVGD passes take them: [S, n, d], contiguous (the same
// bits whatever x's strides), each set centred (distances kept), and checked: finite, at least
// 2 particles a set, squared distances the dtype holds.
at::Tensor centred_sets(const at::Tensor& x_in) {
  const int64_t dim = x_in.dim();
  TORCH_CHECK_VALUE(dim == 2 || dim == 3, "fastebm: argument 'x' must be [n, d] or [S, n, d] ",
                    "particles, got shape ", x_in.sizes());
  check_float_tensor(x_in, "x", dim);
  const at::Tensor x3 = (dim == 2 ? x_in.unsqueeze(0) : x_in).contiguous();
  TORCH_CHECK_VALUE(x3.size(1) >= 2, "fastebm: argument 'x' needs at least 2 particles per set, ",
                    "got n = ", x3.size(1));
  TORCH_CHECK_VALUE(x3.size(2) >= 1 && x3.size(0) >= 1, "fastebm: argument 'x' has an empty ",
                    "dimension: ", x_in.sizes());
  check_finite(x_in, "x");
  const at::NoGradGuard no_grad;
  const at::Tensor x = (x3 - x3.mean({1}, true)).contiguous();
  check_spread(x);
  return x;
}

// The value of rank k (from 0) of values (reordered).
double kth(std::vector<double>& values, size_t k) {
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

template <class T>
uint64_t value_key(double v) {
  return distance_key(static_cast<T>(v));
}

// The median of set s's n(n-1)/2 pair distances (numpy: the mean of the two middle values for an
// even count). A set of at most 256 particles: from all its pairs in float64. A larger one: by
// counting passes (svgd_ops.h RangePass) that narrow a range of keys around the middle rank,
// 4,096 bins a pass, from the sample's bracket (two passes in float32 when it holds), from every
// key (0 to 2^31 or 2^63) when it misses.
template <class T>
double median_distance(const at::Tensor& x, const at::Tensor& xt, int64_t s,
                       const SvgdPasses& passes) {
  constexpr int64_t kBins = int64_t(1) << 12;  // a thread's histogram in L1: 32 KB
  const int64_t n = x.size(1);
  const uint64_t pairs = static_cast<uint64_t>(n) * static_cast<uint64_t>(n - 1) / 2;
  const uint64_t all_keys = uint64_t(1) << (sizeof(T) * 8 - 1);
  const uint64_t middle = (pairs - 1) / 2;  // the lower middle's rank, counted from 0
  // The sample's pairs: every pair of a small set (its median directly), else their quantiles
  // 0.5 ± 1.6/√particles (40%-60% at 256 particles, 45%-55% at 1,024: about 6 standard
  // deviations of the sample median's rank, measured), widened by 0.1%, bracket the median; the
  // counting passes check the bracket and fall back to every key if it misses.
  std::vector<double> sample = sample_pairs(x, s);
  const size_t m = sample.size();
  if (m == pairs) {
    return 0.5 * (kth(sample, (m - 1) / 2) + kth(sample, m / 2));
  }
  const double half = 1.6 / std::sqrt(0.5 + std::sqrt(0.25 + 2.0 * static_cast<double>(m)));
  const auto rank = [&](double q) { return static_cast<size_t>(q * static_cast<double>(m - 1)); };
  uint64_t low = value_key<T>(kth(sample, rank(0.5 - half)) * (1 - 1e-3));
  uint64_t width =
      std::min(value_key<T>(kth(sample, rank(0.5 + half)) * (1 + 1e-3)), all_keys - 1) + 1 - low;
  bool bracketed = true;
  for (;;) {
    int shift = 0;
    while (((width - 1) >> shift) >= static_cast<uint64_t>(kBins)) ++shift;
    const RangePass pass{low, shift, static_cast<int64_t>(((width - 1) >> shift) + 1)};
    at::Tensor counts = at::empty({pass.bins + 2}, x.options().dtype(at::kLong));
    passes.count(x, xt, s, pass, counts);
    const at::Tensor host = counts.cpu();
    const int64_t* c = host.data_ptr<int64_t>();
    uint64_t rank = middle - std::min<uint64_t>(middle, c[pass.bins]), inside = 0;
    for (int64_t b = 0; b < pass.bins; ++b) inside += c[b];
    if (middle < static_cast<uint64_t>(c[pass.bins]) || rank >= inside) {
      TORCH_INTERNAL_ASSERT(bracketed, "svgd_rbf: the median's counts do not add up");
      bracketed = false;  // the sample's bracket missed: every key
      low = 0;
      width = all_keys;
      continue;
    }
    int64_t bin = 0;
    for (; rank >= static_cast<uint64_t>(c[bin]); ++bin) rank -= c[bin];
    low += static_cast<uint64_t>(bin) << shift;
    if (shift > 0) {
      width = uint64_t(1) << shift;
      continue;
    }
    const double lower = key_value<T>(low);
    if (pairs % 2 == 1 || rank + 1 < static_cast<uint64_t>(c[bin])) return lower;
    // The upper middle: the next key counted in this pass, or the least key past its range.
    for (int64_t next = bin + 1; next < pass.bins; ++next) {
      if (c[next] > 0) return 0.5 * (lower + key_value<T>(pass.low + next));
    }
    uint64_t least;
    std::memcpy(&least, c + pass.bins + 1, 8);
    return 0.5 * (lower + key_value<T>(least));
  }
}

// [S] float64 on the host: each set's median squared pair distance.
at::Tensor medians(const at::Tensor& x, const at::Tensor& xt, const SvgdPasses& passes) {
  at::Tensor values = at::empty({x.size(0)}, at::TensorOptions().dtype(at::kDouble));
  double* v = values.data_ptr<double>();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_median", [&] {
    for (int64_t s = 0; s < x.size(0); ++s) v[s] = median_distance<scalar_t>(x, xt, s, passes);
  });
  return values;
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> svgd_rbf_op(const at::Tensor& x_in, const at::Tensor& score_in,
                                               std::optional<double> bandwidth,
                                               at::OptionalIntArrayRef rows,
                                               const SvgdPasses& passes) {
  const at::Tensor x = centred_sets(x_in);  // [S, n, d]
  check_same_shape(score_in, "score", x_in, "x");
  const int64_t S = x.size(0), n = x.size(1), d = x.size(2);
  check_finite(score_in, "score");
  if (bandwidth) {
    check_scalar(*bandwidth, "bandwidth", x_in.scalar_type(), true);
    check_bandwidth(*bandwidth, x_in.scalar_type(), "argument 'bandwidth'");
  }
  TORCH_CHECK_VALUE(!rows || rows->size() == 2, "fastebm: argument 'rows' must be [begin, end), ",
                    "got ", *rows);
  const int64_t begin = rows ? (*rows)[0] : 0, end = rows ? (*rows)[1] : n;  // φ's particles
  TORCH_CHECK_VALUE(0 <= begin && begin < end && end <= n, "fastebm: argument 'rows' must be ",
                    "[begin, end) with 0 <= begin < end <= n = ", n, ", got [", begin, ", ", end,
                    ")");
  const at::NoGradGuard no_grad;
  const at::Tensor score = (x_in.dim() == 2 ? score_in.unsqueeze(0) : score_in).contiguous();
  const at::Tensor xt = transposed(x);
  at::Tensor h;
  if (bandwidth) {
    h = at::full({S}, *bandwidth, x.options());
  } else {
    at::Tensor values = medians(x, xt, passes);
    double* v = values.data_ptr<double>();
    for (int64_t s = 0; s < S; ++s) {
      v[s] = v[s] > 0 ? v[s] / std::log(static_cast<double>(n) + 1) : 1.0;
      check_bandwidth(v[s], x.scalar_type(), "the median heuristic's bandwidth (argument 'x' "
                      "is too concentrated: rescale the particles or pass 'bandwidth')");
    }
    h = values.to(x.options());
  }
  const at::Tensor vt = transposed(score - h.reciprocal().mul(2).view({S, 1, 1}) * x);
  at::Tensor phi = at::empty({S, end - begin, d}, x.options());
  passes.phi(x, xt, vt, h, begin, phi);
  check_step_finite(phi, {{&x_in, "x"}, {&score_in, "score"}});
  const bool single = x_in.dim() == 2;
  return {single ? phi.squeeze(0) : phi, single ? h.squeeze(0) : h};
}

at::Tensor pair_distance_median_op(const at::Tensor& x_in, const SvgdPasses& passes) {
  const at::Tensor x = centred_sets(x_in);
  const at::Tensor med = medians(x, transposed(x), passes).to(x.options());
  return x_in.dim() == 2 ? med.squeeze(0) : med;
}

at::Tensor stein_kernel_matvec_op(const at::Tensor& x_in, const at::Tensor& score_in,
                                  const at::Tensor& weights_in, double bandwidth,
                                  std::string_view kernel, double beta, bool diagonal,
                                  const SvgdPasses& passes) {
  TORCH_CHECK_VALUE(x_in.dim() == 2, "fastebm: argument 'x' must be [n, d] particles, got shape ",
                    x_in.sizes());
  check_same_shape(score_in, "score", x_in, "x");
  check_float_tensor(weights_in, "weights", 2);
  check_same_kind(weights_in, "weights", x_in, "x");
  check_size(weights_in, "weights", 0, x_in.size(0), "n, the number of particles");
  TORCH_CHECK_VALUE(weights_in.size(1) >= 1, "fastebm: argument 'weights' needs at least one ",
                    "column, got shape ", weights_in.sizes());
  const at::Tensor x = centred_sets(x_in).squeeze(0);  // [n, d]
  check_finite(score_in, "score");
  check_finite(weights_in, "weights");
  check_scalar(bandwidth, "bandwidth", x_in.scalar_type(), true);
  check_bandwidth(bandwidth, x_in.scalar_type(), "argument 'bandwidth'");
  TORCH_CHECK_VALUE(kernel == "rbf" || kernel == "imq", "fastebm: argument 'kernel' must be ",
                    "'rbf' or 'imq', got '", kernel, "'");
  TORCH_CHECK_VALUE(beta > -1 && beta < 0, "fastebm: argument 'beta' (the IMQ kernel's power) ",
                    "must lie in (-1, 0), got ", beta);
  const at::NoGradGuard no_grad;
  const at::Tensor score = score_in.contiguous();
  const at::Tensor xt = transposed(x.unsqueeze(0)).squeeze(0);             // [d, np]
  const at::Tensor st = transposed(score.unsqueeze(0)).squeeze(0);         // [d, np]
  const at::Tensor wt = transposed(weights_in.unsqueeze(0)).squeeze(0);    // [m, np]
  at::Tensor out = at::empty(weights_in.sizes(), x.options());
  passes.stein(x, score, xt, st, wt, bandwidth,
               kernel == "rbf" ? SteinBase::kRbf : SteinBase::kImq, beta, diagonal, out);
  check_step_finite(out, {{&x_in, "x"}, {&score_in, "score"}, {&weights_in, "weights"}});
  return out;
}

}  // namespace fastebm
