// Elementwise inner loops, compiled once per ISA: casts, unary math, binary arithmetic/comparison/logic,
// where and clip. Each loop has contiguous and stride-0 (scalar operand) fast paths written for GCC's
// auto-vectoriser, and a strided fallback. Integer arithmetic wraps like NumPy's (via unsigned math);
// integer division by zero gives 0 and never traps.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "cpu/elementwise_kernels.h"
#include "cpu/vmath.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

template <class T> constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <class T> constexpr bool is_float = std::is_floating_point_v<T>;
template <class T> constexpr bool is_bool = std::is_same_v<T, bool>;

// Wrapping integer arithmetic (signed overflow is undefined in C++, modular in NumPy).
template <class T> using Unsigned = std::make_unsigned_t<T>;
template <class T> inline T wrap_add(T a, T b) { return static_cast<T>(static_cast<Unsigned<T>>(a) + static_cast<Unsigned<T>>(b)); }
template <class T> inline T wrap_sub(T a, T b) { return static_cast<T>(static_cast<Unsigned<T>>(a) - static_cast<Unsigned<T>>(b)); }
template <class T> inline T wrap_mul(T a, T b) { return static_cast<T>(static_cast<Unsigned<T>>(a) * static_cast<Unsigned<T>>(b)); }

// ---- functors: Op{ctx}(x...) computes one element; out<T> is the result type ----

struct NoParams {
  explicit NoParams(const void*) {}
  template <class T> using out = T;
};
struct ToBool : NoParams {
  using NoParams::NoParams;
  template <class T> using out = bool;
};

template <class To> struct CastTo : NoParams {
  using NoParams::NoParams;
  template <class T> using out = To;
  template <class From> To operator()(From x) const {
    if constexpr (is_bool<To>) {
      return x != From(0);
    } else if constexpr (is_int<To> && is_float<From>) {
      // NaN and out-of-range values give the most negative integer, as x86 (and so NumPy) does.
      constexpr From limit = From(-static_cast<double>(std::numeric_limits<To>::min()));
      const bool ok = x >= -limit && x < limit;
      return ok ? static_cast<To>(x) : std::numeric_limits<To>::min();
    } else {
      return static_cast<To>(x);
    }
  }
};

// Each unary functor says which input types it has a loop for.
struct Neg : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_int<T>) return wrap_sub(T(0), x);
    else return -x;
  }
};
struct Abs : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = true;
  template <class T> T operator()(T x) const {
    if constexpr (is_int<T>) return x < 0 ? wrap_sub(T(0), x) : x;
    else if constexpr (is_float<T>) return vmath::abs(x);
    else return x;
  }
};
struct Sign : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_int<T>) return static_cast<T>((x > 0) - (x < 0));
    else return x > 0 ? T(1) : x < 0 ? T(-1) : x == x ? T(0) : x;
  }
};
struct Square : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_int<T>) return wrap_mul(x, x);
    else return x * x;
  }
};
struct Reciprocal : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_int<T>) return x == 0 ? std::numeric_limits<T>::min() : T(1) / x;  // 1/0 as x86 gives it
    else return T(1) / x;
  }
};
// Float-only math from vmath.h (integer inputs are cast to float64 by the driver).
#define FUSEDNN_FLOAT_UNARY(Name, expr)                                   \
  struct Name : NoParams {                                                \
    using NoParams::NoParams;                                             \
    template <class T> static constexpr bool supports = is_float<T>;      \
    template <class T> T operator()(T x) const { return expr; }           \
  };
FUSEDNN_FLOAT_UNARY(Sqrt, x < 0 ? static_cast<T>(__builtin_nan("")) : static_cast<T>(__builtin_sqrt(x)))
FUSEDNN_FLOAT_UNARY(Exp, vmath::exp(x))
FUSEDNN_FLOAT_UNARY(Expm1, vmath::expm1(x))
FUSEDNN_FLOAT_UNARY(Log, vmath::log(x))
FUSEDNN_FLOAT_UNARY(Log1p, vmath::log1p(x))
FUSEDNN_FLOAT_UNARY(Tanh, vmath::tanh(x))
FUSEDNN_FLOAT_UNARY(Sigmoid, vmath::sigmoid(x))
#undef FUSEDNN_FLOAT_UNARY

