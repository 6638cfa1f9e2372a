// Reduction inner loops, compiled once per ISA. Rows: kUnroll vector accumulators of the accumulator type,
// combined in a fixed tree and flushed into the wide value (double for float sums) every kFlush elements, so
// a float32 sum errs like a sum of kFlush / lanes terms. Columns: rows are folded into a tile of lanes,
// vectorised across the columns, flushed every kFlushRows rows. Argmax/argmin: a vector max, then a scan.
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/reduce_ops.h"
#include "fusednn/reduce.h"

// Vectors wider than the ISA's registers (an input twice as wide as its accumulator) only pass between
// internal, inlined helpers, so the ABI note GCC gives for them does not concern us.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX2__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif
constexpr int kUnroll = 8;
constexpr int64_t kFlush = 4096;     // elements per lane flush in row reductions
constexpr int64_t kFlushRows = 128;  // rows per tile flush in column reductions

inline int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }

// C++ storage type of a dtype (bool is a byte holding 0 or 1).
template <DType D> struct TypeOf;
template <> struct TypeOf<DType::Bool> { using type = uint8_t; };
template <> struct TypeOf<DType::Int32> { using type = int32_t; };
template <> struct TypeOf<DType::Int64> { using type = int64_t; };
template <> struct TypeOf<DType::Float32> { using type = float; };
template <> struct TypeOf<DType::Float64> { using type = double; };

template <int Size> struct IntOfSize;
template <> struct IntOfSize<1> { using type = int8_t; };
template <> struct IntOfSize<4> { using type = int32_t; };
template <> struct IntOfSize<8> { using type = int64_t; };

template <class T> constexpr T lowest() { return T(-__builtin_inf()); }
template <> constexpr int32_t lowest<int32_t>() { return INT32_MIN; }
template <> constexpr int64_t lowest<int64_t>() { return INT64_MIN; }
template <> constexpr uint8_t lowest<uint8_t>() { return 0; }
template <class T> constexpr T highest() { return T(__builtin_inf()); }
template <> constexpr int32_t highest<int32_t>() { return INT32_MAX; }
template <> constexpr int64_t highest<int64_t>() { return INT64_MAX; }
template <> constexpr uint8_t highest<uint8_t>() { return 1; }

// One (op, input, accumulator) combination. Lane L: what the vector lanes hold (the accumulator type,
// double for SqDev, and for Any/All a mask integer as wide as the input, -1 for true). Wide W: what the
// lanes are flushed into (see wide_dtype in reduce.h).
template <KernelOp Op, class In, class Acc>
struct Kern {
  static constexpr bool logical = Op == KernelOp::Any || Op == KernelOp::All;
  using L = std::conditional_t<logical, typename IntOfSize<sizeof(In)>::type,
                               std::conditional_t<Op == KernelOp::SqDev, double, Acc>>;
  using W = std::conditional_t<Op == KernelOp::SqDev || (Op == KernelOp::Sum && std::is_floating_point_v<Acc>),
                               double, Acc>;
  static constexpr int N = kVecBytes / sizeof(L);
  typedef L VL __attribute__((vector_size(N * sizeof(L))));
  typedef In VI __attribute__((vector_size(N * sizeof(In))));

