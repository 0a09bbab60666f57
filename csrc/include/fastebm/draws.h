// The random draws every kernel family uses, defined once for the CPU and CUDA drivers: one
// Philox group (philox.h) gives 4 words, and those give 4 values of T:
//   kUniform: u_j = uniform_open(word j), in (0, 1)
//   kNormal:  Box-Muller on the word pairs (0, 1) and (2, 3): z_0, z_1 from (u_0, u_1) and
//             z_2, z_3 from (u_2, u_3). In philox.h's tile layout element i pairs with i ^ 16.
//   kNone:    no draw (a deterministic pass); the kernel sees 0.
#pragma once

#include "fastebm/hd.h"
#include "fastebm/math.h"
#include "fastebm/philox.h"

namespace fastebm {

enum class Draw { kNone, kUniform, kNormal };

template <class T>
struct Draws4 {
  T x[4];
};

// The draws of one group's 4 words (kUniform / kNormal). By value in and out, so that the CPU
// driver's loop over groups keeps them in vector registers.
template <Draw D, class T>
FEBM_HD Draws4<T> group_draws(Philox4 words) {
  static_assert(D != Draw::kNone, "a kNone pass draws nothing");
  Draws4<T> out;
  for (int j = 0; j < 4; ++j) out.x[j] = uniform_open(words.x[j], T());
  if constexpr (D == Draw::kNormal) {
    box_muller(out.x[0], out.x[1], &out.x[0], &out.x[1]);
    box_muller(out.x[2], out.x[3], &out.x[2], &out.x[3]);
  }
  return out;
}

// The kUniform draw of element i of draw `offset` alone (philox.h's tile layout), the very value
// the drivers hand element i: for kernels that draw once per row (e.g. a chain's accept test).
template <class T>
FEBM_HD T element_uniform(uint64_t seed, uint64_t offset, int64_t i) {
  const int64_t group = i / kTileElements * kTileGroups + i % kTileGroups;
  const int word = static_cast<int>(i % kTileElements / kTileGroups);
  const Philox4 w = philox_group(seed, static_cast<uint64_t>(group), offset);
  // Word `word` by selects, not by index: a loop over elements stays one vector loop.
  const uint32_t low = word == 0 ? w.x[0] : w.x[1], high = word == 2 ? w.x[2] : w.x[3];
  return uniform_open(word < 2 ? low : high, T());
}

// The kNormal draw of element i of draw `offset` alone: Box-Muller on its group's word pair, as
// the drivers draw it (element i pairs with i ^ 16).
template <class T>
FEBM_HD T element_normal(uint64_t seed, uint64_t offset, int64_t i) {
  const int64_t group = i / kTileElements * kTileGroups + i % kTileGroups;
  const int word = static_cast<int>(i % kTileElements / kTileGroups);
  const Philox4 w = philox_group(seed, static_cast<uint64_t>(group), offset);
  const bool first_pair = word < 2;  // words (0, 1), else (2, 3); selects keep loops vectorised
  T z0, z1;
  box_muller(uniform_open(first_pair ? w.x[0] : w.x[2], T()),
             uniform_open(first_pair ? w.x[1] : w.x[3], T()), &z0, &z1);
  return (word & 1) ? z1 : z0;
}

}  // namespace fastebm