// sin/cos: vectorised for |x| <= kTrigMaxArg; blocks holding a larger (or non-finite) x use the library.
template <int CosShift> struct SinCos : NoParams {
  using NoParams::NoParams;
  static constexpr bool has_fallback = true;
  template <class T> static constexpr bool supports = is_float<T>;
  template <class T> T operator()(T x) const { return static_cast<T>(vmath::sin_cos(static_cast<double>(x), CosShift)); }
  template <class T> static bool needs_fallback(T x) { return vmath::trig_needs_fallback(x); }
  template <class T> static T fallback(T x) {
    return static_cast<T>(CosShift ? std::cos(static_cast<double>(x)) : std::sin(static_cast<double>(x)));
  }
};
using Sin = SinCos<0>;
using Cos = SinCos<1>;

template <int Mode> struct Rounding : NoParams {  // Mode: -1 floor, +1 ceil
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = true;
  template <class T> T operator()(T x) const {
    if constexpr (!is_float<T>) return x;
    else if constexpr (Mode < 0) return vmath::floor(x);
    else return vmath::ceil(x);
  }
};
using Floor = Rounding<-1>;
using Ceil = Rounding<1>;

// NumPy's round: half to even on x * 10^d (x / 10^-d for negative d); integers change only for d < 0.
struct Round {
  int decimals;
  explicit Round(const void* ctx) : decimals(ctx ? static_cast<const RoundParams*>(ctx)->decimals : 0) {}
  template <class T> using out = T;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) {
      if (decimals == 0) return vmath::round(x);
      const T f = static_cast<T>(power_of_ten(decimals < 0 ? -decimals : decimals));
      return decimals > 0 ? vmath::round(x * f) / f : vmath::round(x / f) * f;
    } else {
      if (decimals >= 0) return x;
      if (-decimals >= std::numeric_limits<T>::digits10 + 1) return T(0);
      const T f = static_cast<T>(power_of_ten(-decimals));
      T q = x / f, rem = x % f;
      if (rem < 0) { q -= 1; rem += f; }  // floor division
      if (rem > f - rem || (rem == f - rem && (q & 1))) q += 1;  // half to even, without overflow
      return wrap_mul(q, f);
    }
  }
  static double power_of_ten(int d) {
    double f = 1;
    for (int i = 0; i < d; ++i) f *= 10;
    return f;
  }
};

struct LogicalNot : ToBool {
  using ToBool::ToBool;
  template <class T> static constexpr bool supports = true;
  template <class T> bool operator()(T x) const { return x == T(0); }
};
template <int Kind> struct FloatClass : ToBool {  // Kind: 0 isnan, 1 isinf, 2 isfinite
  using ToBool::ToBool;
  template <class T> static constexpr bool supports = true;
  template <class T> bool operator()(T x) const {
    if constexpr (!is_float<T>) return Kind == 2;
    else if constexpr (Kind == 0) return x != x;
    else if constexpr (Kind == 1) return vmath::abs(x) == vmath::inf<T>();
    else return vmath::abs(x) < vmath::inf<T>();
  }
};
struct Invert : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_float<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_bool<T>) return !x;
    else return static_cast<T>(~x);
  }
};

// ---- binary functors ----

struct Add : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = true;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) return wrap_add(a, b);
    else if constexpr (is_bool<T>) return a || b;
    else return a + b;
  }
};
struct Sub : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) return wrap_sub(a, b);
    else return a - b;
  }
};
struct Mul : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = true;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_int<T>) return wrap_mul(a, b);
    else if constexpr (is_bool<T>) return a && b;
    else return a * b;
  }
};
struct Div : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = is_float<T>;
  template <class T> T operator()(T a, T b) const { return a / b; }
};

inline float fmod_(float a, float b) { return std::fmod(a, b); }
inline double fmod_(double a, double b) { return std::fmod(a, b); }

