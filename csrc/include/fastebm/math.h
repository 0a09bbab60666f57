// Per-element math shared by the CPU kernels and their CUDA twins (FEBM_HD).
//
// Everything here is branch-free straight-line code over one element so that the CPU loops
// auto-vectorise (AVX2 / AVX-512 clones) and CUDA runs it per thread unchanged. No fast-math:
// the NaN/Inf argument checks live in checks.h and run before any kernel.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>

#include "fastebm/hd.h"

namespace fastebm {

template <class To, class From>
FEBM_HD To bit_cast(From from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
  To to;
  memcpy(&to, &from, sizeof(To));
  return to;
}

// Bit layout of an IEEE-754 type, for exp's 2^n and the uniform conversions below.
template <class T>
struct FloatBits;
template <>
struct FloatBits<float> {
  using Int = int32_t;
  static constexpr int kMantissa = 23;
  static constexpr int32_t kBias = 127;
  static constexpr float kRoundShifter = 12582912.0f;  // 1.5 * 2^23: x + it rounds x to an integer
  static constexpr float kMin = -87.0f, kMax = 88.0f;   // exp stays a normal, finite float
  static constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // Cody-Waite split
  static constexpr int kTaylorDegree = 7;
};
template <>
struct FloatBits<double> {
  using Int = int64_t;
  static constexpr int kMantissa = 52;
  static constexpr int64_t kBias = 1023;
  static constexpr double kRoundShifter = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kMin = -708.0, kMax = 709.0;
  static constexpr double kLn2Hi = 6.93145751953125e-1, kLn2Lo = 1.42860682030941723212e-6;
  static constexpr int kTaylorDegree = 13;
};

// 1 / d!, folded at compile time for the Taylor coefficients below.
FEBM_HD constexpr double inverse_factorial(int d) {
  return d <= 1 ? 1.0 : inverse_factorial(d - 1) / d;
}

// exp(x), |relative error| of a few ulp on [kMin, kMax]; x is clamped into that range (so
// exp(-1000) is e^kMin, not 0). Range reduction x = n ln2 + r, |r| <= ln2 / 2, then a Taylor
// polynomial for e^r and 2^n built from the exponent bits.
template <class T>
FEBM_HD T exp_clamped(T x) {
  using B = FloatBits<T>;
  x = x < B::kMin ? B::kMin : (x > B::kMax ? B::kMax : x);
  const T shifted = x * T(1.4426950408889634) + B::kRoundShifter;
  const T n = shifted - B::kRoundShifter;
  const T r = (x - n * B::kLn2Hi) - n * B::kLn2Lo;
  // e^r = Σ_d r^d / d!, Horner from the highest degree down (coefficients fold at compile time).
  T poly = T(inverse_factorial(B::kTaylorDegree));
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int d = B::kTaylorDegree - 1; d >= 0; --d) poly = poly * r + T(inverse_factorial(d));
  using I = typename B::Int;
  const I n_int = bit_cast<I>(shifted) - bit_cast<I>(B::kRoundShifter);
  const T two_n = bit_cast<T>(static_cast<I>((n_int + B::kBias) << B::kMantissa));
  return poly * two_n;
}

// A uniform draw in the open interval (0, 1) from one 32-bit word, exact in T:
//   float : (2 * (w >> 9) + 1) * 2^-24   (23 random bits)
//   double: (2 * w + 1) * 2^-33          (32 random bits)
FEBM_HD float uniform_open(uint32_t w, float) {
  return static_cast<float>(2u * (w >> 9) + 1u) * 5.9604644775390625e-08f;
}
FEBM_HD double uniform_open(uint32_t w, double) {
  return (2.0 * static_cast<double>(w) + 1.0) * 1.16415321826934814453125e-10;
}

// A Bernoulli(σ(a)) draw from a uniform u in (0, 1): 1 when u < σ(a) = 1 / (1 + e^-a), tested
// as u·(1 + e^-a) < 1 to spare the division.
template <class T>
FEBM_HD T bernoulli_sigmoid(T u, T a) {
  return u * (T(1) + exp_clamped(-a)) < T(1) ? T(1) : T(0);
}

FEBM_HD float log_(float x) { return logf(x); }
FEBM_HD double log_(double x) { return log(x); }
FEBM_HD float sqrt_(float x) { return sqrtf(x); }
FEBM_HD double sqrt_(double x) { return sqrt(x); }
FEBM_HD float cos_(float x) { return cosf(x); }
FEBM_HD double cos_(double x) { return cos(x); }
FEBM_HD float sin_(float x) { return sinf(x); }
FEBM_HD double sin_(double x) { return sin(x); }

// Box-Muller: two independent N(0, 1) draws from two uniforms in (0, 1):
//   z0 = sqrt(-2 ln u0) cos(2 pi u1),  z1 = sqrt(-2 ln u0) sin(2 pi u1).
template <class T>
FEBM_HD void box_muller(T u0, T u1, T* z0, T* z1) {
  const T radius = sqrt_(T(-2) * log_(u0));
  const T angle = T(6.283185307179586) * u1;
  *z0 = radius * cos_(angle);
  *z1 = radius * sin_(angle);
}

}  // namespace fastebm
