// FEBM_CPU_CLONES: GCC/Clang function multi-versioning for the CPU hot loops. The compiler emits
// an AVX-512, an AVX2+FMA and a baseline copy of the function and picks one at load time, so one
// build vectorises on every x86-64 machine. Contraction stays off (-ffp-contract=off in setup.py)
// so all copies compute the same bits.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define FEBM_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FEBM_CPU_CLONES
#endif
