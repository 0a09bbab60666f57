// CPU kernel of the philox4x32 op: row r of the output is philox4x32_10(counter[r], key = seed).
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "fastebm/philox.h"
#include "fastebm/philox_op.h"

namespace fastebm {
namespace {

at::Tensor philox4x32_cpu(const at::Tensor& counter, int64_t seed) {
  at::Tensor out = philox_op_prepare(counter);  // [N, 4]
  const at::Tensor c = counter.contiguous();
  const int64_t* in = c.const_data_ptr<int64_t>();
  int64_t* o = out.data_ptr<int64_t>();
  const uint64_t key = static_cast<uint64_t>(seed);
  at::parallel_for(0, c.size(0), 4096, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t* w = in + 4 * r;
      const Philox4 x = philox4x32_10(w[0], w[1], w[2], w[3], static_cast<uint32_t>(key),
                                      static_cast<uint32_t>(key >> 32));
      for (int j = 0; j < 4; ++j) o[4 * r + j] = x.x[j];
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastebm, CPU, m) { m.impl("philox4x32", philox4x32_cpu); }

}  // namespace fastebm
