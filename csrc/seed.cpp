#include <c10/util/Exception.h>

#include "fastebm/seed_ops.h"

namespace fastebm {
namespace {

CudaGeneratorSeed cuda_generator_seed = nullptr;

}  // namespace

void set_cuda_generator_seed(CudaGeneratorSeed read) { cuda_generator_seed = read; }

Seed op_seed(int64_t seed, const OptionalGenerator& generator, const at::Tensor& like) {
  if (!generator.has_value() || !generator->defined()) return Seed(static_cast<uint64_t>(seed));
  const c10::Device device = generator->device();
  TORCH_CHECK_VALUE(device.is_cuda(), "fastebm: argument 'generator' is a ", device.type(),
                    " generator; an op takes only a CUDA generator (a CPU generator's draw is "
                    "passed as 'seed')");
  TORCH_CHECK_VALUE(
      like.is_cuda() && (device.index() < 0 || device.index() == like.device().index()),
      "fastebm: argument 'generator' is on ", device, " but the op's tensors are on ",
      like.device());
  TORCH_CHECK(cuda_generator_seed != nullptr,
              "fastebm: this build has no CUDA backend to read argument 'generator'");
  return cuda_generator_seed(*generator);
}

}  // namespace fastebm
