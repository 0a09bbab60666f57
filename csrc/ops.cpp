// Every fastebm op schema, in one place; backends add kernels with TORCH_LIBRARY_IMPL in
// cpu/*_cpu.cpp and cuda/*_cuda.cu.
#include <torch/library.h>

TORCH_LIBRARY(fastebm, m) {
  m.def("philox4x32(Tensor counter, int seed) -> Tensor");
  m.def("rbm_gibbs(Tensor v, Tensor W, Tensor b, Tensor c, int k, int seed) -> (Tensor, Tensor)");
  m.def(
      "grbm_gibbs(Tensor v, Tensor W, Tensor b, Tensor c, Tensor sigma, int k, int seed)"
      " -> (Tensor, Tensor)");
}
