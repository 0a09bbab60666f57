#include "fastebm/cpu_isa.h"

#include <c10/util/Exception.h>

#include <atomic>

namespace fastebm {
namespace {

bool cpu_has(CpuIsa isa) {
#if FEBM_X86_ISA_PATHS
  __builtin_cpu_init();
  switch (isa) {
    case CpuIsa::kAvx512:
      return __builtin_cpu_supports("x86-64-v4");
    case CpuIsa::kAvx2:
      return __builtin_cpu_supports("x86-64-v3");
    case CpuIsa::kBaseline:
      return true;
  }
  return false;
#else
  return isa == CpuIsa::kBaseline;
#endif
}

std::atomic<int>& active() {
  static std::atomic<int> isa{static_cast<int>(best_cpu_isa())};
  return isa;
}

}  // namespace

CpuIsa best_cpu_isa() {
  for (CpuIsa isa : {CpuIsa::kAvx512, CpuIsa::kAvx2}) {
    if (cpu_has(isa)) return isa;
  }
  return CpuIsa::kBaseline;
}

CpuIsa active_cpu_isa() { return static_cast<CpuIsa>(active().load(std::memory_order_relaxed)); }

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512:
      return "avx512";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kBaseline:
      return "baseline";
  }
  return "?";
}

void set_cpu_isa(const std::string& name) {
  for (CpuIsa isa : {CpuIsa::kBaseline, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
    if (name != cpu_isa_name(isa)) continue;
    TORCH_CHECK_VALUE(cpu_has(isa), "fastebm: CPU ISA path '", name,
                      "' needs instructions this CPU lacks; the best it runs is '",
                      cpu_isa_name(best_cpu_isa()), "'");
    active().store(static_cast<int>(isa), std::memory_order_relaxed);
    return;
  }
  TORCH_CHECK_VALUE(false, "fastebm: unknown CPU ISA path '", name,
                    "' (FASTEBM_CPU_ISA / set_cpu_isa take baseline, avx2 or avx512)");
}

}  // namespace fastebm
