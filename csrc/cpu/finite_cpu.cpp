#include "fastebm/finite_cpu.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <atomic>

#include "fastebm/cpu_clones.h"

namespace fastebm {
namespace {

// x * 0 is 0 for finite x and NaN for NaN or +-Inf; the sum of those is NaN iff any is. Every
// term is 0 or NaN, so the order of the sum cannot change the answer: the simd reduction is exact.
template <class T>
FEBM_CPU_CLONES bool range_finite(const T* x, int64_t n) {
  T acc = T(0);
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += x[i] * T(0);
  return acc == T(0);
}

}  // namespace

bool all_finite_cpu(const at::Tensor& t) {
  const at::Tensor tc = t.contiguous();
  std::atomic<bool> finite{true};
  AT_DISPATCH_FLOATING_TYPES(tc.scalar_type(), "fastebm::all_finite_cpu", [&] {
    const scalar_t* x = tc.const_data_ptr<scalar_t>();
    at::parallel_for(0, tc.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
      if (!range_finite(x + begin, end - begin)) finite.store(false, std::memory_order_relaxed);
    });
  });
  return finite.load();
}

}  // namespace fastebm