  static constexpr L identity() {
    if constexpr (Op == KernelOp::Prod) return L(1);
    else if constexpr (Op == KernelOp::Max) return lowest<L>();
    else if constexpr (Op == KernelOp::Min) return highest<L>();
    else if constexpr (Op == KernelOp::All) return L(-1);
    else return L(0);
  }
  // The shared combine (core/reduce_ops.h) on scalars and vectors. Only b, the new element in the loops,
  // is tested for NaN: that test stays off the accumulator's dependency chain.
  template <class T>
  static T combine(T a, T b) { return ReduceOps<Kern>::template combine<Op>(a, b); }
  // Float max/min in row loops: the plain select (one max instruction) on the accumulators, and NaN
  // recorded in a separate mask, which keeps the accumulator's dependency chain short.
  static constexpr bool nan_aside = (Op == KernelOp::Max || Op == KernelOp::Min) && std::is_floating_point_v<L>;
  using Mask = decltype(VL{} != VL{});
  static VL plain(VL a, VL b) {
    if constexpr (Op == KernelOp::Max) return b > a ? b : a;
    else return b < a ? b : a;
  }
  static VL transform_v(const VI& x, const VL& center) {
    if constexpr (logical) {
      return (VL)(x != 0);
    } else if constexpr (Op == KernelOp::SqDev) {
      const VL d = __builtin_convertvector(x, VL) - center;
      return d * d;
    } else {
      return __builtin_convertvector(x, VL);
    }
  }
  static L transform(In x, L center) {
    if constexpr (logical) {
      return L(-L(x != 0));
    } else if constexpr (Op == KernelOp::SqDev) {
      const L d = L(x) - center;
      return d * d;
    } else {
      return L(x);
    }
  }
  // Folds one lane value into the wide result.
  static W flush(W w, L lane) {
    if constexpr (logical) {
      return combine(w, W(lane != 0));
    } else {
      return combine(w, W(lane));
    }
  }
  static VI load(const In* p) { VI v; std::memcpy(&v, p, sizeof v); return v; }
  static VL load_lanes(const L* p) { VL v; std::memcpy(&v, p, sizeof v); return v; }
  static void store_lanes(L* p, VL v) { std::memcpy(p, &v, sizeof v); }
  static VL splat(L v) { return VL{} + v; }
};

template <KernelOp Op, class In, class Acc>
void row(const char* x, int64_t stride, int64_t n, void* wide, const double* center) {
  using K = Kern<Op, In, Acc>;
  using L = typename K::L;
  typename K::W w;
  std::memcpy(&w, wide, sizeof w);
  const L c = Op == KernelOp::SqDev ? L(*center) : L(0);
  int64_t i = 0;
  if (stride == sizeof(In)) {
    const In* p = reinterpret_cast<const In*>(x);
    constexpr int64_t step = K::N * kUnroll;
    const typename K::VL vc = K::splat(c);
    while (n - i >= step) {
      const int64_t end = i + min(kFlush, (n - i) / step * step);
      typename K::VL acc[kUnroll];
      typename K::Mask nan{};
      for (int u = 0; u < kUnroll; ++u) acc[u] = K::splat(K::identity());
      for (; i < end; i += step) {
        for (int u = 0; u < kUnroll; ++u) {
          const typename K::VL v = K::transform_v(K::load(p + i + u * K::N), vc);
          if constexpr (K::nan_aside) {  // plain max/min on the chain; NaN noted beside it
            acc[u] = K::plain(acc[u], v);
            nan |= v != v;
          } else {
            acc[u] = K::combine(acc[u], v);
          }
        }
      }
      for (int u = 1; u < kUnroll; ++u) acc[0] = K::combine(acc[0], acc[u]);
      for (int l = 0; l < K::N; ++l) w = K::flush(w, nan[l] ? L(__builtin_nan("")) : acc[0][l]);
    }
  }
  for (; i < n; ++i) {
    In v;
    std::memcpy(&v, x + i * stride, sizeof v);
    w = K::flush(w, K::transform(v, c));
  }
  std::memcpy(wide, &w, sizeof w);
}

// tile[j] = combine(tile[j], x_r[j]) for the R rows in `rows`, vectorised across j.
template <class K, int R, class In, class L = typename K::L>
void fold_rows(L* tile, const In* const* rows, int64_t nc, const double* center) {
  int64_t j = 0;
  typename K::VL vc{};
  for (; j + K::N <= nc; j += K::N) {
    if constexpr (std::is_same_v<L, double>) {
      if (center) std::memcpy(&vc, center + j, sizeof vc);
    }
    typename K::VL t = K::load_lanes(tile + j);
    for (int r = 0; r < R; ++r) t = K::combine(t, K::transform_v(K::load(rows[r] + j), vc));
    K::store_lanes(tile + j, t);
  }
  for (; j < nc; ++j) {
    const L c = center ? L(center[j]) : L(0);
    L t = tile[j];
    for (int r = 0; r < R; ++r) t = K::combine(t, K::transform(rows[r][j], c));
    tile[j] = t;
  }
}

