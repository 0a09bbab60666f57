// The SVGD family's ops on the CPU: svgd.h's φ tiles on the CPU driver's rows (8 particles against
// tiles of 256, every ISA path), the median's counting passes into one histogram per thread, and
// stein.h's Stein kernel tiles (8 particles against tiles of 128).
#include <ATen/Parallel.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "elementwise.h"
#include "fastebm/stein.h"
#include "fastebm/svgd.h"
#include "fastebm/svgd_register.h"

namespace fastebm {
namespace {

constexpr int kRowParticles = 8;
constexpr int kTile = 256;
constexpr int kSteinTile = 128;  // four [8, 128] pair sums: 32 KB in float64

// One row block's pairs counted into its thread's histogram. The distances are classified by
// value in a vectorised loop (keys are monotone in the value): the count below the range, the
// least value past it, how many fall in it; rows with pairs in the range gather those keys
// and add their bins.
template <class T>
struct CountRows {
  const T* x;   // one set's [n, d]
  const T* xt;  // its [d, np]
  int64_t n, np, d;
  int64_t* counts;   // [threads, bins + 1]: the bins, then the count below
  T* least;          // [threads]
  RangePass pass;
  T low, end;        // the range's bounds as values (end: +inf past the finite keys)
  void operator()(int64_t block) const {
    const int t = at::get_thread_num();
    int64_t* bins = counts + t * (pass.bins + 1);
    int64_t below = 0;
    T lowest = least[t];
    uint64_t offsets[kTile];  // one row's keys in the range, less pass.low
    pair_tiles<T, kRowParticles, kTile>(
        x, xt, n, np, d, block * kRowParticles, [&](const T* dist, const int* first, const int* last) {
          for (int r = 0; r < kRowParticles; ++r) {
            const T* row = dist + r * kTile;
            // Counts of at most kTile, exact in T: the loop stays in T's lanes (SSE2 too).
            T row_below = 0, row_inside = 0;
            T row_least = lowest;
#pragma omp simd reduction(+ : row_below, row_inside) reduction(min : row_least)
            for (int j = first[r]; j < last[r]; ++j) {
              const T v = row[j];
              row_below += v < low ? T(1) : T(0);
              row_inside += v >= low && v < end ? T(1) : T(0);
              row_least = v >= end && v < row_least ? v : row_least;
            }
            below += static_cast<int64_t>(row_below);
            lowest = row_least;
            if (row_inside == 0) continue;
            // The keys in the range, compacted without branches (a branch per pair would
            // mispredict at the bracket's 10-20% rate), then binned.
            int inside = 0;
            for (int j = first[r]; j < last[r]; ++j) {
              const T v = row[j];
              offsets[inside] = distance_key(v) - pass.low;
              inside += static_cast<int>(v >= low) & static_cast<int>(v < end);
            }
            for (int c = 0; c < inside; ++c) ++bins[offsets[c] >> pass.shift];
          }
        });
    bins[pass.bins] += below;
    least[t] = lowest;
  }
};

template <class T>
T key_as_value(uint64_t key) {
  constexpr uint64_t kInf = sizeof(T) == 4 ? 0x7F800000u : 0x7FF0000000000000u;
  T v;
  if constexpr (sizeof(T) == 4) {
    const auto bits = static_cast<uint32_t>(std::min(key, kInf));
    std::memcpy(&v, &bits, 4);
  } else {
    const uint64_t bits = std::min(key, kInf);
    std::memcpy(&v, &bits, 8);
  }
  return v;
}

void count_cpu(const at::Tensor& x, const at::Tensor& xt, int64_t set, const RangePass& pass,
               at::Tensor& counts) {
  const int64_t n = x.size(1), d = x.size(2), np = xt.size(2);
  const int threads = at::get_num_threads();
  at::Tensor per_thread = at::zeros({threads, pass.bins + 1}, counts.options());
  uint64_t least_key = 0;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_count", [&] {
    std::vector<scalar_t> least(threads, std::numeric_limits<scalar_t>::infinity());
    cpu::ElementwiseDriver::run_rows(
        x, (n + kRowParticles - 1) / kRowParticles, kRowParticles * n * (d + 4),
        CountRows<scalar_t>{x.data_ptr<scalar_t>() + set * n * d,
                            xt.data_ptr<scalar_t>() + set * d * np, n, np, d,
                            per_thread.data_ptr<int64_t>(), least.data(), pass,
                            key_as_value<scalar_t>(pass.low), key_as_value<scalar_t>(pass.end())});
    least_key = distance_key(*std::min_element(least.begin(), least.end()));
  });
  counts.narrow(0, 0, pass.bins + 1).copy_(per_thread.sum(0));
  counts.narrow(0, pass.bins + 1, 1).fill_(static_cast<int64_t>(least_key));
}

constexpr SvgdPasses kCpuSvgdPasses{phi_pass<cpu::ElementwiseDriver, kRowParticles, kTile>,
                                    count_cpu,
                                    stein_pass<cpu::ElementwiseDriver, kRowParticles, kSteinTile>};

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_svgd_ops<kCpuSvgdPasses>(m); }

}  // namespace fastebm
