// FEBM_CPU_CLONES: GCC/Clang function multi-versioning (AVX-512, AVX2+FMA and baseline copies,
// picked by the CPU at load time) for the NaN/Inf argument check (finite_cpu.cpp), whose answer is
// exact on every copy. The element-wise passes do not use it: they run on cpu/elementwise.h's
// per-ISA copies, which FASTEBM_CPU_ISA can force.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define FEBM_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FEBM_CPU_CLONES
#endif
