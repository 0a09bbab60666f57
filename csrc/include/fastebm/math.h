// Per-element math shared by the CPU kernels and their CUDA twins (FEBM_HD).
//
// Everything here is branch-free straight-line code over one element so that the CPU driver's
// loops vectorise on every ISA path (cpu/elementwise.h) and CUDA runs it per thread unchanged;
// no libm call but sqrt (IEEE-exact everywhere), so both compute the very same bits. No
// fast-math: the NaN/Inf argument checks live in checks.h and run before any kernel.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

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
  static constexpr int kLogTerms = 4, kSinTerms = 4, kCosTerms = 5;  // series orders (see below)
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
  static constexpr int kLogTerms = 10, kSinTerms = 8, kCosTerms = 9;
};

// Σ_{d=0}^{Top} Series::coef(d) x^d by Horner's rule, unrolled at compile time: each
// coefficient is a constant expression, and no loop is left for the vectoriser to refuse (GCC does
// not unroll a 13-step runtime loop before it vectorises, and then keeps the outer loop scalar).
template <class Series, int Top, int D = 0, class T>
FEBM_HD T horner(T x) {
  constexpr double kCoef = Series::coef(D);
  if constexpr (D == Top) {
    return T(kCoef);
  } else {
    return horner<Series, Top, D + 1>(x) * x + T(kCoef);
  }
}

// 1 / d!: the Taylor coefficients of e^x.
struct ExpSeries {
  FEBM_HD static constexpr double coef(int d) { return d <= 1 ? 1.0 : coef(d - 1) / d; }
};

// Rounds x (|x| < 2^22 for float, 2^51 for double) to the nearest integer n, returned as n and
// as the bits of x + kRoundShifter whose low word holds n: round(x) without a branch or a call.
template <class T>
FEBM_HD T round_shifted(T x, T* shifted) {
  *shifted = x + FloatBits<T>::kRoundShifter;
  return *shifted - FloatBits<T>::kRoundShifter;
}
template <class T>
FEBM_HD typename FloatBits<T>::Int shifted_int(T shifted) {
  using I = typename FloatBits<T>::Int;
  return bit_cast<I>(shifted) - bit_cast<I>(FloatBits<T>::kRoundShifter);
}

// exp(x), |relative error| of a few ulp on [kMin, kMax]; x is clamped into that range (so
// exp(-1000) is e^kMin, not 0). Range reduction x = n ln2 + r, |r| <= ln2 / 2, then a Taylor
// polynomial for e^r and 2^n built from the exponent bits.
template <class T>
FEBM_HD T exp_clamped(T x) {
  using B = FloatBits<T>;
  using I = typename B::Int;
  x = x < B::kMin ? B::kMin : (x > B::kMax ? B::kMax : x);
  T shifted;
  const T n = round_shifted(x * T(1.4426950408889634), &shifted);
  const T r = (x - n * B::kLn2Hi) - n * B::kLn2Lo;
  const T two_n = bit_cast<T>(static_cast<I>((shifted_int(shifted) + B::kBias) << B::kMantissa));
  return horner<ExpSeries, B::kTaylorDegree>(r) * two_n;
}

// exp(x) over the whole range: exp_clamped inside [kMin, kMax], and (e^{x/2})² outside it, so it
// overflows to +Inf only where e^x does (e^88.5 = 2.7e38 is a finite float32) and underflows to 0.
template <class T>
FEBM_HD T exp_full(T x) {
  using B = FloatBits<T>;
  const bool inside = x >= B::kMin && x <= B::kMax;  // selects, no branch: it vectorises
  const T e = exp_clamped(inside ? x : x * T(0.5));
  return inside ? e : e * e;
}

// 1 / (2d + 1): log(m) = 2 s Σ_d s^{2d} / (2d + 1), s = (m - 1) / (m + 1).
struct AtanhSeries {
  FEBM_HD static constexpr double coef(int d) { return 1.0 / (2 * d + 1); }
};

// ln(x) for a positive, finite, normal x, to about 1 ulp: x = m 2^e with m in [√½, √2), then
// ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172, by the odd series to s^{2 top + 1}.
template <class T>
FEBM_HD T log_positive(T x) {
  using B = FloatBits<T>;
  using U = std::make_unsigned_t<typename B::Int>;  // logical shifts (SSE2 has no 64-bit sra)
  constexpr U kMantissaMask = (U(1) << B::kMantissa) - 1;
  const U bits = bit_cast<U>(x);
  const T m1 = bit_cast<T>(static_cast<U>((bits & kMantissaMask) | (U(B::kBias) << B::kMantissa)));
  const bool high = m1 > T(1.4142135623730951);  // m in [√2, 2): halve it, raise e
  const T m = high ? m1 * T(0.5) : m1;
  // The biased exponent field E in [0, 2^11) as T, exactly, without an int -> float conversion
  // (int64 -> double has no instruction below AVX-512): the bits of 2^kMantissa + E, minus 2^kMantissa.
  const U two_mant_bits = U(B::kBias + B::kMantissa) << B::kMantissa;
  const T biased_e = bit_cast<T>(static_cast<U>(two_mant_bits | (bits >> B::kMantissa))) -
                     bit_cast<T>(two_mant_bits);
  const T e = biased_e - T(B::kBias) + (high ? T(1) : T(0));
  const T s = (m - T(1)) / (m + T(1));
  const T log_m = T(2) * s * horner<AtanhSeries, B::kLogTerms>(s * s);
  return e * B::kLn2Hi + (log_m + e * B::kLn2Lo);
}

