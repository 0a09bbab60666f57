// The Python module fastebm._C: loading it registers the ops (ops.cpp and the backends); it holds
// build_info() and the CPU ISA switch (cpu_isa.h). pybind11 alone, no torch/extension.h.
#include <ATen/Parallel.h>
#include <pybind11/pybind11.h>

#include "fastebm/cpu_isa.h"
#include "fastebm/checks.h"

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
        info["cpu_isa"] = fastebm::cpu_isa_name(fastebm::active_cpu_isa());
        info["cpu_isa_best"] = fastebm::cpu_isa_name(fastebm::best_cpu_isa());
        info["cuda_value_checks"] = fastebm::cuda_value_checks();
        info["parallel"] = at::get_parallel_info();
        return info;
      },
      "How this build of fastebm was compiled and runs: CUDA kernels, OpenMP, the CPU ISA path in "
      "use and the best this CPU has, whether CUDA arguments' values are checked.");
  module.def(
      "set_cpu_isa", [](const std::string& name) { fastebm::set_cpu_isa(name); },
      "Force the CPU element-wise path: 'baseline', 'avx2' or 'avx512' (one the CPU has).");
  module.def(
      "set_cuda_value_checks", [](bool on) { fastebm::set_cuda_value_checks(on); },
      "Check CUDA arguments' values (NaN/Inf, sign) too, at the cost of a device sync per check.");
}
