// Elementwise inner loops, compiled once per ISA: casts, unary math, binary arithmetic/comparison/logic,
// where and clip. Each loop has contiguous and stride-0 (scalar operand) fast paths written for GCC's
// auto-vectoriser, and a strided fallback. What each op computes is defined once, for every backend,
// in core/elementwise_ops.h.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/elementwise_ops.h"
#include "cpu/elementwise_kernels.h"
#include "cpu/vmath.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

// The math the shared op definitions (core/elementwise_ops.h) take from this ISA: vmath's vectorisable
// forms, and the C library where no loop is vectorised anyway.
struct CpuMath {
  using Flag = const PowParams;
  static void raise(Flag* flag) { flag->negative_exponent.store(true, std::memory_order_relaxed); }
  template <class T> static T abs(T x) { return vmath::abs(x); }
  template <class T> static T sqrt(T x) { return x < 0 ? static_cast<T>(__builtin_nan("")) : static_cast<T>(__builtin_sqrt(x)); }
  template <class T> static T exp(T x) { return vmath::exp(x); }
  template <class T> static T expm1(T x) { return vmath::expm1(x); }
  template <class T> static T log(T x) { return vmath::log(x); }
  template <class T> static T log1p(T x) { return vmath::log1p(x); }
  template <class T> static T tanh(T x) { return vmath::tanh(x); }
  template <class T> static T sigmoid(T x) { return vmath::sigmoid(x); }
  template <class T> static T floor(T x) { return vmath::floor(x); }
  template <class T> static T ceil(T x) { return vmath::ceil(x); }
  template <class T> static T round(T x) { return vmath::round(x); }
  template <class T> static T copysign(T x, T y) { return vmath::copysign(x, y); }
  template <class T> static T fmod(T a, T b) { return std::fmod(a, b); }
  template <class T> static T pow(T a, T b) { return std::pow(a, b); }
  // sin/cos: vectorised for |x| <= kTrigMaxArg; blocks holding a larger (or non-finite) x use the library.
  template <class T> static T sin_cos(T x, int cos_shift) { return static_cast<T>(vmath::sin_cos(static_cast<double>(x), cos_shift)); }
  template <class T> static bool trig_needs_fallback(T x) { return vmath::trig_needs_fallback(x); }
  template <class T> static T sin_cos_exact(T x, int cos_shift) {
    return static_cast<T>(cos_shift ? std::cos(static_cast<double>(x)) : std::sin(static_cast<double>(x)));
  }
};
using Ops = ElementwiseOps<CpuMath>;

// ---- inner loops ----

template <class T> inline T& at(char* base, int64_t stride, int64_t i) { return *reinterpret_cast<T*>(base + i * stride); }

template <class F, class = void> struct HasFallback : std::false_type {};
template <class F> struct HasFallback<F, std::void_t<decltype(F::has_fallback)>> : std::true_type {};

// out[i] = f(x[i]) over a contiguous run; ops with a scalar fallback check each block of 256 first.
template <class Out, class In, class F>
void unary_contiguous(Out* out, const In* x, int64_t n, const F& f) {
  if constexpr (HasFallback<F>::value) {
    for (int64_t i0 = 0; i0 < n; i0 += 256) {
      const int64_t m = n - i0 < 256 ? n - i0 : 256;
      bool slow = false;
      for (int64_t i = 0; i < m; ++i) slow |= F::needs_fallback(x[i0 + i]);
      if (slow) {
        for (int64_t i = 0; i < m; ++i) out[i0 + i] = F::needs_fallback(x[i0 + i]) ? F::fallback(x[i0 + i]) : f(x[i0 + i]);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < m; ++i) out[i0 + i] = f(x[i0 + i]);
      }
    }
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
  }
}

template <class Out, class In, class F>
void unary_loop(char* const* data, const int64_t* strides, int64_t n, const void* ctx) {
  const F f(ctx);
  Out* out = reinterpret_cast<Out*>(data[0]);
  const In* x = reinterpret_cast<const In*>(data[1]);
  if (strides[0] == sizeof(Out) && strides[1] == sizeof(In)) return unary_contiguous(out, x, n, f);
  if (strides[0] == sizeof(Out) && strides[1] == 0) {  // broadcast scalar (fill)
    Out v[1];
    unary_contiguous(v, x, 1, f);
    for (int64_t i = 0; i < n; ++i) out[i] = v[0];
    return;
  }
  for (int64_t i = 0; i < n; ++i) unary_contiguous(&at<Out>(data[0], strides[0], i), &at<In>(data[1], strides[1], i), 1, f);
}