// (-1)^d / (2d+1)! and (-1)^d / (2d)!: sin θ = θ Σ_d sin_d θ^{2d}, cos θ = Σ_d cos_d θ^{2d}.
struct SinSeries {
  FEBM_HD static constexpr double coef(int d) {
    return d == 0 ? 1.0 : -coef(d - 1) / ((2 * d) * (2 * d + 1));
  }
};
struct CosSeries {
  FEBM_HD static constexpr double coef(int d) {
    return d == 0 ? 1.0 : -coef(d - 1) / ((2 * d - 1) * (2 * d));
  }
};

// sin(2πu) and cos(2πu) for u in [0, 1] (a uniform's range), to about 1 ulp: u = q/4 + r with q
// the nearest quarter turn (r = u - q/4 is exact, |r| <= 1/8), θ = 2πr in [-π/4, π/4] by Taylor
// series, then rotated by q quarter turns. Branch-free, and the rotation is integer bit work on
// q's bits (no compare, no blend: SSE2 has no 64-bit integer compare, and AVX2's blends share
// the multiplier's ports).
template <class T>
FEBM_HD void sincos_2pi(T u, T* sin_out, T* cos_out) {
  using B = FloatBits<T>;
  using U = std::make_unsigned_t<typename B::Int>;
  constexpr int kTop = 8 * sizeof(U) - 1;  // the sign bit's place
  T shifted;
  const T q = round_shifted(u * T(4), &shifted);  // 0, 1, 2, 3 or 4 (= 0)
  const T theta = (u - q * T(0.25)) * T(6.283185307179586);
  const T theta2 = theta * theta;
  const U s = bit_cast<U>(theta * horner<SinSeries, B::kSinTerms>(theta2));
  const U c = bit_cast<U>(horner<CosSeries, B::kCosTerms>(theta2));
  // sin(θ + qπ/2), cos(θ + qπ/2): odd q swaps sin and cos (an xor swap under q's low bit); bit 1
  // of q negates sin, bit 1 of q + 1 negates cos (q = 4 has neither: it is q = 0).
  const U n = static_cast<U>(shifted_int(shifted));
  const U swap = (U(0) - (n & U(1))) & (s ^ c);
  *sin_out = bit_cast<T>(static_cast<U>(s ^ swap ^ ((n >> 1) << kTop)));
  *cos_out = bit_cast<T>(static_cast<U>(c ^ swap ^ (((n + U(1)) >> 1) << kTop)));
}

// A uniform draw in the open interval (0, 1) from one 32-bit word, exact in T:
//   float : (2 * (w >> 9) + 1) * 2^-24   (23 random bits)
//   double: (2 * w + 1) * 2^-33          (32 random bits)
// Both convert through int32 (exact: 2 (w >> 9) + 1 < 2^24, and w = int32(w ^ 2^31) + 2^31):
// SSE2 and AVX2 convert signed integers in one instruction, unsigned ones in several.
FEBM_HD float uniform_open(uint32_t w, float) {
  return static_cast<float>(static_cast<int32_t>(2u * (w >> 9) + 1u)) * 5.9604644775390625e-08f;
}
FEBM_HD double uniform_open(uint32_t w, double) {
  const double w_exact = static_cast<double>(static_cast<int32_t>(w ^ 0x80000000u)) + 2147483648.0;
  return (2.0 * w_exact + 1.0) * 1.16415321826934814453125e-10;
}

// σ(a) = 1 / (1 + e^-a), with exp_clamped's few-ulp e^-a.
template <class T>
FEBM_HD T sigmoid(T a) {
  return T(1) / (T(1) + exp_clamped(-a));
}

// A Bernoulli(σ(a)) draw from a uniform u in (0, 1): 1 when u < σ(a) = 1 / (1 + e^-a), tested
// as u·(1 + e^-a) < 1 to spare the division.
template <class T>
FEBM_HD T bernoulli_sigmoid(T u, T a) {
  return u * (T(1) + exp_clamped(-a)) < T(1) ? T(1) : T(0);
}

FEBM_HD float sqrt_(float x) { return sqrtf(x); }
FEBM_HD double sqrt_(double x) { return sqrt(x); }

// Box-Muller: two independent N(0, 1) draws from two uniforms in (0, 1):
//   z0 = sqrt(-2 ln u0) cos(2 pi u1),  z1 = sqrt(-2 ln u0) sin(2 pi u1).
// sqrt is IEEE-exact everywhere; log and sincos are the polynomials above, so CPU (every ISA
// path) and CUDA compute the very same bits.
template <class T>
FEBM_HD void box_muller(T u0, T u1, T* z0, T* z1) {
  const T radius = sqrt_(T(-2) * log_positive(u0));
  T sin_a, cos_a;
  sincos_2pi(u1, &sin_a, &cos_a);
  *z0 = radius * cos_a;
  *z1 = radius * sin_a;
}

// Lanes of the per-chain sums: element j of a row adds into lane j % kSumLanes, and the lanes
// are added in one fixed tree, so a sum has the same bits on every ISA path and on CUDA.
constexpr int kSumLanes = 16;

template <class T>
FEBM_HD T sum_lanes(const T* lanes) {
  T s[kSumLanes / 2];
  for (int l = 0; l < kSumLanes / 2; ++l) s[l] = lanes[l] + lanes[l + kSumLanes / 2];
  for (int width = kSumLanes / 4; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) s[l] = s[l] + s[l + width];
  }
  return s[0];
}

}  // namespace fastebm
