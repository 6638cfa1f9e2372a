// Philox4x32-10 in vector lanes and the transforms from its 32-bit words to values:
//   uniform   u = (w >> 8) * 2^-24 (float32) or ((w0 >> 5) * 2^26 + (w1 >> 6)) * 2^-53 (float64)
//   normal    Box-Muller: z0 = r cos(2 pi t), z1 = r sin(2 pi t), r = sqrt(-2 log u1), u1 in (0, 1], t in [0, 1)
//   integers  low + floor(x * range / 2^64), x the 64 bits (w0 << 32 | w1)
// log, sin and cos are our own branch-free polynomials so the loops vectorise (libm calls would not).
#include <immintrin.h>

#include <cstdint>

#include "cpu/random_kernels.h"

// No a * b + c -> fma contraction: every ISA then rounds identically, so a seed gives bitwise the same
// values on every machine (the polynomials lose little: the draws are bound by Philox and memory).
#pragma GCC optimize("fp-contract=off")

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

constexpr int B = kBlocksPerChunk;

// words[j][k]: word j of block k of a chunk (structure of arrays, so each round is a vector op).
struct Words {
  alignas(64) uint32_t w[4][B];
};

// Philox rounds on vectors of 32-bit lanes. GCC vectorises the portable loop with 64-bit multiplies
// (vpmullq), so AVX2/AVX-512 use the 32x32 -> 64 multiply of even lanes (vpmuludq) twice instead.
#if defined(__AVX512F__)
struct Lanes {
  using V = __m512i;
  static constexpr int width = 16;
  static V load(const uint32_t* p) { return _mm512_load_si512(p); }
  static void store(uint32_t* p, V v) { _mm512_store_si512(p, v); }
  static V set1(uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
  static V xor3(V a, V b, V c) { return _mm512_xor_si512(_mm512_xor_si512(a, b), c); }
  static void mulhilo(V a, V m, V* hi, V* lo) {
    const V even = _mm512_mul_epu32(a, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  }
};
#elif defined(__AVX2__)
struct Lanes {
  using V = __m256i;
  static constexpr int width = 8;
  static V load(const uint32_t* p) { return _mm256_load_si256(reinterpret_cast<const V*>(p)); }
  static void store(uint32_t* p, V v) { _mm256_store_si256(reinterpret_cast<V*>(p), v); }
  static V set1(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static void mulhilo(V a, V m, V* hi, V* lo) {
    const V even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }
};
#endif

void philox_chunk(uint64_t key, uint64_t counter, Words& out) {
  for (int k = 0; k < B; ++k) {
    const uint64_t c = counter + static_cast<uint64_t>(k);
    out.w[0][k] = static_cast<uint32_t>(c);
    out.w[1][k] = static_cast<uint32_t>(c >> 32);
    out.w[2][k] = 0;
    out.w[3][k] = 0;
  }
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
#if defined(__AVX512F__) || defined(__AVX2__)
  using V = Lanes::V;
  const V m0 = Lanes::set1(kPhiloxM0), m1 = Lanes::set1(kPhiloxM1);
  for (int g = 0; g < B; g += Lanes::width) {
    V c0 = Lanes::load(&out.w[0][g]), c1 = Lanes::load(&out.w[1][g]);
    V c2 = Lanes::load(&out.w[2][g]), c3 = Lanes::load(&out.w[3][g]);
    uint32_t r0 = k0, r1 = k1;
    for (int r = 0; r < kPhiloxRounds; ++r) {
      V hi0, lo0, hi1, lo1;
      Lanes::mulhilo(c0, m0, &hi0, &lo0);
      Lanes::mulhilo(c2, m1, &hi1, &lo1);
      c0 = Lanes::xor3(hi1, c1, Lanes::set1(r0));
      c2 = Lanes::xor3(hi0, c3, Lanes::set1(r1));
      c1 = lo1;
      c3 = lo0;
      r0 += kPhiloxW0;
      r1 += kPhiloxW1;
    }
    Lanes::store(&out.w[0][g], c0);
    Lanes::store(&out.w[1][g], c1);
    Lanes::store(&out.w[2][g], c2);
    Lanes::store(&out.w[3][g], c3);
  }
#else
  uint32_t* c0 = out.w[0];
  uint32_t* c1 = out.w[1];
  uint32_t* c2 = out.w[2];
  uint32_t* c3 = out.w[3];
  for (int r = 0; r < kPhiloxRounds; ++r) {
#pragma omp simd
    for (int k = 0; k < B; ++k) {
      const uint64_t p0 = uint64_t{kPhiloxM0} * c0[k], p1 = uint64_t{kPhiloxM1} * c2[k];
      const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1[k] ^ k0;
      const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3[k] ^ k1;
      c1[k] = static_cast<uint32_t>(p1);
      c3[k] = static_cast<uint32_t>(p0);
      c0[k] = n0;
      c2[k] = n2;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
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
inline To bit_cast(From x) {
  To y;
  __builtin_memcpy(&y, &x, sizeof y);
  return y;
}

// Horner evaluation of c[0] + c[1] s + ... + c[N-1] s^(N-1).
template <class T, int N>
inline T horner(const T (&c)[N], T s) {
  T p = c[N - 1];
  for (int i = N - 2; i >= 0; --i) p = p * s + c[i];
  return p;
}

// Series coefficients in double, rounded once to T.
template <class T, int N>
struct Series {
  T c[N];
};
template <class T, int N>
constexpr Series<T, N> atanh_series() {  // log(m) = 2 f (1 + s/3 + s^2/5 + ...), f = (m-1)/(m+1), s = f^2
  Series<T, N> out{};
  for (int i = 0; i < N; ++i) out.c[i] = static_cast<T>(2.0 / (2 * i + 1));
  return out;
}
template <class T, int N>
constexpr Series<T, N> trig_series(int first) {  // (-1)^i / (2i + first)!  (first 1: sin(x)/x, 0: cos(x))
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
inline T log_positive(T x) {
  using Bt = Bits<T>;
  using U = typename Bt::U;
  static constexpr Series<T, kLogTerms<T>> series = atanh_series<T, kLogTerms<T>>();
  U ix = bit_cast<U>(x) + (Bt::one - Bt::sqrt_half);
  const T e = static_cast<T>(static_cast<typename Bt::I>(ix >> Bt::mantissa) -
                             static_cast<typename Bt::I>(Bt::one >> Bt::mantissa));
  const T m = bit_cast<T>((ix & Bt::mask) + Bt::sqrt_half);
  const T f = (m - T(1)) / (m + T(1));
  return e * T(0.6931471805599453) + f * horner(series.c, f * f);
}

// cos(2 pi t) and sin(2 pi t) for t in [0, 1): fold t into [-1/2, 1/2), then |t| into [0, 1/4] with
// sin(pi - x) = sin x, cos(pi - x) = -cos x; the folds are exact (Sterbenz).
template <class T>
inline void sincos_turns(T t, T* c, T* s) {
  static constexpr Series<T, kSinTerms<T>> sin_series = trig_series<T, kSinTerms<T>>(1);
  static constexpr Series<T, kCosTerms<T>> cos_series = trig_series<T, kCosTerms<T>>(0);
  const T centred = t >= T(0.5) ? t - T(1) : t;
  const T a = centred < T(0) ? -centred : centred;
  const bool back = a > T(0.25);
  const T x = (back ? T(0.5) - a : a) * T(6.283185307179586);
  const T x2 = x * x;
  const T sin_x = x * horner(sin_series.c, x2), cos_x = horner(cos_series.c, x2);
  *s = centred < T(0) ? -sin_x : sin_x;
  *c = back ? -cos_x : cos_x;
}

inline float unit_f32(uint32_t w) { return static_cast<float>(static_cast<int32_t>(w >> 8)) * 0x1p-24f; }
inline double unit_f64(uint32_t hi, uint32_t lo) {
  return (static_cast<double>(static_cast<int32_t>(hi >> 5)) * 67108864.0 +
          static_cast<double>(static_cast<int32_t>(lo >> 6))) * 0x1p-53;
}
inline uint64_t bits64(uint32_t hi, uint32_t lo) { return (uint64_t{hi} << 32) | lo; }

// Each transform maps a chunk's words to its B * per_block values, in element order.
struct UniformF32 {
  static constexpr int per_block = 4;
  static void apply(const Words& w, float* v, const RandomDraw& d) {
    const float low = static_cast<float>(d.a), scale = static_cast<float>(d.b), ceiling = static_cast<float>(d.ceiling);
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 4; ++j) {
        const float x = low + scale * unit_f32(w.w[j][k]);
        v[4 * k + j] = x < ceiling ? x : ceiling;
      }
  }
};
struct UniformF64 {
  static constexpr int per_block = 2;
  static void apply(const Words& w, double* v, const RandomDraw& d) {
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 2; ++j) {
        const double x = d.a + d.b * unit_f64(w.w[2 * j][k], w.w[2 * j + 1][k]);
        v[2 * k + j] = x < d.ceiling ? x : d.ceiling;
      }
  }
};

// float32: two normals per word pair; u1 = (w >> 1) 2^-31 + 2^-32 keeps 31 bits (tails to 6.6 sigma).
struct NormalF32 {
  static constexpr int per_block = 4;
  static void apply(const Words& w, float* v, const RandomDraw& d) {
    const float loc = static_cast<float>(d.a), scale = static_cast<float>(d.b);
    float z[4][B];
#pragma omp simd
    for (int k = 0; k < B; ++k)
      for (int p = 0; p < 2; ++p) {
        const float u1 = static_cast<float>(static_cast<int32_t>(w.w[2 * p][k] >> 1)) * 0x1p-31f + 0x1p-32f;
        const float r = __builtin_sqrtf(-2.0f * log_positive(u1));
        float c, s;
        sincos_turns(unit_f32(w.w[2 * p + 1][k]), &c, &s);
        z[2 * p][k] = loc + scale * (r * c);
        z[2 * p + 1][k] = loc + scale * (r * s);
      }
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 4; ++j) v[4 * k + j] = z[j][k];
  }
};
// float64: one normal pair per block, from two 53-bit uniforms.
struct NormalF64 {
  static constexpr int per_block = 2;
  static void apply(const Words& w, double* v, const RandomDraw& d) {
#pragma omp simd
    for (int k = 0; k < B; ++k) {
      const double u1 = 1.0 - unit_f64(w.w[0][k], w.w[1][k]);
      const double r = __builtin_sqrt(-2.0 * log_positive(u1));
      double c, s;
      sincos_turns(unit_f64(w.w[2][k], w.w[3][k]), &c, &s);
      v[2 * k] = d.a + d.b * (r * c);
      v[2 * k + 1] = d.a + d.b * (r * s);
    }
  }
};

template <class T>
struct Integers {
  static constexpr int per_block = 2;
  static void apply(const Words& w, T* v, const RandomDraw& d) {
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 2; ++j) {
        const uint64_t x = bits64(w.w[2 * j][k], w.w[2 * j + 1][k]);
        const uint64_t step = d.range == 0 ? x : static_cast<uint64_t>((static_cast<unsigned __int128>(x) * d.range) >> 64);
        v[2 * k + j] = static_cast<T>(static_cast<int64_t>(static_cast<uint64_t>(d.low) + step));
      }
  }
};

template <class Dist, class T>
void run_chunks(void* out, int64_t n, int64_t first, int64_t last, const RandomDraw& d) {
  constexpr int64_t per_chunk = int64_t{B} * Dist::per_block;
  T* dst = static_cast<T*>(out);
  Words w;
  alignas(64) T values[per_chunk];
  for (int64_t c = first; c < last; ++c) {
    philox_chunk(d.key, d.counter + static_cast<uint64_t>(c) * B, w);
    const int64_t begin = c * per_chunk, count = n - begin < per_chunk ? n - begin : per_chunk;
    if (count == per_chunk) {
      Dist::apply(w, dst + begin, d);
    } else {
      Dist::apply(w, values, d);
      __builtin_memcpy(dst + begin, values, static_cast<size_t>(count) * sizeof(T));
    }
  }
}

template <class Dist, class T>
constexpr RandomLoop loop_of() {
  return {Dist::per_block, &run_chunks<Dist, T>};
}

}  // namespace

extern const RandomKernels random_kernels = {
    loop_of<UniformF32, float>(),      loop_of<UniformF64, double>(),     loop_of<NormalF32, float>(),
    loop_of<NormalF64, double>(),      loop_of<Integers<bool>, bool>(),   loop_of<Integers<int32_t>, int32_t>(),
    loop_of<Integers<int64_t>, int64_t>(),
};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
