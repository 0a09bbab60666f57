// Vectorised CPU fill of Philox words: the loop over element groups is what the compiler
// vectorises (one Philox block per SIMD lane).
#pragma once

#include <cstdint>

namespace fastebm {

// words[4 * (g - g0) + j] = word j of Philox group g (draw `offset`, key `seed`), g0 <= g < g1.
void philox_fill_cpu(uint32_t* words, uint64_t seed, uint64_t offset, int64_t g0, int64_t g1);

}  // namespace fastebm
