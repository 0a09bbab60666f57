// An op call's Seed (seed.h) from its arguments `seed` and `generator`.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

#include "fastebm/seed.h"

namespace fastebm {

// An op's `Generator? generator` argument.
using OptionalGenerator = std::optional<at::Generator>;

// generator absent: the key is `seed` (drawn by the caller, e.g. from a CPU generator).
// generator a CUDA generator (of `like`'s device): `seed` is ignored and the key is taken from
// the generator's Philox state, advancing it by 4, graph-safely (seed.h). Anything else is
// refused naming the argument.
Seed op_seed(int64_t seed, const OptionalGenerator& generator, const at::Tensor& like);

// The CUDA backend's reader of a CUDA generator's state (cuda/seed_cuda.cu registers it when
// the extension loads; a CPU-only build has none).
using CudaGeneratorSeed = Seed (*)(const at::Generator& generator);
void set_cuda_generator_seed(CudaGeneratorSeed read);

}  // namespace fastebm
