// The Python module fastebm._C: loading it registers the ops (ops.cpp and the backends); its
// one function, build_info(), says how this build was compiled. pybind11 alone, no torch/extension.h.
#include <ATen/Parallel.h>
#include <pybind11/pybind11.h>

namespace {

const char* vector_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
  if (__builtin_cpu_supports("x86-64-v3")) return "avx2";
  return "sse2";
#elif defined(__aarch64__)
  return "neon";
#else
  return "scalar";
#endif
}

}  // namespace

PYBIND11_MODULE(_C, module) {
  module.def(
      "build_info",
      [] {
        pybind11::dict info;
#ifdef FASTEBM_WITH_CUDA
        info["cuda"] = true;
#else
        info["cuda"] = false;
#endif
        info["openmp"] = static_cast<bool>(AT_PARALLEL_OPENMP);
        info["cpu_isa"] = vector_isa();
        info["parallel"] = at::get_parallel_info();
        return info;
      },
      "How this build of fastebm was compiled: CUDA kernels, OpenMP, and the vector ISA the "
      "CPU kernels run with on this machine.");
}
