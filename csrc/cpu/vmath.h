// Branch-free float/double math that GCC auto-vectorises inside loops (only selects, bit casts and
// polynomials): round/floor/ceil, exp, expm1, log, log1p, sin, cos, tanh, sigmoid. Include only from
// *_loops.cpp files: everything lives in the per-ISA namespace.
//   exp(x)   = 2^n (1 + q), n = round(x / ln2), r = x - n ln2 (two-part ln2), q = e^r - 1 by Taylor on |r| <= ln2/2
//   expm1(x) = 2^n q + (2^n - 1)            (exact q for small x, where n = 0)
//   log(x)   = e ln2 + 2 atanh(f / (2 + f)), x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2))
//   log1p(x) = log(u) * x / (u - 1), u = 1 + x  (x itself when u == 1)
//   sin, cos: r = x - k pi/2 (three-part pi/2, in double), Taylor on |r| <= pi/4, quadrant from k
//   tanh(x)  = sign(x) em / (em + 2), em = expm1(2|x|);  sigmoid(x) = 1 / (1 + e^-x) or e^x / (1 + e^x)
//   erfc(x)  = t e^(P(t) - x^2), t = 2 / (2 + x) for x >= 0 (P: Chebyshev series in 2t - 1); erfc(-x) = 2 - erfc(x)
//   float only: e^x 2^64 (integer exponent add), e^(-a^2/2) with a^2 exact; erfc(a/sqrt2) e^(a^2/2) = P(a)/Q(a);
//   log1p(u) = u P(u)/Q(u) on [0, 1]
#pragma once
#include <cstdint>
#include <cstring>

