// Which vector ISA the CPU element-wise driver (cpu/elementwise.h) runs: every pass is compiled
// for the x86-64 baseline (SSE2), x86-64-v3 (AVX2 + FMA) and x86-64-v4 (AVX-512), with the same
// bits on each (no FMA contraction: -ffp-contract=off), and one is picked at run time. The best
// one the CPU has is the default; FASTEBM_CPU_ISA (read by fastebm/__init__.py) or
// fastebm.set_cpu_isa() forces one, and a path the CPU lacks is refused.
#pragma once

#include <string>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define FEBM_X86_ISA_PATHS 1
#define FEBM_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#define FEBM_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#else
#define FEBM_X86_ISA_PATHS 0
#endif

namespace fastebm {

enum class CpuIsa : int { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// The path the driver runs now (relaxed atomic read: cheap enough for every call).
CpuIsa active_cpu_isa();

// "baseline", "avx2" or "avx512".
const char* cpu_isa_name(CpuIsa isa);

// The best path this CPU can run.
CpuIsa best_cpu_isa();

// Forces a path by name; ValueError for an unknown name or a path this CPU lacks.
void set_cpu_isa(const std::string& name);

}  // namespace fastebm
