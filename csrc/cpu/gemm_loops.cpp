// GEMM packing, register-tile micro-kernels and the fused epilogue, compiled once per ISA (vectors of 64,
// 32 or 16 bytes). A tile C[MR x NR] accumulates kc rank-1 updates: MR/W vectors of A times NR broadcasts
// of B, acc[j] += A[:, k] * B[k, j]; then C = act(alpha * acc + beta * C + bias) while it is in registers.
#include <cmath>
#include <cstring>
#include <utility>

#include "cpu/gemm_kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64, kNR = 12;  // 24 zmm accumulators of 32 registers
#elif defined(__AVX2__)
constexpr int kVecBytes = 32, kNR = 6;   // 12 ymm accumulators of 16 registers
#else
constexpr int kVecBytes = 16, kNR = 4;   // SSE2: 8 accumulators, room for products (no FMA)
#endif

// Own helpers rather than std:: templates: an out-of-line copy of one, compiled here with AVX-512 flags,
// could be picked by the linker for baseline code.
inline int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
inline float erf_(float x) { return erff(x); }
inline double erf_(double x) { return erf(x); }

template <class T> struct Bits;
template <> struct Bits<float> { using Int = int32_t; static constexpr int mant = 23, bias = 127; };
template <> struct Bits<double> { using Int = int64_t; static constexpr int mant = 52, bias = 1023; };

template <class T>
struct Simd {
  static constexpr int W = kVecBytes / sizeof(T);
  static constexpr int MR = 2 * W;
  typedef T V __attribute__((vector_size(kVecBytes)));
  typedef typename Bits<T>::Int I __attribute__((vector_size(kVecBytes)));
  static V load(const T* p) { V v; std::memcpy(&v, p, sizeof v); return v; }
  static void store(T* p, V v) { std::memcpy(p, &v, sizeof v); }
  static V splat(T s) { return V{} + s; }
};

// ---- vector math for the epilogue ----

// e^x = 2^n (1 + q): n = round(x / ln2), q = e^r - 1 by its Taylor series on r = x - n ln2, |r| <= ln2 / 2
// (degree 7 for float, 13 for double: truncation below half an ulp). x must lie in [lo, hi].
template <class T>
struct ExpConst;
template <> struct ExpConst<float> {
  static constexpr float lo = -87.0f, hi = 88.0f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
  static constexpr int degree = 7;
};
template <> struct ExpConst<double> {
  static constexpr double lo = -708.0, hi = 709.0, ln2_hi = 6.93147180369123816490e-01,
                          ln2_lo = 1.90821492927058770002e-10;
  static constexpr int degree = 13;
};

template <class T, class V = typename Simd<T>::V>
V exp_parts(V x, V* scale) {
  using C = ExpConst<T>;
  using I = typename Simd<T>::I;
  constexpr T shifter = T(1.5) * T(1ll << Bits<T>::mant);  // adding it rounds to an integer held in the low bits
  x = x < C::lo ? Simd<T>::splat(C::lo) : x;
  x = x > C::hi ? Simd<T>::splat(C::hi) : x;
  const V t = x * T(1.4426950408889634) + shifter;
  const V n = t - shifter;
  const V r = (x - n * C::ln2_hi) - n * C::ln2_lo;
  T fact = 1;
  for (int k = 2; k <= C::degree; ++k) fact *= k;
  V p = Simd<T>::splat(1 / fact);
  for (int k = C::degree - 1; k >= 1; --k) {
    fact /= k + 1;
    p = p * r + 1 / fact;
  }
  const I n_int = (I)t - (I)Simd<T>::splat(shifter);
  *scale = (V)((n_int + Bits<T>::bias) << Bits<T>::mant);
  return p * r;
}

template <class T, class V = typename Simd<T>::V>
V vexp(V x) {
  V s;
  const V q = exp_parts<T>(x, &s);
  V r = s + s * q;
  r = x > ExpConst<T>::hi ? Simd<T>::splat(T(__builtin_inf())) : r;
  r = x < ExpConst<T>::lo ? V{} : r;
  return x != x ? x : r;
}

