// FEBM_HD marks a function callable from host and device code: __host__ __device__ under nvcc,
// plain inline in host-only translation units. Every per-element function that a CPU kernel and
// its CUDA twin share carries it, so both compile the very same source.
#pragma once

#if defined(__CUDACC__) || defined(__HIPCC__)
#define FEBM_HD __host__ __device__ __forceinline__
#else
#define FEBM_HD inline
#endif
