// The CUDA backend's op_seed (seed_ops.h): a CUDA generator's Philox state, taken as PyTorch's
// own CUDA RNG kernels take it (under the generator's lock, advancing its offset by 4). Outside
// capture that state is two host values, mixed here into the key; under capture it is the
// generator's device-side seed and offset, which the kernel reads and mixes when it runs.
#include <ATen/cuda/CUDAGeneratorImpl.h>

#include <mutex>

#include "fastebm/seed_ops.h"

namespace fastebm {
namespace {

Seed read_cuda_generator(const at::Generator& generator) {
  auto* impl = generator.get<at::CUDAGeneratorImpl>();
  at::PhiloxCudaState state;
  {
    std::lock_guard<std::mutex> lock(impl->mutex_);
    state = impl->philox_cuda_state(4);
  }
  if (!state.captured_) return Seed(generator_key(state.seed_.val, state.offset_.val));
  Seed seed;
  seed.seed_ptr = state.seed_.ptr;
  seed.offset_ptr = state.offset_.ptr;
  seed.offset_intragraph = state.offset_intragraph_;
  return seed;
}

[[maybe_unused]] const bool registered = (set_cuda_generator_seed(read_cuda_generator), true);

}  // namespace
}  // namespace fastebm