template <KernelOp Op, class In, class Acc>
void cols(const char* x, int64_t row_stride, int64_t nrows, int64_t ncols, void* wide, const double* center) {
  using K = Kern<Op, In, Acc>;
  using L = typename K::L;
  auto* w = static_cast<typename K::W*>(wide);
  L tile[kColTile];
  for (int64_t j0 = 0; j0 < ncols; j0 += kColTile) {
    const int64_t nc = min(kColTile, ncols - j0);
    const double* c = Op == KernelOp::SqDev ? center + j0 : nullptr;
    for (int64_t i0 = 0; i0 < nrows; i0 += kFlushRows) {
      const int64_t i1 = min(nrows, i0 + kFlushRows);
      for (int64_t j = 0; j < nc; ++j) tile[j] = K::identity();
      const In* rows[4];
      int64_t i = i0;
      for (; i + 4 <= i1; i += 4) {
        for (int r = 0; r < 4; ++r) rows[r] = reinterpret_cast<const In*>(x + (i + r) * row_stride) + j0;
        fold_rows<K, 4>(tile, rows, nc, c);
      }
      for (; i < i1; ++i) {
        rows[0] = reinterpret_cast<const In*>(x + i * row_stride) + j0;
        fold_rows<K, 1>(tile, rows, nc, c);
      }
      for (int64_t j = 0; j < nc; ++j) w[j0 + j] = K::flush(w[j0 + j], tile[j]);
    }
  }
}

// First i with hit(x[i]) (n if none): contiguous data a block at a time, each block tested branch-free so
// that the test vectorises.
template <class In, class Hit>
int64_t find_first(const char* x, int64_t stride, int64_t n, Hit hit) {
  int64_t i = 0;
  if (stride == sizeof(In)) {
    const In* p = reinterpret_cast<const In*>(x);
    constexpr int64_t block = 256;
    for (; i + block <= n; i += block) {
      int any = 0;
      for (int64_t k = 0; k < block; ++k) any |= hit(p[i + k]);
      if (any) break;
    }
  }
  for (; i < n; ++i) {
    In v;
    std::memcpy(&v, x + i * stride, sizeof v);
    if (hit(v)) return i;
  }
  return n;
}

// First index of the extreme value: the vectorised Max/Min row kernel finds it (NaN if any), then a scan
// finds where it first occurs.
template <bool IsMax, class In>
int64_t arg(const char* x, int64_t stride, int64_t n) {
  constexpr KernelOp op = IsMax ? KernelOp::Max : KernelOp::Min;
  In best = IsMax ? lowest<In>() : highest<In>();
  row<op, In, In>(x, stride, n, &best, nullptr);
  if (best != best) return find_first<In>(x, stride, n, [](In v) { return v != v; });
  return find_first<In>(x, stride, n, [best](In v) { return v == best; });
}

template <int Op, int In, int Acc>
constexpr void set_entry(ReduceKernels& t) {
  constexpr auto op = static_cast<KernelOp>(Op);
  constexpr auto in = static_cast<DType>(In), acc = static_cast<DType>(Acc);
  if constexpr (has_kernel(op, in, acc)) {
    using I = typename TypeOf<in>::type;
    using A = typename TypeOf<acc>::type;
    t.row[Op][In][Acc] = &row<op, I, A>;
    t.cols[Op][In][Acc] = &cols<op, I, A>;
  }
  if constexpr (Op == 0 && Acc == 0) {
    using I = typename TypeOf<in>::type;
    t.arg[0][In] = &arg<true, I>;
    t.arg[1][In] = &arg<false, I>;
  }
}

template <int Op, int In, int... Acc>
constexpr void set_accs(ReduceKernels& t, std::integer_sequence<int, Acc...>) { (set_entry<Op, In, Acc>(t), ...); }
template <int Op, int... In>
constexpr void set_ins(ReduceKernels& t, std::integer_sequence<int, In...>) {
  (set_accs<Op, In>(t, std::make_integer_sequence<int, kNumDTypes>{}), ...);
}
template <int... Op>
constexpr void set_ops(ReduceKernels& t, std::integer_sequence<int, Op...>) {
  (set_ins<Op>(t, std::make_integer_sequence<int, kNumDTypes>{}), ...);
}

constexpr ReduceKernels make_kernels() {
  ReduceKernels t{};
  set_ops(t, std::make_integer_sequence<int, kKernelOps>{});
  return t;
}

}  // namespace

extern const ReduceKernels reduce_kernels = make_kernels();

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
