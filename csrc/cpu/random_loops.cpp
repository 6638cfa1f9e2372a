// Philox4x32-10 in vector lanes, 16 blocks at a time, and the transforms of a chunk's words to values
// (element order; the value of each element is core/philox.h's, shared with the CUDA kernels).
#include <immintrin.h>

#include <cstdint>

#include "core/philox.h"
#include "cpu/random_kernels.h"

// No a * b + c -> fma contraction: every ISA then rounds identically, so a seed gives bitwise the same
// values on every machine (the polynomials lose little: the draws are bound by Philox and memory). It must
// match core/philox.h's option: GCC inlines its functions only into functions with the same options, and
// code once inlined is contracted by the caller's.
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

// Each transform maps a chunk's words to its B * per_block values, in element order.
struct UniformF32 {
  static constexpr int per_block = 4;
  static void apply(const Words& w, float* v, const RandomDraw& d) {
    const float low = static_cast<float>(d.a), scale = static_cast<float>(d.b), ceiling = static_cast<float>(d.ceiling);
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 4; ++j) v[4 * k + j] = philox::uniform_f32(w.w[j][k], low, scale, ceiling);
  }
};
struct UniformF64 {
  static constexpr int per_block = 2;
  static void apply(const Words& w, double* v, const RandomDraw& d) {
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 2; ++j)
        v[2 * k + j] = philox::uniform_f64(w.w[2 * j][k], w.w[2 * j + 1][k], d.a, d.b, d.ceiling);
  }
};

// float32: two normal pairs per block, from words (0, 1) and (2, 3).
struct NormalF32 {
  static constexpr int per_block = 4;
  static void apply(const Words& w, float* v, const RandomDraw& d) {
    const float loc = static_cast<float>(d.a), scale = static_cast<float>(d.b);
    float z[4][B];
#pragma omp simd
    for (int k = 0; k < B; ++k)
      for (int p = 0; p < 2; ++p)
        philox::normal_pair_f32(w.w[2 * p][k], w.w[2 * p + 1][k], loc, scale, &z[2 * p][k], &z[2 * p + 1][k]);
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 4; ++j) v[4 * k + j] = z[j][k];
  }
};
// float64: one normal pair per block.
struct NormalF64 {
  static constexpr int per_block = 2;
  static void apply(const Words& w, double* v, const RandomDraw& d) {
#pragma omp simd
    for (int k = 0; k < B; ++k)
      philox::normal_pair_f64(w.w[0][k], w.w[1][k], w.w[2][k], w.w[3][k], d.a, d.b, &v[2 * k], &v[2 * k + 1]);
  }
};

template <class T>
struct Integers {
  static constexpr int per_block = 2;
  static void apply(const Words& w, T* v, const RandomDraw& d) {
    for (int k = 0; k < B; ++k)
      for (int j = 0; j < 2; ++j)
        v[2 * k + j] = static_cast<T>(philox::integer(w.w[2 * j][k], w.w[2 * j + 1][k], d.low, d.range));
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