namespace fusednn::cpu::FUSEDNN_ISA_NS::vmath {

template <class T> struct Traits;
template <> struct Traits<float> {
  using U = uint32_t;
  using I = int32_t;
  static constexpr int mant = 23, bias = 127;
  static constexpr float exp_lo = -104.0f, exp_hi = 89.0f;   // e^x is 0 below, inf above
  static constexpr float expm1_lo = -80.0f, expm1_hi = 40.0f;  // e^x - 1 is -1 below, e^x above
  static constexpr float tanh_big = 20.0f;                   // tanh rounds to +-1 above
  static constexpr float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;  // ln2_hi: 9 bits, n ln2_hi exact
  static constexpr int log_terms = 5;  // exp: expm1_poly<float> has its own minimax polynomial
};
template <> struct Traits<double> {
  using U = uint64_t;
  using I = int64_t;
  static constexpr int mant = 52, bias = 1023;
  static constexpr double exp_lo = -746.0, exp_hi = 710.0;
  static constexpr double expm1_lo = -700.0, expm1_hi = 100.0;
  static constexpr double tanh_big = 40.0;
  static constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;  // 32 bits
  static constexpr int exp_degree = 13, log_terms = 11;
};

template <class T> inline typename Traits<T>::U bits(T x) {
  typename Traits<T>::U u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
template <class T> inline T from_bits(typename Traits<T>::U u) {
  T x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
template <class T> constexpr T pow2(int e) {  // only in constant expressions
  T r = 1;
  for (; e > 0; --e) r *= 2;
  for (; e < 0; ++e) r /= 2;
  return r;
}
template <class T> constexpr T inf() { return __builtin_huge_val(); }

template <class T> inline T abs(T x) {
  return from_bits<T>(bits(x) & ~(typename Traits<T>::U{1} << (8 * sizeof(T) - 1)));
}
// |magnitude| with the sign of `sign`.
template <class T> inline T copysign(T magnitude, T sign) {
  const auto sign_bit = typename Traits<T>::U{1} << (8 * sizeof(T) - 1);
  return from_bits<T>((bits(magnitude) & ~sign_bit) | (bits(sign) & sign_bit));
}

// Round half to even: adding 2^mant pushes the fraction bits out under the FPU's rounding mode.
template <class T> inline T round(T x) {
  constexpr T big = pow2<T>(Traits<T>::mant);
  const T a = abs(x);
  const T r = (a + big) - big;
  return a < big ? copysign(r, x) : x;  // |x| >= 2^mant (and inf, NaN) are already integral
}
template <class T> inline T floor(T x) {
  const T r = round(x);
  return r > x ? r - T(1) : r;
}
template <class T> inline T ceil(T x) {
  const T r = round(x);
  return r < x ? r + T(1) : r;
}

// Coefficient tables computed at compile time: 1/k! and 2/(2k+1).
template <class T, int N> struct InvFactorials {
  T v[N + 1] = {};
  constexpr InvFactorials() {
    double f = 1;
    for (int k = 0; k <= N; ++k) {
      if (k > 0) f /= k;
      v[k] = static_cast<T>(f);
    }
  }
};
template <class T, int N> struct AtanhCoefs {
  T v[N + 1] = {};
  constexpr AtanhCoefs() {
    for (int k = 0; k <= N; ++k) v[k] = static_cast<T>(2.0 / (2 * k + 1));
  }
};

// e^r - 1 for |r| <= ln2/2: r + r^2 (1/2! + r/3! + ... + r^(d-2)/d!).
template <class T> inline T expm1_poly(T r) {
  constexpr int d = Traits<T>::exp_degree;
  constexpr InvFactorials<T, d> c;
  T p = c.v[d];
  for (int k = d - 1; k >= 2; --k) p = p * r + c.v[k];
  return r + (r * r) * p;
}
// Float: degree 7 minimax instead of Taylor's 8 (2/r^2 (e^r - 1 - r) interpolated at 6 Chebyshev nodes on
// |r| <= ln2/2, mpmath): relative error 7e-10, as Taylor's, one step shorter.
template <> inline float expm1_poly(float r) {
  constexpr float c[] = {5.000000000e-01f, 1.666666716e-01f, 4.166646674e-02f,
                         8.333310485e-03f, 1.393364160e-03f, 1.989098091e-04f};
  float p = c[5];
  for (int k = 4; k >= 0; --k) p = p * r + c[k];
  return r + (r * r) * p;
}

// Splits x (already clamped) into n = round(x / ln2) and r = x - n ln2; n as an integer too.
template <class T> inline T exp_reduce(T x, typename Traits<T>::I* n_int) {
  using C = Traits<T>;
  constexpr T log2e = static_cast<T>(1.44269504088896340736), shift = T(1.5) * pow2<T>(C::mant);
  const T t = x * log2e + shift;  // t's low mantissa bits hold round(x / ln2)
  const T n = t - shift;
  *n_int = static_cast<typename C::I>(bits(t) - bits(shift));
  return (x - n * C::ln2_hi) - n * C::ln2_lo;
}
// 2^n for n in the normal exponent range.
template <class T> inline T exp2_int(typename Traits<T>::I n) {
  using C = Traits<T>;
  return from_bits<T>(static_cast<typename C::U>(static_cast<typename C::U>(n) + C::bias) << C::mant);
}

// 2^n (1 + q), with 2^n as 2^(n/2) 2^(n - n/2): both factors stay normal for results that overflow or are denormal.
template <class T> inline T exp_scale(T q, typename Traits<T>::I n) {
  const typename Traits<T>::I n1 = n >> 1, n2 = n - n1;
  const T s1 = exp2_int<T>(n1), s2 = exp2_int<T>(n2);
  return (q * s1 + s1) * s2;
}
template <class T> inline T exp_clamp(T x) {
  const T xc = x < Traits<T>::exp_lo ? Traits<T>::exp_lo : x;  // NaN passes both clamps
  return xc > Traits<T>::exp_hi ? Traits<T>::exp_hi : xc;
}

template <class T> inline T exp(T x) {
  typename Traits<T>::I n;
  const T q = expm1_poly(exp_reduce(exp_clamp(x), &n));  // sets n: not in exp_scale's argument list
  const T y = exp_scale(q, n);
  return x != x ? x : y;
}

// 2^n (1 + q) for n in [round(exp_lo / ln2), 0]: 2^(n + 64) is normal there, and the exact (or, for denormal
// results, once-rounded) scaling by 2^-64 replaces exp_scale's split of n.
template <class T> inline T exp_scale_nonpositive(T q, typename Traits<T>::I n) {
  const T s = exp2_int<T>(n + 64);
  return (q * s + s) * pow2<T>(-64);
}

// e^x for x <= 0 (unchecked): exp without the overflow clamp and the NaN select (NaN propagates anyway).
template <class T> inline T exp_nonpositive(T x) {
  typename Traits<T>::I n;
  const T q = expm1_poly(exp_reduce(x < Traits<T>::exp_lo ? Traits<T>::exp_lo : x, &n));
  return exp_scale_nonpositive(q, n);
}

// ---- e^x 2^64 in float for x in [exp_lo, 0] (unchecked: x must not be NaN) ----
// t = x / ln2 + shift rounds n = round(x / ln2) into t's low bits, biased by 64 (the shift constant carries it),
// so t << 23 is (n + 64) in the exponent field: adding it to e^r's bits scales by 2^(n + 64) with an integer
// add, off the multiply pipes (e^r 2^(n + 64) is always normal). e^r: degree 6 relative minimax on
// |r| <= 1.01 ln2/2 with 1 + r exact (mpmath), error 3.3e-9. The 2^64 keeps results down to the smallest
// denormal normal: callers fold 2^-64 into their constants.
constexpr float kExpShift2p64 = 1.5f * pow2<float>(23) + 64.0f;
constexpr float kLog2e = 1.44269504088896340736f;

// e^r's coefficients in powers of w = K r (K = 1 or -2, so the scalings are exact): c_j / K^j.
template <int K> struct ExpCoefs {
  float v[7] = {};
  constexpr ExpCoefs() {
    constexpr float c[] = {1.0f, 1.0f, 0.499999930502f, 0.166665147862f, 0.0416684568927f, 0.00836941930904f,
                           0.00138131395687f};
    float s = 1;
    for (int j = 0; j < 7; ++j, s /= K) v[j] = c[j] * s;
  }
};
// e^r 2^(n + 64) from t and w = K r.
template <int K> inline float exp_finish_2p64(float t, float w) {
  constexpr ExpCoefs<K> c;
  float p = c.v[6];
  for (int j = 5; j >= 0; --j) p = p * w + c.v[j];
  return from_bits<float>(bits(p) + (bits(t) << Traits<float>::mant));
}
inline float exp_2p64(float x) {
  using C = Traits<float>;
  const float t = x * kLog2e + kExpShift2p64;
  const float n = t - kExpShift2p64;
  return exp_finish_2p64<1>(t, (x - n * C::ln2_hi) - n * C::ln2_lo);
}
// e^(-a^2/2) 2^64 for a in [0, 14.4]: with w = a^2 + 2 n ln2 = -2r, a^2 + 2 n ln2_hi comes from one fma (the
// product a a exact, n 2 ln2_hi exact), so a^2 loses none of its bits, and the polynomial in w absorbs the -1/2.
inline float exp_neg_half_square_2p64(float a) {
  using C = Traits<float>;
  const float t = (a * a) * (-0.5f * kLog2e) + kExpShift2p64;
  const float n = t - kExpShift2p64;
  const float w = __builtin_fmaf(a, a, n * (2 * C::ln2_hi)) + n * (2 * C::ln2_lo);
  return exp_finish_2p64<-2>(t, w);
}

// e^-a for a in [0, -exp_lo] (unchecked; a must not be NaN): float through exp_2p64, double exp_nonpositive.
template <class T> inline T exp_neg(T a) { return exp_nonpositive(-a); }
inline float exp_neg(float a) { return exp_2p64(-a) * pow2<float>(-64); }

// e^x - 1 for x in [expm1_lo, expm1_hi] (NaN propagates; the sign of -0 is not kept).
template <class T> inline T expm1_core(T x) {
  typename Traits<T>::I n;
  const T q = expm1_poly(exp_reduce(x, &n));
  const T s = exp2_int<T>(n);
  return s * q + (s - T(1));
}

template <class T> inline T expm1(T x) {
  using C = Traits<T>;
  T xc = x < C::expm1_lo ? C::expm1_lo : x;
  xc = xc > C::exp_hi ? C::exp_hi : xc;
  T y = expm1_core(xc);
  y = xc > C::expm1_hi ? exp(x) : y;  // 2^n could overflow although e^x does not; e^x - 1 == e^x there
  return x != x ? x : copysign(y, x);  // expm1 keeps the sign (and -0)
}

template <class T> inline T log(T x) {
  using C = Traits<T>;
  using U = typename C::U;
  constexpr T min_normal = pow2<T>(1 - C::bias), scale = pow2<T>(C::mant);
  constexpr T sqrt2 = static_cast<T>(1.41421356237309504880);
  const bool tiny = x < min_normal;  // denormals: scale into the normal range first
  const T xs = tiny ? x * scale : x;
  const U b = bits(xs);
  typename C::I e = static_cast<typename C::I>(b >> C::mant) - C::bias - (tiny ? C::mant : 0);
  T m = from_bits<T>((b & ((U{1} << C::mant) - 1)) | bits(T(1)));  // in [1, 2)
  const bool high = m > sqrt2;
  m = high ? m * T(0.5) : m;
  e += high ? 1 : 0;
  const T f = m - T(1);  // exact
  const T s = f / (T(2) + f), z = s * s;
  constexpr AtanhCoefs<T, C::log_terms> c;
  T p = c.v[C::log_terms];
  for (int k = C::log_terms - 1; k >= 1; --k) p = p * z + c.v[k];
  const T ef = static_cast<T>(e);
  T y = ef * C::ln2_hi + (T(2) * s + (s * (z * p) + ef * C::ln2_lo));
  y = x == inf<T>() ? x : y;
  y = x == T(0) ? -inf<T>() : y;
  y = x < T(0) ? static_cast<T>(__builtin_nan("")) : y;
  return x != x ? x : y;
}

template <class T> inline T log1p(T x) {
  const T u = T(1) + x, d = u - T(1);
  const T y = d == T(0) ? x : log(u) * (x / d);  // the quotient corrects u's rounding
  return x == inf<T>() ? x : y;
}

// log1p(u) for u in [0, 1] (softplus's log(1 + e^-|x|)). Float: u P(u) / Q(u), degrees 2 / 3 (relative
// minimax fit of log1p(u) / u, mpmath: relative error 1.9e-8 before rounding); double: log1p.
inline double log1p_unit(double u) { return log1p(u); }
inline float log1p_unit(float u) {  // Q monic: its first step is an add
  constexpr float pc[] = {32.1601066186f, 27.8890016587f, 3.98026010702f};
  constexpr float qc[] = {32.1601072292f, 43.9689926622f, 15.2457541013f};
  const float p = (pc[2] * u + pc[1]) * u + pc[0];
  const float q = ((u + qc[2]) * u + qc[1]) * u + qc[0];
  return u * (p / q);
}

// ---- sin and cos, evaluated in double (float inputs lose nothing) ----

// Beyond this |x| the three-part pi/2 reduction is no longer exact: callers use the scalar fallback.
constexpr double kTrigMaxArg = 1.0e6;

inline double sin_poly(double r) {  // r + r^3 (-1/3! + r^2/5! - ...), |r| <= pi/4
  constexpr InvFactorials<double, 19> c;
  const double z = r * r;
  double p = -c.v[19];
  for (int k = 17; k >= 3; k -= 2) p = p * z + ((k & 2) ? -c.v[k] : c.v[k]);
  return r == 0.0 ? r : r + r * z * p;  // keeps sin(-0) = -0
}
inline double cos_poly(double r) {  // 1 - r^2/2! + r^4/4! - ..., |r| <= pi/4
  constexpr InvFactorials<double, 20> c;
  const double z = r * r;
  double p = c.v[20];
  for (int k = 18; k >= 2; k -= 2) p = p * z + ((k & 2) ? -c.v[k] : c.v[k]);
  return 1.0 + z * p;
}

// sin(x) (cos_shift = 0) or cos(x) = sin(x + pi/2) (cos_shift = 1) for |x| <= kTrigMaxArg.
inline double sin_cos(double x, int64_t cos_shift) {
  constexpr double two_over_pi = 6.36619772367581382433e-01, shift = 1.5 * pow2<double>(52);
  // pi/2 in three parts of 33 bits: k * part is exact for |k| < 2^20.
  constexpr double p1 = 1.57079632673412561417e+00, p2 = 6.07710050630396597660e-11,
                   p3 = 2.02226624871116645580e-21;
  const double t = x * two_over_pi + shift;
  const double k = t - shift;
  const int64_t quadrant = static_cast<int64_t>(bits(t) - bits(shift)) + cos_shift;
  const double r = ((x - k * p1) - k * p2) - k * p3;
  const double s = sin_poly(r), c = cos_poly(r);
  const double y = (quadrant & 1) ? c : s;
  return (quadrant & 2) ? -y : y;
}

template <class T> inline T sin(T x) { return static_cast<T>(sin_cos(static_cast<double>(x), 0)); }
template <class T> inline T cos(T x) { return static_cast<T>(sin_cos(static_cast<double>(x), 1)); }
// Whether x needs the scalar library path (huge, inf or NaN).
template <class T> inline bool trig_needs_fallback(T x) { return !(abs(x) <= T(kTrigMaxArg)); }

template <class T> inline T tanh(T x) {
  T a = abs(x);
  a = a > Traits<T>::tanh_big ? Traits<T>::tanh_big : a;
  const T em = expm1_core(T(2) * a);  // 2 tanh_big <= expm1_hi; NaN propagates
  return copysign(em / (em + T(2)), x);
}

template <class T> inline T sigmoid(T x) {
  const T e = exp_nonpositive(-abs(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// ---- erfc, evaluated in double ----

// P(t) = ln(erfc(x) / t) + x^2 with t = 2 / (2 + x), x >= 0: smooth on t in [0, 1]. Chebyshev coefficients in
// s = 2t - 1 from an interpolation at 13 / 26 Chebyshev nodes (mpmath, 40 digits); max error of P (so the
// relative error of erfc before rounding) 6.6e-9 for the float set and 4e-16 for the double set.
template <class T> struct ErfcCoefs;
template <> struct ErfcCoefs<float> {
  static constexpr int n = 13;
  static constexpr double c[n] = {
      -6.51326859890854838119e-1, 6.41969792356490383046e-1,  1.94764732041873592898e-2, -9.56151478681574006759e-3,
      -9.46595344482417112218e-4, 3.66839497965469601718e-4,  4.25233244938155720145e-5, -2.02785790070221425401e-5,
      -1.62428311861950240555e-6, 1.30365344154243852438e-6,  1.55299738110468655471e-8, -8.5010730792633494388e-8,
      7.52041859559185150963e-9};
};
template <> struct ErfcCoefs<double> {
  static constexpr int n = 26;
  static constexpr double c[n] = {
      -6.51326859890854717095e-1,  6.41969792356490260304e-1,  1.94764732041858363117e-2,  -9.56151478680863164187e-3,
      -9.46595344482036866301e-4,  3.66839497852761451873e-4,  4.25233248069077716448e-5,  -2.02785781125342431543e-5,
      -1.62429000464702551345e-6,  1.30365583558052320158e-6,  1.56264417220661439599e-8,  -8.5238095914926543113e-8,
      6.52905443909884584622e-9,   5.05934349555149558309e-9,  -9.91364156493071810439e-10, -2.27365122293319621391e-10,
      9.64679110210336864493e-11,  2.39403808140056994458e-12, -6.88602752988718703177e-12, 8.94487955232385911063e-13,
      3.13092080238215581751e-13,  -1.12708297382081455939e-13, 3.81935133287174106177e-16, 7.10376950935128406248e-15,
      -1.52307823151269876328e-15, -6.64083148354405702863e-17};
};

// Complementary error function 1 - erf(x), accurate in relative terms down to the smallest results
// (erfc(x) for x > 0 never comes from 1 - erf). NaN propagates; erfc(inf) = 0, erfc(-inf) = 2.
template <class T> inline T erfc(T x) {
  using C = ErfcCoefs<T>;
  const double xd = static_cast<double>(x), a = abs(xd);
  const double t = 2.0 / (2.0 + a), s = 2.0 * t - 1.0;
  double b1 = 0, b2 = 0;  // Clenshaw's recurrence for sum c_j T_j(s)
  for (int j = C::n - 1; j >= 1; --j) {
    const double b = 2.0 * s * b1 - b2 + C::c[j];
    b2 = b1;
    b1 = b;
  }
  const double p = s * b1 - b2 + C::c[0];
  const double r = t * exp(p - a * a);
  return static_cast<T>(xd < 0 ? 2.0 - r : r);
}

// The normal distribution's lower tail Phi(-a) = e tail and density phi(a) = e pdf for a in [0, 14.4], with
// the common factor e kept apart so that callers multiply it in last (one rounding for tiny results). Float:
// e = e^(-a^2/2) 2^64 and Phi(-a) = e^(-a^2/2) G(a) / 2, G(a) = erfc(a / sqrt 2) e^(a^2/2) ~ P(a) / Q(a) of
// degrees 4 / 5 (relative minimax fit on [0, 14.5], mpmath: relative error 6e-9). Double: e = 1, erfc and exp.
template <class T> struct NormalTail {
  T e, tail, pdf;
};
inline NormalTail<float> normal_tail(float a) {
  constexpr float s = pow2<float>(-65);  // G / 2 and exp's 2^-64, folded into P; Q monic (its first step an add)
  constexpr float pc[] = {96.9172486191f * s, 84.9569595507f * s, 35.5175017711f * s, 7.87619348335f * s,
                          0.797893819806f * s};
  constexpr float qc[] = {96.9172480463f, 162.285776199f, 116.543728699f, 45.5000807592f, 9.87196943721f};
  float p = pc[4], q = a + qc[4];
  for (int k = 3; k >= 0; --k) p = p * a + pc[k];
  for (int k = 3; k >= 0; --k) q = q * a + qc[k];
  return {exp_neg_half_square_2p64(a), p / q, 0.39894228040143267794f * pow2<float>(-64)};
}
inline NormalTail<double> normal_tail(double a) {
  return {1.0, 0.5 * erfc(a * 0.70710678118654752440), 0.39894228040143267794 * exp(-0.5 * a * a)};
}

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS::vmath