// tanh|x| = -expm1(-2|x|) / (expm1(-2|x|) + 2): no cancellation near 0, saturates to 1 for large |x|.
template <class T, class V = typename Simd<T>::V>
V vtanh(V x) {
  const V ax = x < 0 ? -x : x;
  V s;
  const V q = exp_parts<T>(T(-2) * ax, &s);
  const V em1 = s * q + (s - 1);
  const V y = em1 / (em1 + 2);  // = -tanh|x|
  const V r = x < 0 ? y : -y;
  return x != x ? x : r;
}

template <class T, class V = typename Simd<T>::V>
__attribute__((noinline)) V activate(V x, Activation act, T slope) {
  switch (act) {
    case Activation::Relu: return x < 0 ? V{} : x;  // keeps NaN, as np.maximum(x, 0) does
    case Activation::LeakyRelu: return x < 0 ? x * slope : x;
    case Activation::Tanh: return vtanh<T>(x);
    case Activation::Sigmoid: return 1 / (1 + vexp<T>(-x));
    case Activation::Silu: return x / (1 + vexp<T>(-x));
    case Activation::Gelu:  // exact form 0.5 x (1 + erf(x / sqrt 2)); libm's erf, lane by lane
      for (int l = 0; l < Simd<T>::W; ++l) x[l] = T(0.5) * x[l] * (1 + erf_(x[l] * T(0.70710678118654752440)));
      return x;
    default: return x;
  }
}

// ---- transposes and partial vectors ----

// Lane l of the shuffle that swaps the off-diagonal h x h blocks between rows lo and hi = lo + h (kHi:
// the new row hi); indices >= W pick from row hi.
template <int W, int h, bool kHi>
constexpr int swap_lane(int l) {
  return kHi ? ((l & h) ? W + l : l + h) : ((l & h) ? W + l - h : l);
}
template <int W, int h, bool kHi, class V, int... L>
inline V swap_blocks(V lo, V hi, std::integer_sequence<int, L...>) {
  return __builtin_shufflevector(lo, hi, swap_lane<W, h, kHi>(L)...);
}

// Transposes the W x W matrix held in W vectors (r[i][l] becomes r[l][i]): one stage per bit h of the
// index, each swapping the off-diagonal h x h blocks.
template <class T, int h = Simd<T>::W / 2, class V = typename Simd<T>::V>
__attribute__((always_inline)) inline void transpose(V (&r)[Simd<T>::W]) {
  constexpr int W = Simd<T>::W;
#pragma GCC unroll 32
  for (int i = 0; i < W; ++i)
    if (!(i & h)) {
      const V lo = r[i], hi = r[i + h];
      r[i] = swap_blocks<W, h, false>(lo, hi, std::make_integer_sequence<int, W>{});
      r[i + h] = swap_blocks<W, h, true>(lo, hi, std::make_integer_sequence<int, W>{});
    }
  if constexpr (h > 1) transpose<T, h / 2>(r);
}

// The first n lanes of a vector from memory (the rest zero), or to memory: one masked move where the ISA
// has them (masked-off lanes never touch memory), a copy otherwise.
#if defined(__AVX512F__)
template <class T, class V = typename Simd<T>::V>
inline V load_part(const T* p, int n) {
  if constexpr (sizeof(T) == 4) return (V)_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p);
  else return (V)_mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p);
}
template <class T, class V = typename Simd<T>::V>
inline void store_part(T* p, V v, int n) {
  if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), (__m512)v);
  else _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), (__m512d)v);
}
#elif defined(__AVX2__)
template <class T>
inline __m256i first_lanes(int n) {  // all ones in lanes [0, n)
  typename Simd<T>::I lane;
  for (int l = 0; l < Simd<T>::W; ++l) lane[l] = l;
  return (__m256i)(lane < n);
}
template <class T, class V = typename Simd<T>::V>
inline V load_part(const T* p, int n) {
  if constexpr (sizeof(T) == 4) return (V)_mm256_maskload_ps(p, first_lanes<T>(n));
  else return (V)_mm256_maskload_pd(p, first_lanes<T>(n));
}
template <class T, class V = typename Simd<T>::V>
inline void store_part(T* p, V v, int n) {
  if constexpr (sizeof(T) == 4) _mm256_maskstore_ps(p, first_lanes<T>(n), (__m256)v);
  else _mm256_maskstore_pd(p, first_lanes<T>(n), (__m256d)v);
}
#else
template <class T, class V = typename Simd<T>::V>
inline V load_part(const T* p, int n) {
  V v{};
  std::memcpy(&v, p, n * sizeof(T));
  return v;
}
template <class T, class V = typename Simd<T>::V>
inline void store_part(T* p, V v, int n) {
  std::memcpy(p, &v, n * sizeof(T));
}
#endif

