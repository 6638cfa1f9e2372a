// Philox4x32-10 and the maps from its 32-bit words to values, written once for the CPU (cpu/random.cpp,
// cpu/random_loops.cpp) and CUDA (cuda/random.cu, cuda/normalization.cu), so a seed gives the same values on both:
//   uniform   u = (w >> 8) * 2^-24 (float32) or ((w0 >> 5) * 2^26 + (w1 >> 6)) * 2^-53 (float64)
//   normal    Box-Muller: z0 = r cos(2 pi t), z1 = r sin(2 pi t), r = sqrt(-2 log u1), u1 in (0, 1], t in [0, 1)
//   integers  low + floor(x * range / 2^64), x the 64 bits (w0 << 32 | w1)
// Every product and sum is rounded on its own (never fused into a multiply-add) and log, sin and cos are
// our own branch-free polynomials (they vectorise; libm calls would not), so the values are bitwise equal
// on every ISA and on the device.
#pragma once
#include <cstdint>
#include <cstring>

#include "core/hd.h"

// Host: no a * b + c -> fma contraction in these functions (the device uses the _rn intrinsics instead).
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace fusednn {

// Philox4x32 round constants (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;
constexpr int kPhiloxRounds = 10;

namespace philox {
// Internal linkage: the per-ISA loop files compile these with different instruction sets, and the linker
// must never hand one file's copy to another.
namespace {

// One Philox4x32-10 block: 4 random words from a 128-bit counter and a 64-bit key.
FUSEDNN_HD inline void philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3], k0 = key[0], k1 = key[1];
  for (int r = 0; r < kPhiloxRounds; ++r) {
    const uint64_t p0 = uint64_t{kPhiloxM0} * c0, p1 = uint64_t{kPhiloxM1} * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0, n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

// Block `counter` of the stream of a 64-bit key (the counter's upper 64 bits are zero).
FUSEDNN_HD inline void block(uint64_t counter, uint64_t key, uint32_t out[4]) {
  const uint32_t c[4] = {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0};
  const uint32_t k[2] = {static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)};
  philox4x32(c, k, out);
}

// Round-to-nearest arithmetic that is never contracted: the device's __f*_rn / __d*_rn intrinsics are
// never fused into a multiply-add; on the host the fp-contract=off above keeps the plain operators apart.
#ifdef __CUDA_ARCH__
__device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ inline double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline float sqrt_rn(float a) { return __fsqrt_rn(a); }
__device__ inline double sqrt_rn(double a) { return __dsqrt_rn(a); }
#else
template <class T> inline T add_rn(T a, T b) { return a + b; }
template <class T> inline T mul_rn(T a, T b) { return a * b; }
template <class T> inline T div_rn(T a, T b) { return a / b; }
inline float sqrt_rn(float a) { return __builtin_sqrtf(a); }
inline double sqrt_rn(double a) { return __builtin_sqrt(a); }
#endif

// floor(x * range / 2^64): the high half of the 128-bit product.
FUSEDNN_HD inline uint64_t mulhi64(uint64_t x, uint64_t range) {
#ifdef __CUDA_ARCH__
  return __umul64hi(x, range);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(x) * range) >> 64);
#endif
}

// Bit layouts of float and double, for the exponent split in log.
template <class T> struct Bits;
template <> struct Bits<float> {
  using U = uint32_t;
  using I = int32_t;
  static constexpr int mantissa = 23;
  static constexpr U one = 0x3f800000u, sqrt_half = 0x3f3504f3u, mask = 0x007fffffu;
};
template <> struct Bits<double> {
  using U = uint64_t;
  using I = int64_t;
  static constexpr int mantissa = 52;
  static constexpr U one = 0x3ff0000000000000ull, sqrt_half = 0x3fe6a09e667f3bcdull, mask = 0x000fffffffffffffull;
};

template <class To, class From>
FUSEDNN_HD inline To bit_cast(From x) {
  To y;
  memcpy(&y, &x, sizeof y);
  return y;
}

// Horner evaluation of c[0] + c[1] s + ... + c[N-1] s^(N-1).
template <class T, int N>
FUSEDNN_HD inline T horner(const T (&c)[N], T s) {
  T p = c[N - 1];
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int i = N - 2; i >= 0; --i) p = add_rn(mul_rn(p, s), c[i]);
  return p;
}

// Series coefficients in double, rounded once to T.
template <class T, int N>
struct Series {
  T c[N];
};
template <class T, int N>
FUSEDNN_HD constexpr Series<T, N> atanh_series() {  // log(m) = 2 f (1 + s/3 + s^2/5 + ...), f = (m-1)/(m+1), s = f^2
  Series<T, N> out{};
  for (int i = 0; i < N; ++i) out.c[i] = static_cast<T>(2.0 / (2 * i + 1));
  return out;
}
template <class T, int N>
FUSEDNN_HD constexpr Series<T, N> trig_series(int first) {  // (-1)^i / (2i + first)!  (first 1: sin(x)/x, 0: cos(x))
  Series<T, N> out{};
  double term = 1.0;
  for (int n = 2; n <= first; ++n) term /= n;
  for (int i = 0; i < N; ++i) {
    out.c[i] = static_cast<T>(term);
    term = -term / ((2 * i + first + 1) * (2 * i + first + 2));
  }
  return out;
}

// Terms so the truncation error stays below half an ulp on the reduced ranges (|f| <= 0.172, |x| <= pi/2).
template <class T> constexpr int kLogTerms = sizeof(T) == 4 ? 6 : 12;
template <class T> constexpr int kSinTerms = sizeof(T) == 4 ? 7 : 11;
template <class T> constexpr int kCosTerms = sizeof(T) == 4 ? 8 : 12;

