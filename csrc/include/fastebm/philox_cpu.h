// Vectorised CPU fill of Philox words: the loop over element groups is what the compiler
// vectorises (one Philox block per SIMD lane).
#pragma once

#include <cstdint>

namespace fastebm {

// words[e - 4 g0] = the word of element e (philox.h's tile layout) for the groups g0 <= g < g1
// of draw `offset` under `seed`; g0 is a multiple of kTileGroups.
void philox_fill_cpu(uint32_t* words, uint64_t seed, uint64_t offset, int64_t g0, int64_t g1);

}  // namespace fastebm
