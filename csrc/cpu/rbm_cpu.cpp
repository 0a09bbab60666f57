// CPU per-element halves of the RBM Gibbs sweeps and the CPU registration of the RBM ops
// (rbm_register.h). Elements are processed in blocks of 1024: one vectorised Philox fill, then one
// vectorised pass per row segment (bias + sigmoid + draw). Bits depend only on the element
// index, so the result is the same for any thread count.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>

#include <algorithm>

#include "fastebm/cpu_clones.h"
#include "fastebm/math.h"
#include "fastebm/philox.h"
#include "fastebm/philox_cpu.h"
#include "fastebm/rbm_register.h"

namespace fastebm {
namespace {

constexpr int64_t kBlockGroups = 256;  // Philox groups per block (16 tiles): 1024 elements
constexpr int64_t kGrainBlocks = 16;   // blocks per thread before at::parallel_for splits

// Runs row_fn(words, first, col0, len) over every row segment [first, first + len) of the
// elements [0, rows * cols) of a row-major buffer, block by block in parallel; words[j] is the
// Philox word of element first + j, col0 the column of element first.
template <class RowFn>
void for_each_row_segment(int64_t rows, int64_t cols, uint64_t seed, uint64_t offset,
                          const RowFn& row_fn) {
  const int64_t n = rows * cols;
  const int64_t groups = groups_for(n);
  const int64_t blocks = (groups + kBlockGroups - 1) / kBlockGroups;
  at::parallel_for(0, blocks, kGrainBlocks, [&](int64_t b0, int64_t b1) {
    alignas(64) uint32_t words[4 * kBlockGroups];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t g0 = blk * kBlockGroups, g1 = std::min(g0 + kBlockGroups, groups);
      philox_fill_cpu(words, seed, offset, g0, g1);
      const int64_t e0 = 4 * g0, e1 = std::min(4 * g1, n);
      for (int64_t e = e0; e < e1;) {
        const int64_t col0 = e % cols, len = std::min(cols - col0, e1 - e);
        row_fn(words + (e - e0), e, col0, len);
        e += len;
      }
    }
  });
}

// act[j] <- 1{u_j < sigmoid(scale * act[j] + bias[j])}, j < len.
template <class T>
FEBM_CPU_CLONES void bernoulli_sigmoid_row(T* act, const T* bias, T scale, const uint32_t* words,
                                           int64_t len) {
  for (int64_t j = 0; j < len; ++j) {
    act[j] = bernoulli_sigmoid(uniform_open(words[j], T()), scale * act[j] + bias[j]);
  }
}

// act[j] <- v = bias[j] + sigma[j] * (act[j] + z_j), v_scaled[j] <- v / sigma[j]. words[j] is
// element (first + j)'s word; element i pairs with element i ^ 16 (words 0-1 and 2-3 of one
// group): Box-Muller of (word of i & ~16, word of i | 16), cos for i & ~16, sin for i | 16.
// Blocks start on tile boundaries, so the partner's word is in the buffer.
template <class T>
void gaussian_visible_row(T* act, T* v_scaled, const T* bias, const T* sigma,
                          const uint32_t* words, int64_t first, int64_t len) {
  for (int64_t j = 0; j < len; ++j) {
    const int64_t i = first + j;
    T z0, z1;
    box_muller(uniform_open(words[(i & ~int64_t(16)) - first], T()),
               uniform_open(words[(i | 16) - first], T()), &z0, &z1);
    const T z = (i & 16) ? z1 : z0;
    const T v = bias[j] + sigma[j] * (act[j] + z);
    act[j] = v;
    v_scaled[j] = v / sigma[j];
  }
}

void bernoulli_sigmoid_cpu(at::Tensor& act, const at::Tensor& bias, double scale, uint64_t seed,
                           uint64_t offset) {
  const int64_t rows = act.size(0), cols = act.size(1);
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::bernoulli_sigmoid_cpu", [&] {
    scalar_t* a = act.data_ptr<scalar_t>();
    const scalar_t* b = bias.data_ptr<scalar_t>();
    for_each_row_segment(rows, cols, seed, offset,
                         [&](const uint32_t* w, int64_t e, int64_t col0, int64_t len) {
                           bernoulli_sigmoid_row(a + e, b + col0, static_cast<scalar_t>(scale),
                                                 w, len);
                         });
  });
}

void gaussian_visible_cpu(at::Tensor& act, at::Tensor& v_scaled, const at::Tensor& bias,
                          const at::Tensor& sigma, uint64_t seed, uint64_t offset) {
  const int64_t rows = act.size(0), cols = act.size(1);
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::gaussian_visible_cpu", [&] {
    scalar_t* a = act.data_ptr<scalar_t>();
    scalar_t* vs = v_scaled.data_ptr<scalar_t>();
    const scalar_t* b = bias.data_ptr<scalar_t>();
    const scalar_t* s = sigma.data_ptr<scalar_t>();
    for_each_row_segment(rows, cols, seed, offset,
                         [&](const uint32_t* w, int64_t e, int64_t col0, int64_t len) {
                           gaussian_visible_row(a + e, vs + e, b + col0, s + col0, w, e, len);
                         });
  });
}

constexpr RbmElementwise kCpuElementwise{bernoulli_sigmoid_cpu, gaussian_visible_cpu};

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_rbm_ops<kCpuElementwise>(m); }

}  // namespace fastebm
