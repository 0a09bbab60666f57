#include "fastebm/philox_cpu.h"

#include "fastebm/cpu_clones.h"
#include "fastebm/philox.h"

namespace fastebm {

FEBM_CPU_CLONES
void philox_fill_cpu(uint32_t* words, uint64_t seed, uint64_t offset, int64_t g0, int64_t g1) {
  for (int64_t g = g0; g < g1; ++g) {
    const Philox4 r = philox_group(seed, static_cast<uint64_t>(g), offset);
    uint32_t* out = words + 4 * (g - g0);
    out[0] = r.x[0];
    out[1] = r.x[1];
    out[2] = r.x[2];
    out[3] = r.x[3];
  }
}

}  // namespace fastebm