// Lanes [0, min(W, R - g)) of v to / from p + g: a run of columns of a row, W at a time. Both possible
// lengths are compile-time constants, so the copies inline.
template <int R, class T, class V = typename Simd<T>::V>
inline void store_cols(T* p, V v, int g) {
  constexpr int W = Simd<T>::W, tail = R % W;
  if (R - g >= W)
    Simd<T>::store(p + g, v);
  else
    std::memcpy(p + g, &v, (tail ? tail : W) * sizeof(T));
}
template <int R, class T, class V = typename Simd<T>::V>
inline V load_cols(const T* p, int g) {
  constexpr int W = Simd<T>::W, tail = R % W;
  if (R - g >= W) return Simd<T>::load(p + g);
  V v{};
  std::memcpy(&v, p + g, (tail ? tail : W) * sizeof(T));
  return v;
}

// ---- packing ----

// out[k * out_ld + i] = src[i * stride + k] for i < rows, zero for rows <= i < R: R rows that run along k
// become k-major, W x W blocks at a time transposed in registers; the last kc % W columns one by one.
template <int R, class T>
void pack_rows(const T* src, int64_t stride, int64_t rows, int64_t kc, T* out, int64_t out_ld) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W;
  int64_t k = 0;
  for (; k + W <= kc; k += W)
#pragma GCC unroll 2
    for (int g = 0; g < R; g += W) {
      V r[W];
#pragma GCC unroll 32
      for (int l = 0; l < W; ++l) r[l] = g + l < rows ? Simd<T>::load(src + (g + l) * stride + k) : V{};
      transpose<T>(r);
#pragma GCC unroll 32
      for (int l = 0; l < W; ++l) store_cols<R>(out + (k + l) * out_ld, r[l], g);
    }
  if (k == kc) return;
  const int left = static_cast<int>(kc - k);  // the last columns: partial loads, one more transpose
#pragma GCC unroll 2
  for (int g = 0; g < R; g += W) {
    V r[W];
#pragma GCC unroll 32
    for (int l = 0; l < W; ++l) r[l] = g + l < rows ? load_part<T>(src + (g + l) * stride + k, left) : V{};
    transpose<T>(r);
#pragma GCC unroll 32
    for (int l = 0; l < W; ++l)
      if (l < left) store_cols<R>(out + (k + l) * out_ld, r[l], g);
  }
}

// Strips of R along a contiguous direction i (element (i, k) at src[i + k * ks], i < n), each k-major, the
// last one zero padded. A group of strips is copied k by k, one run across the group each time, so that the
// reads form one forward stream of ~1 KiB runs while the writes stay few streams.
template <int R, class T>
void pack_runs(const T* src, int64_t ks, int64_t n, int64_t kc, T* out) {
  constexpr int64_t kGroup = 1024 / (R * sizeof(T)) > 0 ? R * (1024 / (R * sizeof(T))) : R;
  for (int64_t g0 = 0; g0 < n; g0 += kGroup) {
    const int64_t g1 = min(n, g0 + kGroup), g_full = g0 + (g1 - g0) / R * R, tail = g1 - g_full;
    for (int64_t k = 0; k < kc; ++k) {
      const T* s = src + k * ks;
      for (int64_t i0 = g0; i0 < g_full; i0 += R) std::memcpy(out + i0 * kc + k * R, s + i0, R * sizeof(T));
      if (tail) {  // a fixed-length loop, not memcpy of a runtime length: that is a library call per k
        T* o = out + g_full * kc + k * R;
        for (int i = 0; i < R; ++i) o[i] = i < tail ? s[g_full + i] : T(0);
      }
    }
  }
}

// One strip of R gathered from general strides (element (i, k) at src[i * rs + k * ks]), zero padding i >= n.
template <int R, class T>
void pack_gather(const T* src, int64_t rs, int64_t ks, int64_t n, int64_t kc, T* out) {
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < R; ++i) out[k * R + i] = i < n ? src[i * rs + k * ks] : T(0);
}

