#include "fastebm/philox_cpu.h"

#include "fastebm/cpu_clones.h"
#include "fastebm/philox.h"

namespace fastebm {

FEBM_CPU_CLONES
void philox_fill_cpu(uint32_t* words, uint64_t seed, uint64_t offset, int64_t g0, int64_t g1) {
  // Tile by tile; the loop over a tile's 16 groups is the vectorised one (contiguous stores).
  for (int64_t t0 = g0; t0 < g1; t0 += kTileGroups) {
    uint32_t* tile = words + (t0 - g0) / kTileGroups * kTileElements;
    for (int64_t l = 0; l < kTileGroups; ++l) {
      const Philox4 r = philox_group(seed, static_cast<uint64_t>(t0 + l), offset);
      for (int j = 0; j < 4; ++j) tile[j * kTileGroups + l] = r.x[j];
    }
  }
}

}  // namespace fastebm