// log(x) for a normal positive x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log x = e ln 2 + log m.
template <class T>
FUSEDNN_HD inline T log_positive(T x) {
  using Bt = Bits<T>;
  using U = typename Bt::U;
  constexpr Series<T, kLogTerms<T>> series = atanh_series<T, kLogTerms<T>>();
  const U ix = bit_cast<U>(x) + (Bt::one - Bt::sqrt_half);
  const T e = static_cast<T>(static_cast<typename Bt::I>(ix >> Bt::mantissa) -
                             static_cast<typename Bt::I>(Bt::one >> Bt::mantissa));
  const T m = bit_cast<T>((ix & Bt::mask) + Bt::sqrt_half);
  const T f = div_rn(add_rn(m, T(-1)), add_rn(m, T(1)));
  return add_rn(mul_rn(e, T(0.6931471805599453)), mul_rn(f, horner(series.c, mul_rn(f, f))));
}

// cos(2 pi t) and sin(2 pi t) for t in [0, 1): fold t into [-1/2, 1/2), then |t| into [0, 1/4] with
// sin(pi - x) = sin x, cos(pi - x) = -cos x; the folds are exact (Sterbenz).
template <class T>
FUSEDNN_HD inline void sincos_turns(T t, T* c, T* s) {
  constexpr Series<T, kSinTerms<T>> sin_series = trig_series<T, kSinTerms<T>>(1);
  constexpr Series<T, kCosTerms<T>> cos_series = trig_series<T, kCosTerms<T>>(0);
  const T centred = t >= T(0.5) ? add_rn(t, T(-1)) : t;
  const T a = centred < T(0) ? -centred : centred;
  const bool back = a > T(0.25);
  const T x = mul_rn(back ? add_rn(T(0.5), -a) : a, T(6.283185307179586));
  const T x2 = mul_rn(x, x);
  const T sin_x = mul_rn(x, horner(sin_series.c, x2)), cos_x = horner(cos_series.c, x2);
  *s = centred < T(0) ? -sin_x : sin_x;
  *c = back ? -cos_x : cos_x;
}

// ---- words -> values: element i of a draw uses block i / E; these give its value from the block's words.

FUSEDNN_HD inline float unit_f32(uint32_t w) {
  return mul_rn(static_cast<float>(static_cast<int32_t>(w >> 8)), 0x1p-24f);
}
FUSEDNN_HD inline double unit_f64(uint32_t hi, uint32_t lo) {
  return mul_rn(add_rn(mul_rn(static_cast<double>(static_cast<int32_t>(hi >> 5)), 67108864.0),
                       static_cast<double>(static_cast<int32_t>(lo >> 6))),
                0x1p-53);
}
FUSEDNN_HD inline uint64_t bits64(uint32_t hi, uint32_t lo) { return (uint64_t{hi} << 32) | lo; }

// low + scale * u, clamped to `ceiling` (the largest value below high) so that rounding never reaches high.
FUSEDNN_HD inline float uniform_f32(uint32_t w, float low, float scale, float ceiling) {
  const float x = add_rn(low, mul_rn(scale, unit_f32(w)));
  return x < ceiling ? x : ceiling;
}
FUSEDNN_HD inline double uniform_f64(uint32_t hi, uint32_t lo, double low, double scale, double ceiling) {
  const double x = add_rn(low, mul_rn(scale, unit_f64(hi, lo)));
  return x < ceiling ? x : ceiling;
}

// float32: a normal pair from two words; u1 = (w >> 1) 2^-31 + 2^-32 keeps 31 bits (tails to 6.6 sigma).
FUSEDNN_HD inline void normal_pair_f32(uint32_t w_radius, uint32_t w_angle, float loc, float scale, float* z0,
                                       float* z1) {
  const float u1 = add_rn(mul_rn(static_cast<float>(static_cast<int32_t>(w_radius >> 1)), 0x1p-31f), 0x1p-32f);
  const float r = sqrt_rn(mul_rn(-2.0f, log_positive(u1)));
  float c, s;
  sincos_turns(unit_f32(w_angle), &c, &s);
  *z0 = add_rn(loc, mul_rn(scale, mul_rn(r, c)));
  *z1 = add_rn(loc, mul_rn(scale, mul_rn(r, s)));
}
// float64: a normal pair from a whole block (two 53-bit uniforms).
FUSEDNN_HD inline void normal_pair_f64(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, double loc, double scale,
                                       double* z0, double* z1) {
  const double u1 = add_rn(1.0, -unit_f64(w0, w1));
  const double r = sqrt_rn(mul_rn(-2.0, log_positive(u1)));
  double c, s;
  sincos_turns(unit_f64(w2, w3), &c, &s);
  *z0 = add_rn(loc, mul_rn(scale, mul_rn(r, c)));
  *z1 = add_rn(loc, mul_rn(scale, mul_rn(r, s)));
}

// low + floor(x * range / 2^64) for the 64 bits x = hi:lo; range 0 means 2^64 (the whole int64 range).
FUSEDNN_HD inline int64_t integer(uint32_t hi, uint32_t lo, int64_t low, uint64_t range) {
  const uint64_t x = bits64(hi, lo);
  const uint64_t step = range == 0 ? x : mulhi64(x, range);
  return static_cast<int64_t>(static_cast<uint64_t>(low) + step);
}

}  // namespace
}  // namespace philox
}  // namespace fusednn

#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#pragma GCC pop_options
#endif
