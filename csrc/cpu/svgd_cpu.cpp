// The SVGD op on the CPU: svgd.h's φ tiles on the CPU driver's rows (8 particles against tiles of
// 256, every ISA path), and the median's radix passes counting into one histogram per thread.
#include <ATen/Parallel.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "elementwise.h"
#include "fastebm/svgd.h"
#include "fastebm/svgd_register.h"

namespace fastebm {
namespace {

constexpr int kRowParticles = 8;
constexpr int kTile = 256;

// One thread's histogram of digits and least key above the prefix.
struct ThreadTally {
  int64_t* counts;  // [pass.digits()]
  uint64_t* least;
  RadixPass pass;
  void operator()(uint64_t key) const {
    if (pass.matches(key)) {
      ++counts[pass.digit(key)];
    } else if (pass.high(key) && key < *least) {
      *least = key;
    }
  }
};

template <class T>
struct RadixRows {
  const T* x;   // one set's [n, d]
  const T* xt;  // its [d, np]
  int64_t n, np, d;
  int64_t* counts;   // [threads, pass.digits()]
  uint64_t* least;   // [threads]
  RadixPass pass;
  void operator()(int64_t block) const {
    const int t = at::get_thread_num();
    radix_pass_block<T, kRowParticles, kTile>(
        x, xt, n, np, d, block * kRowParticles,
        ThreadTally{counts + t * pass.digits(), least + t, pass});
  }
};

void radix_cpu(const at::Tensor& x, const at::Tensor& xt, int64_t set, const RadixPass& pass,
               at::Tensor& counts, at::Tensor& above) {
  const int64_t n = x.size(1), d = x.size(2), np = xt.size(2);
  const int threads = at::get_num_threads();
  at::Tensor per_thread = at::zeros({threads, pass.digits()}, counts.options());
  std::vector<uint64_t> least(threads, ~uint64_t(0));
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fastebm::svgd_radix", [&] {
    cpu::ElementwiseDriver::run_rows(
        x, (n + kRowParticles - 1) / kRowParticles, kRowParticles * n * (d + 4),
        RadixRows<scalar_t>{x.data_ptr<scalar_t>() + set * n * d,
                            xt.data_ptr<scalar_t>() + set * d * np, n, np, d,
                            per_thread.data_ptr<int64_t>(), least.data(), pass});
  });
  counts.copy_(per_thread.sum(0));
  const uint64_t lowest = *std::min_element(least.begin(), least.end());
  above.fill_(static_cast<int64_t>(lowest));
}

constexpr SvgdPasses kCpuSvgdPasses{phi_pass<cpu::ElementwiseDriver, kRowParticles, kTile>,
                                    radix_cpu};

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_svgd_ops<kCpuSvgdPasses>(m); }

}  // namespace fastebm