// NumPy's float divmod: mod takes the divisor's sign; the quotient is floored and then nudged so that
// a == q * b + mod as closely as rounding allows.
template <class T> inline T float_floor_div(T a, T b) {
  if (b == T(0)) return a / b;
  T mod = fmod_(a, b);
  T div = (a - mod) / b;
  if (mod != T(0) && ((b < 0) != (mod < 0))) div -= T(1);
  if (div == T(0)) return vmath::copysign(T(0), a / b);
  T floordiv = vmath::floor(div);
  return div - floordiv > T(0.5) ? floordiv + T(1) : floordiv;
}
template <class T> inline T float_mod(T a, T b) {
  T mod = fmod_(a, b);
  if (b == T(0)) return mod;
  if (mod != T(0)) return (b < 0) != (mod < 0) ? mod + b : mod;
  return vmath::copysign(T(0), b);
}

struct FloorDiv : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      return float_floor_div(a, b);
    } else {
      if (b == 0) return 0;                   // NumPy: 0 (with a warning we do not give)
      if (b == -1) return wrap_sub(T(0), a);  // MIN / -1 overflows in C++
      const T q = a / b;
      return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
  }
};
struct Mod : NoParams {
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      return float_mod(a, b);
    } else {
      if (b == 0 || b == -1) return 0;
      const T r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
  }
};
struct Pow {
  const PowParams* params;
  explicit Pow(const void* ctx) : params(static_cast<const PowParams*>(ctx)) {}
  template <class T> using out = T;
  template <class T> static constexpr bool supports = !is_bool<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      return std::pow(a, b);
    } else {
      if (b < 0) {  // the driver raises NumPy's ValueError after the loop
        params->negative_exponent.store(true, std::memory_order_relaxed);
        return 0;
      }
      T result = 1;
      for (; b > 0; b >>= 1, a = wrap_mul(a, a))
        if (b & 1) result = wrap_mul(result, a);
      return result;
    }
  }
};
template <int Sign> struct Extremum : NoParams {  // Sign: +1 maximum, -1 minimum; NaN wins
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = true;
  template <class T> T operator()(T a, T b) const {
    const bool take_a = Sign > 0 ? a >= b : a <= b;
    if constexpr (is_float<T>) return (take_a || a != a) ? a : b;
    else return take_a ? a : b;
  }
};
using Maximum = Extremum<1>;
using Minimum = Extremum<-1>;

#define FUSEDNN_PREDICATE(Name, expr)                           \
  struct Name : ToBool {                                        \
    using ToBool::ToBool;                                       \
    template <class T> static constexpr bool supports = true;   \
    template <class T> bool operator()(T a, T b) const { return expr; } \
  };
FUSEDNN_PREDICATE(Eq, a == b)
FUSEDNN_PREDICATE(Ne, a != b)
FUSEDNN_PREDICATE(Lt, a < b)
FUSEDNN_PREDICATE(Le, a <= b)
FUSEDNN_PREDICATE(Gt, a > b)
FUSEDNN_PREDICATE(Ge, a >= b)
FUSEDNN_PREDICATE(LogicalAnd, (a != T(0)) && (b != T(0)))
FUSEDNN_PREDICATE(LogicalOr, (a != T(0)) || (b != T(0)))
FUSEDNN_PREDICATE(LogicalXor, (a != T(0)) != (b != T(0)))
#undef FUSEDNN_PREDICATE

template <int Kind> struct Bitwise : NoParams {  // Kind: 0 and, 1 or, 2 xor
  using NoParams::NoParams;
  template <class T> static constexpr bool supports = !is_float<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (Kind == 0) return static_cast<T>(a & b);
    else if constexpr (Kind == 1) return static_cast<T>(a | b);
    else return static_cast<T>(a ^ b);
  }
};

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

struct Select : NoParams {  // where(c, a, b)
  using NoParams::NoParams;
  template <class T> T operator()(bool c, T a, T b) const { return c ? a : b; }
};
struct Clamp : NoParams {  // clip(x, lo, hi) = minimum(maximum(x, lo), hi)
  using NoParams::NoParams;
  template <class T> T operator()(T x, T lo, T hi) const { return Minimum(nullptr)(Maximum(nullptr)(x, lo), hi); }
};

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