// Strips of MR rows of A (element (i, k) at a[i * rs + k * cs]), each k-major and zero padded. When A's
// rows run along k, each strip is transposed in halves of W rows to keep the read streams few.
template <class T>
void pack_a(int64_t m, int64_t kc, const T* a, int64_t rs, int64_t cs, T* out) {
  constexpr int W = Simd<T>::W, MR = Simd<T>::MR;
  if (rs == 1) return pack_runs<MR>(a, cs, m, kc, out);
  for (int64_t i0 = 0; i0 < m; i0 += MR, out += MR * kc) {
    const int64_t mr = min(MR, m - i0);
    if (cs == 1) {
      for (int h = 0; h < MR; h += W)
        pack_rows<W>(a + (i0 + h) * rs, rs, min(W, mr - h > 0 ? mr - h : 0), kc, out + h, MR);
    } else {
      pack_gather<MR>(a + i0 * rs, rs, cs, mr, kc, out);
    }
  }
}

// Strips of NR columns of B (element (k, j) at b[k * rs + j * cs]), each k-major and zero padded.
template <class T>
void pack_b(int64_t kc, int64_t n, const T* b, int64_t rs, int64_t cs, T* out) {
  if (cs == 1) return pack_runs<kNR>(b, rs, n, kc, out);
  for (int64_t j0 = 0; j0 < n; j0 += kNR, out += kNR * kc) {
    const int64_t nr = min(kNR, n - j0);
    if (rs == 1)
      pack_rows<kNR>(b + j0 * cs, cs, nr, kc, out, kNR);
    else
      pack_gather<kNR>(b + j0 * cs, cs, rs, nr, kc, out);
  }
}

// ---- the register tile ----

// alpha * acc + beta * C, then (last K slice) bias and activation. Every element of every tile goes
// through this one expression, so its rounding never depends on which tile or thread computed it. old()
// gives C's previous values; it is only called when beta != 0.
template <class T, class Old, class V = typename Simd<T>::V>
__attribute__((always_inline)) inline V update(const GemmBlock<T>& g, V acc, Old old, const V* row_bias, int64_t col) {
  V x = g.alpha * acc;
  if (g.beta != 0) x += g.beta * old();
  if (!g.last) return x;
  if (row_bias) x += *row_bias;
  if (g.col_bias) x += g.col_bias[col];
  return g.activation == Activation::None ? x : activate<T>(x, g.activation, g.leaky_slope);
}

// Every case but the common one, from the raw sums in memory (raw[j][i]). Column-contiguous C takes the
// vectors as they are, full or partial; row-contiguous C (a narrow N kept on the broadcast side) takes them
// transposed, W x W at a time, each row of the tile one short run of memory; other strides go element by
// element through a buffer. The block is copied first: stores to C could alias it, and would make every
// vector re-read its fields.
template <class T, int MV, int NR>
__attribute__((noinline)) void store_general(const GemmBlock<T>& block, const T (&raw)[NR][MV * Simd<T>::W],
                                             int64_t i0, int64_t j0, int m) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W, MT = MV * W;
  const GemmBlock<T> g = block;
  T* c = g.c + i0 * g.c_rs + j0 * g.c_cs;
  const bool has_bias = g.last && g.row_bias;
  alignas(64) T bias[MT] = {};
  if (has_bias)
    for (int i = 0; i < m; ++i) bias[i] = g.row_bias[i0 + i];
  auto acc = [&](int j, int v) { return Simd<T>::load(raw[j] + v * W); };
  auto row_bias = [&](int v) { return has_bias ? reinterpret_cast<const V*>(bias + v * W) : nullptr; };
  if (g.c_rs == 1) {
    for (int j = 0; j < NR; ++j)
      for (int v = 0; v < MV; ++v) {
        T* p = c + j * g.c_cs + v * W;
        const int rows = min(W, m - v * W);
        if (rows == W)
          Simd<T>::store(p, update(g, acc(j, v), [&] { return Simd<T>::load(p); }, row_bias(v), j0 + j));
        else if (rows > 0)
          store_part(p, update(g, acc(j, v), [&] { return load_part<T>(p, rows); }, row_bias(v), j0 + j), rows);
      }
    return;
  }
  if (g.c_cs == 1) {  // every vector index below is a constant once unrolled, so the W x W blocks stay in registers
    for (int v = 0; v < MV; ++v) {
      const int rows = min(W, m - v * W);
      if (rows <= 0) break;
      T* p = c + v * W * g.c_rs;
#pragma GCC unroll 4
      for (int jg = 0; jg < NR; jg += W) {
        V old[W] = {};
        if (g.beta != 0) {
#pragma GCC unroll 32
          for (int l = 0; l < W; ++l)
            if (l < rows) old[l] = load_cols<NR, T>(p + l * g.c_rs, jg);
          transpose<T>(old);
        }
        V r[W] = {};
#pragma GCC unroll 32
        for (int j = 0; j < W; ++j)
          if (jg + j < NR) r[j] = update(g, acc(jg + j, v), [&] { return old[j]; }, row_bias(v), j0 + jg + j);
        transpose<T>(r);
#pragma GCC unroll 32
        for (int l = 0; l < W; ++l)
          if (l < rows) store_cols<NR>(p + l * g.c_rs, r[l], jg);
      }
    }
    return;
  }
  for (int j = 0; j < NR; ++j) {
    alignas(64) T col[MT] = {};
    if (g.beta != 0)
      for (int i = 0; i < m; ++i) col[i] = c[i * g.c_rs + j * g.c_cs];
    for (int v = 0; v < MV; ++v) {
      T* p = col + v * W;
      Simd<T>::store(p, update(g, acc(j, v), [&] { return Simd<T>::load(p); }, row_bias(v), j0 + j));
    }
    for (int i = 0; i < m; ++i) c[i * g.c_rs + j * g.c_cs] = col[i];
  }
}

