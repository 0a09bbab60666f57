// An op's Philox key (philox.h: key = seed). Outside CUDA graph capture it is a value fixed on
// the host: the op's `seed` argument, or the key of a CUDA generator's state (seed, offset).
// While a CUDA graph is captured it is that generator's seed and offset *read on the device when
// the kernel runs* (PyTorch's own CUDA RNG kernels unpack their PhiloxCudaState the same way),
// so each replay of the graph draws afresh, and a replay from a generator state draws the bits
// that eager calls from that state draw.
#pragma once

#include <cstdint>

#include "fastebm/hd.h"

namespace fastebm {

// splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection of 64-bit words.
FEBM_HD uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The key of one op call on a CUDA generator at (seed, offset); the generator's offset then
// advances by 4 (fastebm.ops.seeds draws the same key on the host).
FEBM_HD uint64_t generator_key(uint64_t seed, uint64_t offset) {
  return mix64(mix64(seed) ^ offset) >> 1;
}

struct Seed {
  uint64_t value = 0;                 // the key, unless captured
  const int64_t* seed_ptr = nullptr;  // captured: the generator's seed and offset (device memory)
  const int64_t* offset_ptr = nullptr;
  uint64_t offset_intragraph = 0;  // captured: this call's offset past the graph's start

  Seed() = default;
  Seed(uint64_t key) : value(key) {}  // NOLINT: a plain key converts implicitly

  // The key: on the host for a CPU op (never captured), on the device for a CUDA kernel.
  FEBM_HD uint64_t get() const {
    return seed_ptr == nullptr
               ? value
               : generator_key(static_cast<uint64_t>(*seed_ptr),
                               static_cast<uint64_t>(*offset_ptr) + offset_intragraph);
  }
};

}  // namespace fastebm