template <class Out, class T, class F>
void binary_loop(char* const* data, const int64_t* strides, int64_t n, const void* ctx) {
  const F f(ctx);
  Out* out = reinterpret_cast<Out*>(data[0]);
  const T* a = reinterpret_cast<const T*>(data[1]);
  const T* b = reinterpret_cast<const T*>(data[2]);
  constexpr int64_t so = sizeof(Out), st = sizeof(T);
  if (strides[0] == so && strides[1] == st && strides[2] == st) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (strides[0] == so && strides[1] == st && strides[2] == 0) {
    const T bv = *b;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
  } else if (strides[0] == so && strides[1] == 0 && strides[2] == st) {
    const T av = *a;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i)
      at<Out>(data[0], strides[0], i) = f(at<T>(data[1], strides[1], i), at<T>(data[2], strides[2], i));
  }
}

// out = f(p, q, r): contiguous, "first operand contiguous, the others scalars", and strided paths.
template <class P, class T, class F>
void ternary_loop(char* const* data, const int64_t* strides, int64_t n, const void* ctx) {
  const F f(ctx);
  T* out = reinterpret_cast<T*>(data[0]);
  const P* p = reinterpret_cast<const P*>(data[1]);
  const T* q = reinterpret_cast<const T*>(data[2]);
  const T* r = reinterpret_cast<const T*>(data[3]);
  constexpr int64_t st = sizeof(T), sp = sizeof(P);
  if (strides[0] == st && strides[1] == sp && strides[2] == st && strides[3] == st) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(p[i], q[i], r[i]);
  } else if (strides[0] == st && strides[1] == sp && strides[2] == 0 && strides[3] == 0) {
    const T qv = *q, rv = *r;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(p[i], qv, rv);
  } else {
    for (int64_t i = 0; i < n; ++i)
      at<T>(data[0], strides[0], i) =
          f(at<P>(data[1], strides[1], i), at<T>(data[2], strides[2], i), at<T>(data[3], strides[3], i));
  }
}

// ---- the table ----

template <class F, class T> constexpr InnerLoop unary_entry() {
  if constexpr (F::template supports<T>) return &unary_loop<typename F::template out<T>, T, F>;
  else return nullptr;
}
template <class F, class T> constexpr InnerLoop binary_entry() {
  if constexpr (F::template supports<T>) return &binary_loop<typename F::template out<T>, T, F>;
  else return nullptr;
}

// Fills the unary and binary rows for Ops::register_all.
struct Rows {
  ElementwiseKernels& k;
  template <class F> void unary(UnaryOp op) {
    InnerLoop* row = k.unary[static_cast<int>(op)];
    for_each_dtype([&](auto zero) { row[index<decltype(zero)>()] = unary_entry<F, decltype(zero)>(); });
  }
  template <class F> void binary(BinaryOp op) {
    InnerLoop* row = k.binary[static_cast<int>(op)];
    for_each_dtype([&](auto zero) { row[index<decltype(zero)>()] = binary_entry<F, decltype(zero)>(); });
  }
  template <class T> static int index() { return static_cast<int>(dtype_of<T>::value); }
};
ElementwiseKernels make_kernels() {
  ElementwiseKernels k{};
  for_each_dtype([&](auto to) {
    using To = decltype(to);
    const int d = Rows::index<To>();
    for_each_dtype([&](auto from) {
      k.cast[d][Rows::index<decltype(from)>()] = &unary_loop<To, decltype(from), Ops::CastTo<To>>;
    });
    k.where[d] = &ternary_loop<bool, To, Ops::Select>;
    k.clip[d] = &ternary_loop<To, To, Ops::Clamp>;
  });
  Rows rows{k};
  Ops::register_all(rows);
  return k;
}

}  // namespace

extern const ElementwiseKernels elementwise_kernels = make_kernels();

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