// Writes the MV*W x NR accumulators to C rows [i0, i0 + m), columns [j0, j0 + NR). The common cases, a
// full tile over column-contiguous C with no epilogue due, go straight from the registers (update()'s
// expression with its fields read once); the rest go out of line.
template <class T, int MV, int NR, class V = typename Simd<T>::V>
__attribute__((always_inline)) inline void store_tile(const GemmBlock<T>& g, V (&acc)[NR][MV], int64_t i0, int64_t j0,
                                                      int m) {
  constexpr int W = Simd<T>::W, MT = MV * W;
  const bool epilogue = g.last && (g.row_bias || g.col_bias || g.activation != Activation::None);
  if (m == MT && g.c_rs == 1 && !epilogue) {
    T* c = g.c + i0 + j0 * g.c_cs;
    const int64_t cs = g.c_cs;
    const T alpha = g.alpha, beta = g.beta;
    if (alpha == 1 && beta == 0) {  // the usual C = A B: no multiply by 1 (exact either way; short K feels it)
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) Simd<T>::store(c + j * cs + v * W, acc[j][v]);
      return;
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
      for (int v = 0; v < MV; ++v) {
        T* p = c + j * cs + v * W;
        V x = alpha * acc[j][v];
        if (beta != 0) x += beta * Simd<T>::load(p);
        Simd<T>::store(p, x);
      }
    return;
  }
  alignas(64) T raw[NR][MT];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v) Simd<T>::store(raw[j] + v * W, acc[j][v]);
  store_general<T, MV, NR>(g, raw, i0, j0, m);
}

// One MV*W x NR tile over the block's K slice. kUnitJs: B's columns are adjacent (packed, or row-major B),
// so the NR broadcasts come from one short run of memory.
template <class T, int MV, int NR, bool kUnitJs>
void tile(const GemmBlock<T>& g, const T* a, int64_t a_ks, const T* b, int64_t i0, int64_t j0, int m) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W;
  const int64_t b_ks = g.b.ks, b_js = kUnitJs ? 1 : g.b.js;
  V acc[NR][MV];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v) acc[j][v] = V{};
  if (g.c_rs == 1 && g.k >= 32) {  // start C's lines on their way to L2; a long k loop hides the latency
    const char* c = reinterpret_cast<const char*>(g.c + i0 + j0 * g.c_cs);
    for (int j = 0; j < NR; ++j)
      for (int v = 0; v < MV * kVecBytes; v += 64) __builtin_prefetch(c + j * g.c_cs * sizeof(T) + v, 1, 2);
  }
  for (int64_t k = 0; k < g.k; ++k) {
    V av[MV];
    for (int v = 0; v < MV; ++v) av[v] = Simd<T>::load(a + v * W);
    for (int j = 0; j < NR; ++j) {
      const T s = b[j * b_js];
      for (int v = 0; v < MV; ++v) acc[j][v] += av[v] * s;
    }
    a += a_ks;
    b += b_ks;
  }
  store_tile<T, MV, NR>(g, acc, i0, j0, m);
}

