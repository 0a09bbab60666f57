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

// One Philox4x32-10 block: counter c[4], key k[2] -> 4 random words. The 32-bit words live in
// variables of type Word. Word = uint64_t (upper half kept zero) makes each 32 x 32 -> 64-bit
// product one plain multiply: the form that vectorises best on AVX2 and AVX-512 (in 64-bit
// lanes; measured 1.7x faster on AVX-512 than the narrow form) and that nvcc maps to
// mul.wide.u32. Word = uint32_t keeps 32-bit lanes with widened products: 2x faster on SSE2,
// where 64-bit lanes are only two wide. Both compute the very same bits.
template <class Word = uint64_t>
FEBM_HD Philox4 philox4x32_10(uint32_t c0_, uint32_t c1_, uint32_t c2_, uint32_t c3_,
                              uint32_t k0_, uint32_t k1_) {
  constexpr uint64_t kLow = 0xFFFFFFFFull;
  constexpr uint64_t kMul0 = 0xD2511F53ull, kMul1 = 0xCD9E8D57ull;
  constexpr uint64_t kWeyl0 = 0x9E3779B9ull, kWeyl1 = 0xBB67AE85ull;
  Word c0 = c0_, c1 = c1_, c2 = c2_, c3 = c3_, k0 = k0_, k1 = k1_;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = (c0 & kLow) * kMul0;  // hi: p0 >> 32, lo: p0 & kLow
    const uint64_t p1 = (c2 & kLow) * kMul1;
    const Word n0 = ((p1 >> 32) ^ c1 ^ k0) & kLow;
    const Word n2 = ((p0 >> 32) ^ c3 ^ k1) & kLow;
    c1 = p1 & kLow;
    c3 = p0 & kLow;
    c0 = n0;
    c2 = n2;
    k0 = (k0 + kWeyl0) & kLow;
    k1 = (k1 + kWeyl1) & kLow;
  }
  return Philox4{{static_cast<uint32_t>(c0), static_cast<uint32_t>(c1),
                  static_cast<uint32_t>(c2), static_cast<uint32_t>(c3)}};
}

// The 4 words for element group `group` of draw `offset` under `seed`.
template <class Word = uint64_t>
FEBM_HD Philox4 philox_group(uint64_t seed, uint64_t group, uint64_t offset) {
  return philox4x32_10<Word>(static_cast<uint32_t>(group), static_cast<uint32_t>(group >> 32),
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
