// GEMM packing, register-tile micro-kernels and the fused epilogue, compiled once per ISA (vectors of 64,
// 32 or 16 bytes). A tile C[MR x NR] accumulates kc rank-1 updates: MR/W vectors of A times NR broadcasts
// of B, acc[j] += A[:, k] * B[k, j]; then C = act(alpha * acc + beta * C + bias) while it is in registers.
#include <cmath>
#include <cstring>
#include <utility>

#include "cpu/gemm_kernels.h"

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

// ---- packing ----

// out[k * out_ld + i] = src[i * stride + k] for i < rows, zero for rows <= i < R: R rows that run along k
// become k-major, all R read streams advancing together so the writes stay sequential.
template <int R, class T>
void pack_rows(const T* src, int64_t stride, int64_t rows, int64_t kc, T* out, int64_t out_ld) {
  const T* row[R];
  for (int i = 0; i < R; ++i) row[i] = src + (i < rows ? i : 0) * stride;
  if (rows == R) {
    for (int64_t k = 0; k < kc; ++k)
      for (int i = 0; i < R; ++i) out[k * out_ld + i] = row[i][k];
    return;
  }
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < R; ++i) out[k * out_ld + i] = i < rows ? row[i][k] : T(0);
}

// Copies R-wide runs that are contiguous (stride 1 along i) or gathers a general stride; zero pads i >= n.
template <int R, class T>
void pack_cols(const T* src, int64_t rs, int64_t ks, int64_t n, int64_t kc, T* out) {
  if (rs == 1 && n == R) {
    for (int64_t k = 0; k < kc; ++k) std::memcpy(out + k * R, src + k * ks, R * sizeof(T));
    return;
  }
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < R; ++i) out[k * R + i] = i < n ? src[i * rs + k * ks] : T(0);
}

// Strips of MR rows of A (element (i, k) at a[i * rs + k * cs]), each k-major and zero padded. When A's
// rows run along k, the strip is transposed in halves of W rows to keep the read streams few.
template <class T>
void pack_a(int64_t m, int64_t kc, const T* a, int64_t rs, int64_t cs, T* out) {
  constexpr int W = Simd<T>::W, MR = Simd<T>::MR;
  for (int64_t i0 = 0; i0 < m; i0 += MR, out += MR * kc) {
    const int64_t mr = min(MR, m - i0);
    if (cs == 1 && rs != 1) {
      for (int h = 0; h < MR; h += W)
        pack_rows<W>(a + (i0 + h) * rs, rs, min(W, mr - h > 0 ? mr - h : 0), kc, out + h, MR);
    } else {
      pack_cols<MR>(a + i0 * rs, rs, cs, mr, kc, out);
    }
  }
}

// Strips of NR columns of B (element (k, j) at b[k * rs + j * cs]), each k-major and zero padded.
template <class T>
void pack_b(int64_t kc, int64_t n, const T* b, int64_t rs, int64_t cs, T* out) {
  for (int64_t j0 = 0; j0 < n; j0 += kNR, out += kNR * kc) {
    const int64_t nr = min(kNR, n - j0);
    if (rs == 1 && cs != 1)
      pack_rows<kNR>(b + j0 * cs, cs, nr, kc, out, kNR);
    else
      pack_cols<kNR>(b + j0 * cs, cs, rs, nr, kc, out);
  }
}

// ---- the register tile ----

// alpha * acc + beta * C, then (last K slice) bias and activation. Every tile goes through this one
// expression, so the rounding of an element never depends on which tile or thread computed it.
template <class T, class V = typename Simd<T>::V>
__attribute__((always_inline)) inline V update(const GemmBlock<T>& g, V acc, const T* c_old, const T* row_bias, int64_t col) {
  V x = g.alpha * acc;
  if (g.beta != 0) x += g.beta * Simd<T>::load(c_old);
  if (!g.last) return x;
  if (row_bias) x += Simd<T>::load(row_bias);
  if (g.col_bias) x += g.col_bias[col];
  return g.activation == Activation::None ? x : activate<T>(x, g.activation, g.leaky_slope);
}

// Writes the MV*W x NR accumulators to C rows [i0, i0 + m), columns [j0, j0 + NR). Full tiles over
// column-contiguous C are updated in place; edge tiles and other strides go through a buffer.
template <class T, int MV, int NR, class V = typename Simd<T>::V>
inline void store_tile(const GemmBlock<T>& g, V (&acc)[NR][MV], int64_t i0, int64_t j0, int m) {
  constexpr int W = Simd<T>::W, MT = MV * W;
  T* c = g.c + i0 * g.c_rs + j0 * g.c_cs;
  const T* row_bias = g.last && g.row_bias ? g.row_bias + i0 : nullptr;
  if (m == MT && g.c_rs == 1) {
    for (int j = 0; j < NR; ++j)
      for (int v = 0; v < MV; ++v) {
        T* p = c + j * g.c_cs + v * W;
        Simd<T>::store(p, update(g, acc[j][v], p, row_bias ? row_bias + v * W : nullptr, j0 + j));
      }
    return;
  }
  alignas(64) T buf[NR][MT];
  alignas(64) T bias[MT] = {};
  if (row_bias)
    for (int i = 0; i < m; ++i) bias[i] = row_bias[i];
  for (int j = 0; j < NR; ++j)
    for (int i = 0; i < MT; ++i) buf[j][i] = g.beta != 0 && i < m ? c[i * g.c_rs + j * g.c_cs] : T(0);
  for (int j = 0; j < NR; ++j)
    for (int v = 0; v < MV; ++v)
      Simd<T>::store(buf[j] + v * W, update(g, acc[j][v], buf[j] + v * W, row_bias ? bias + v * W : nullptr, j0 + j));
  for (int j = 0; j < NR; ++j)
    for (int i = 0; i < m; ++i) c[i * g.c_rs + j * g.c_cs] = buf[j][i];
}

// One MV*W x NR tile over the block's K slice. kUnitJs: B's columns are adjacent (packed, or row-major B),
// so the NR broadcasts come from one short run of memory.
template <class T, int MV, int NR, bool kUnitJs>
void tile(const GemmBlock<T>& g, const T* a, int64_t a_ks, const T* b, int64_t i0, int64_t j0, int m) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W;
  const int64_t b_ks = g.b.ks, b_js = kUnitJs ? 1 : g.b.js;
  V acc[NR][MV];
  for (int j = 0; j < NR; ++j)
    for (int v = 0; v < MV; ++v) acc[j][v] = V{};
  if (g.c_rs == 1) {  // start C's lines on their way to L2; the k loop hides the latency
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
  constexpr int kc = 1536 / sizeof(T);                    // KC x NR of B stays in L1 across a row of tiles
  constexpr int mc = (512 << 10) / (kc * sizeof(T)) / MR * MR;  // MC x KC of A fills half of L2
  constexpr int nc = 4096 / kNR * kNR;
  return {MR, kNR, kc, mc, nc, &pack_a<T>, &pack_b<T>, &macro<T>};
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