template <class F> void set_unary(ElementwiseKernels& k, UnaryOp op) {
  InnerLoop* row = k.unary[static_cast<int>(op)];
  row[0] = unary_entry<F, bool>();
  row[1] = unary_entry<F, int32_t>();
  row[2] = unary_entry<F, int64_t>();
  row[3] = unary_entry<F, float>();
  row[4] = unary_entry<F, double>();
}
template <class F> void set_binary(ElementwiseKernels& k, BinaryOp op) {
  InnerLoop* row = k.binary[static_cast<int>(op)];
  row[0] = binary_entry<F, bool>();
  row[1] = binary_entry<F, int32_t>();
  row[2] = binary_entry<F, int64_t>();
  row[3] = binary_entry<F, float>();
  row[4] = binary_entry<F, double>();
}
template <class To> void set_cast_row(ElementwiseKernels& k) {
  InnerLoop* row = k.cast[static_cast<int>(dtype_of<To>::value)];
  row[0] = &unary_loop<To, bool, CastTo<To>>;
  row[1] = &unary_loop<To, int32_t, CastTo<To>>;
  row[2] = &unary_loop<To, int64_t, CastTo<To>>;
  row[3] = &unary_loop<To, float, CastTo<To>>;
  row[4] = &unary_loop<To, double, CastTo<To>>;
}
template <class T> void set_ternary(ElementwiseKernels& k) {
  const int d = static_cast<int>(dtype_of<T>::value);
  k.where[d] = &ternary_loop<bool, T, Select>;
  k.clip[d] = &ternary_loop<T, T, Clamp>;
}

ElementwiseKernels make_kernels() {
  ElementwiseKernels k{};
  set_cast_row<bool>(k);
  set_cast_row<int32_t>(k);
  set_cast_row<int64_t>(k);
  set_cast_row<float>(k);
  set_cast_row<double>(k);
  set_ternary<bool>(k);
  set_ternary<int32_t>(k);
  set_ternary<int64_t>(k);
  set_ternary<float>(k);
  set_ternary<double>(k);
  using U = UnaryOp;
  set_unary<Neg>(k, U::Neg);
  set_unary<Abs>(k, U::Abs);
  set_unary<Sign>(k, U::Sign);
  set_unary<Square>(k, U::Square);
  set_unary<Sqrt>(k, U::Sqrt);
  set_unary<Reciprocal>(k, U::Reciprocal);
  set_unary<Exp>(k, U::Exp);
  set_unary<Expm1>(k, U::Expm1);
  set_unary<Log>(k, U::Log);
  set_unary<Log1p>(k, U::Log1p);
  set_unary<Sin>(k, U::Sin);
  set_unary<Cos>(k, U::Cos);
  set_unary<Tanh>(k, U::Tanh);
  set_unary<Sigmoid>(k, U::Sigmoid);
  set_unary<Floor>(k, U::Floor);
  set_unary<Ceil>(k, U::Ceil);
  set_unary<Round>(k, U::Round);
  set_unary<LogicalNot>(k, U::LogicalNot);
  set_unary<FloatClass<0>>(k, U::IsNan);
  set_unary<FloatClass<1>>(k, U::IsInf);
  set_unary<FloatClass<2>>(k, U::IsFinite);
  set_unary<Invert>(k, U::Invert);
  using B = BinaryOp;
  set_binary<Add>(k, B::Add);
  set_binary<Sub>(k, B::Sub);
  set_binary<Mul>(k, B::Mul);
  set_binary<Div>(k, B::Div);
  set_binary<FloorDiv>(k, B::FloorDiv);
  set_binary<Mod>(k, B::Mod);
  set_binary<Pow>(k, B::Pow);
  set_binary<Maximum>(k, B::Maximum);
  set_binary<Minimum>(k, B::Minimum);
  set_binary<Eq>(k, B::Eq);
  set_binary<Ne>(k, B::Ne);
  set_binary<Lt>(k, B::Lt);
  set_binary<Le>(k, B::Le);
  set_binary<Gt>(k, B::Gt);
  set_binary<Ge>(k, B::Ge);
  set_binary<LogicalAnd>(k, B::LogicalAnd);
  set_binary<LogicalOr>(k, B::LogicalOr);
  set_binary<LogicalXor>(k, B::LogicalXor);
  set_binary<Bitwise<0>>(k, B::BitAnd);
  set_binary<Bitwise<1>>(k, B::BitOr);
  set_binary<Bitwise<2>>(k, B::BitXor);
  return k;
}

}  // namespace

extern const ElementwiseKernels elementwise_kernels = make_kernels();

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