template <class T>
using TileFn = void (*)(const GemmBlock<T>&, const T*, int64_t, const T*, int64_t, int64_t, int);

// tiles<T, MV, unit>()[n - 1] is the tile of width n.
template <class T, int MV, bool kUnitJs, int... J>
const TileFn<T>* tiles(std::integer_sequence<int, J...>) {
  static constexpr TileFn<T> fns[] = {&tile<T, MV, J + 1, kUnitJs>...};
  return fns;
}
template <class T, int MV, bool kUnitJs>
const TileFn<T>* tiles() {
  return tiles<T, MV, kUnitJs>(std::make_integer_sequence<int, kNR>{});
}

template <class T>
void macro(const GemmBlock<T>& g) {
  constexpr int W = Simd<T>::W, MR = Simd<T>::MR;
  const bool unit = g.b.js == 1;
  const TileFn<T>* narrow = unit ? tiles<T, 1, true>() : tiles<T, 1, false>();
  const TileFn<T>* wide = unit ? tiles<T, 2, true>() : tiles<T, 2, false>();
  // An unpacked A is read in place, except its last partial strip: copied, zero padded, so that the
  // full-width loads never run past the matrix.
  const int64_t m_full = g.m / MR * MR;
  if (!g.a.packed && m_full < g.m)
    pack_a(g.m - m_full, g.k, g.a.p + m_full / MR * g.a.strip, int64_t{1}, g.a.ks, g.edge_scratch);
  for (int64_t j0 = 0; j0 < g.n; j0 += kNR) {
    const int nr = static_cast<int>(min(kNR, g.n - j0));
    const T* b = g.b.p + j0 / kNR * g.b.strip;
    for (int64_t i0 = 0; i0 < g.m; i0 += MR) {
      const int mr = static_cast<int>(min(MR, g.m - i0));
      const bool edge = !g.a.packed && i0 == m_full;
      const T* a = edge ? g.edge_scratch : g.a.p + i0 / MR * g.a.strip;
      const int64_t a_ks = edge ? MR : g.a.ks;
      (mr <= W ? narrow : wide)[nr - 1](g, a, a_ks, b, i0, j0, mr);
    }
  }
}

template <class T>
constexpr GemmKernel<T> make_kernel() {
  constexpr int MR = Simd<T>::MR;
  // KC x NR of B (24 KiB with AVX-512) stays in L1 across a column of tiles; the longer K slices (512 floats,
  // not 384) write C fewer times, which large products feel.
  constexpr int kc = 2048 / sizeof(T);
  constexpr int mc = (512 << 10) / (kc * sizeof(T)) / MR * MR;  // MC x KC of A fills half of L2
  return {MR, kNR, kc, mc, &pack_a<T>, &pack_b<T>, &macro<T>};
}

// The FMA-peak probe: 12 independent chains of float vector FMAs (more than latency x pipes, 4 x 2 on
// Zen 4), 2 * 12 * W flops a step. Returns a value that depends on every chain so none is optimised away.
constexpr int kProbeChains = 12;
double fma_probe(int64_t steps) {
  using S = Simd<float>;
  S::V acc[kProbeChains];
  const float seed = 1.0f / float(steps + 2);  // runtime start values: no chain can be constant-folded
  for (int i = 0; i < kProbeChains; ++i) acc[i] = S::splat(seed * float(i + 1));
  const S::V x = S::splat(0.9999999f), y = S::splat(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
    for (int i = 0; i < kProbeChains; ++i) acc[i] = acc[i] * x + y;
  double sum = 0;
  for (int i = 0; i < kProbeChains; ++i) sum += acc[i][0];
  return sum;
}

}  // namespace

extern const GemmKernels gemm_kernels = {make_kernel<float>(), make_kernel<double>(), &fma_probe,
                                         2 * kProbeChains * Simd<float>::W};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
