// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011): a counter-based generator; 4 x uint32 out of a 128-bit counter and a 64-bit key.
//
// fastebm keys every draw as  key = seed,  counter = (group, offset), offset = which draw of the
// op this is (e.g. 2 * sweep + phase for a Gibbs sweep). Elements come in tiles of 64 = 16 groups
// x 4 words: element i = 64 t + 16 j + l takes word j of group 16 t + l (so a run of 16 groups
// fills 4 contiguous runs of 16 elements, which vectorises without shuffles). The bits of an
// element depend only on (seed, element index, offset): not on threads, tiling or device.
// fastebm.reference.philox_words is the pure-PyTorch twin of this file.
#pragma once

#include <cstdint>

#include "fastebm/hd.h"

namespace fastebm {

struct Philox4 {
  uint32_t x[4];
};

// hi and lo 32-bit halves of the 64-bit product a * b. Written as a high-part multiply and a
// 32-bit multiply: compilers vectorise that pair (vpmuludq / mul.hi) better than one 64-bit
// product split afterwards.
FEBM_HD uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  *hi = static_cast<uint32_t>((static_cast<uint64_t>(a) * static_cast<uint64_t>(b)) >> 32);
  return a * b;
}

// One Philox4x32-10 block: counter c[4], key k[2] -> 4 random words.
FEBM_HD Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                              uint32_t k0, uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(kMul0, c0, &hi0);
    const uint32_t lo1 = mulhilo32(kMul1, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0;
    const uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// The 4 words for element group `group` of draw `offset` under `seed`.
FEBM_HD Philox4 philox_group(uint64_t seed, uint64_t group, uint64_t offset) {
  return philox4x32_10(static_cast<uint32_t>(group), static_cast<uint32_t>(group >> 32),
                       static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32),
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

constexpr int64_t kTileGroups = 16;    // groups per tile
constexpr int64_t kTileElements = 64;  // elements per tile

// Groups needed to cover n elements (whole tiles).
FEBM_HD int64_t groups_for(int64_t n) {
  return (n + kTileElements - 1) / kTileElements * kTileGroups;
}

// The element that takes word `word` of group `group`.
FEBM_HD int64_t tile_element(int64_t group, int word) {
  return group / kTileGroups * kTileElements + word * kTileGroups + group % kTileGroups;
}

}  // namespace fastebm
