// The scalar semantics of every elementwise op (NumPy's rules), written once for the per-ISA CPU loops
// (elementwise_loops.cpp) and the CUDA kernels (cuda/elementwise.cu). `ElementwiseOps<M>` holds one
// functor per op: Op{ctx}(x...) computes one element and out<T> is its result type. M supplies the
// math each backend does its own way (vectorisable vmath on the CPU, CUDA's libm on the device) and
// makes every instantiation distinct per ISA, so no compiled copy can stand in for another's.
// Integer arithmetic wraps like NumPy's (through unsigned math); integer division by zero gives 0.
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>

#include "fusednn/elementwise.h"

#include "core/hd.h"

namespace fusednn {

template <class M>
struct ElementwiseOps {
  template <class T> static constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;
  template <class T> static constexpr bool is_float = std::is_floating_point_v<T>;
  template <class T> static constexpr bool is_bool = std::is_same_v<T, bool>;

  // Wrapping integer arithmetic (signed overflow is undefined in C++, modular in NumPy).
  template <class T> using Unsigned = std::make_unsigned_t<T>;
  template <class T> FUSEDNN_HD static T wrap_add(T a, T b) { return static_cast<T>(static_cast<Unsigned<T>>(a) + static_cast<Unsigned<T>>(b)); }
  template <class T> FUSEDNN_HD static T wrap_sub(T a, T b) { return static_cast<T>(static_cast<Unsigned<T>>(a) - static_cast<Unsigned<T>>(b)); }
  template <class T> FUSEDNN_HD static T wrap_mul(T a, T b) { return static_cast<T>(static_cast<Unsigned<T>>(a) * static_cast<Unsigned<T>>(b)); }

  struct NoParams {
    FUSEDNN_HD explicit NoParams(const void*) {}
    template <class T> using out = T;
  };
  struct ToBool : NoParams {
    using NoParams::NoParams;
    template <class T> using out = bool;
  };

  template <class To> struct CastTo : NoParams {
    using NoParams::NoParams;
    template <class T> using out = To;
    template <class From> FUSEDNN_HD To operator()(From x) const {
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

  // ---- unary: each functor says which input types it has a loop for ----

  struct Neg : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_int<T>) return wrap_sub(T(0), x);
      else return -x;
    }
  };
  struct Abs : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_int<T>) return x < 0 ? wrap_sub(T(0), x) : x;
      else if constexpr (is_float<T>) return M::abs(x);
      else return x;
    }
  };
  struct Sign : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_int<T>) return static_cast<T>((x > 0) - (x < 0));
      else return x > 0 ? T(1) : x < 0 ? T(-1) : x == x ? T(0) : x;
    }
  };
  struct Square : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_int<T>) return wrap_mul(x, x);
      else return x * x;
    }
  };
  struct Reciprocal : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_int<T>) return x == 0 ? std::numeric_limits<T>::min() : T(1) / x;  // 1/0 as x86 gives it
      else return T(1) / x;
    }
  };

  // Float-only math (integer inputs are cast to float64 by the driver): Fn picks M's function.
  template <class Fn> struct FloatUnary : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = is_float<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const { return Fn::apply(x); }
  };
  struct SqrtFn { template <class T> FUSEDNN_HD static T apply(T x) { return M::sqrt(x); } };
  struct ExpFn { template <class T> FUSEDNN_HD static T apply(T x) { return M::exp(x); } };
  struct Expm1Fn { template <class T> FUSEDNN_HD static T apply(T x) { return M::expm1(x); } };
  struct LogFn { template <class T> FUSEDNN_HD static T apply(T x) { return M::log(x); } };
  struct Log1pFn { template <class T> FUSEDNN_HD static T apply(T x) { return M::log1p(x); } };
  struct TanhFn { template <class T> FUSEDNN_HD static T apply(T x) { return M::tanh(x); } };
  struct SigmoidFn { template <class T> FUSEDNN_HD static T apply(T x) { return M::sigmoid(x); } };
  using Sqrt = FloatUnary<SqrtFn>;
  using Exp = FloatUnary<ExpFn>;
  using Expm1 = FloatUnary<Expm1Fn>;
  using Log = FloatUnary<LogFn>;
  using Log1p = FloatUnary<Log1pFn>;
  using Tanh = FloatUnary<TanhFn>;
  using Sigmoid = FloatUnary<SigmoidFn>;

  // sin/cos: M's form may hold only for |x| up to a bound; CPU loops check each block with
  // needs_fallback and use the exact form beyond it (or for non-finite x).
  template <int CosShift> struct SinCos : NoParams {
    using NoParams::NoParams;
    static constexpr bool has_fallback = true;
    template <class T> static constexpr bool supports = is_float<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const { return M::sin_cos(x, CosShift); }
    template <class T> FUSEDNN_HD static bool needs_fallback(T x) { return M::trig_needs_fallback(x); }
    template <class T> FUSEDNN_HD static T fallback(T x) { return M::sin_cos_exact(x, CosShift); }
  };
  using Sin = SinCos<0>;
  using Cos = SinCos<1>;

  template <int Mode> struct Rounding : NoParams {  // Mode: -1 floor, +1 ceil
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (!is_float<T>) return x;
      else if constexpr (Mode < 0) return M::floor(x);
      else return M::ceil(x);
    }
  };
  using Floor = Rounding<-1>;
  using Ceil = Rounding<1>;

  // NumPy's round: half to even on x * 10^d (x / 10^-d for negative d); integers change only for d < 0.
  struct Round {
    int decimals;
    FUSEDNN_HD explicit Round(const void* ctx) : decimals(ctx ? *static_cast<const int*>(ctx) : 0) {}  // ctx: the decimals
    template <class T> using out = T;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_float<T>) {
        if (decimals == 0) return M::round(x);
        const T f = static_cast<T>(power_of_ten(decimals < 0 ? -decimals : decimals));
        return decimals > 0 ? M::round(x * f) / f : M::round(x / f) * f;
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
    FUSEDNN_HD static double power_of_ten(int d) {
      double f = 1;
      for (int i = 0; i < d; ++i) f *= 10;
      return f;
    }
  };

  struct LogicalNot : ToBool {
    using ToBool::ToBool;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD bool operator()(T x) const { return x == T(0); }
  };
  template <int Kind> struct FloatClass : ToBool {  // Kind: 0 isnan, 1 isinf, 2 isfinite
    using ToBool::ToBool;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD bool operator()(T x) const {
      if constexpr (!is_float<T>) return Kind == 2;
      else if constexpr (Kind == 0) return x != x;
      else if constexpr (Kind == 1) return M::abs(x) == std::numeric_limits<T>::infinity();
      else return M::abs(x) < std::numeric_limits<T>::infinity();
    }
  };
  struct Invert : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_float<T>;
    template <class T> FUSEDNN_HD T operator()(T x) const {
      if constexpr (is_bool<T>) return !x;
      else return static_cast<T>(~x);
    }
  };

  // ---- binary ----

  struct Add : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      if constexpr (is_int<T>) return wrap_add(a, b);
      else if constexpr (is_bool<T>) return a || b;
      else return a + b;
    }
  };
  struct Sub : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      if constexpr (is_int<T>) return wrap_sub(a, b);
      else return a - b;
    }
  };
  struct Mul : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      if constexpr (is_int<T>) return wrap_mul(a, b);
      else if constexpr (is_bool<T>) return a && b;
      else return a * b;
    }
  };
  struct Div : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = is_float<T>;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const { return a / b; }
  };

  // NumPy's float divmod: mod takes the divisor's sign; the quotient is floored and then nudged so that
  // a == q * b + mod as closely as rounding allows.
  template <class T> FUSEDNN_HD static T float_floor_div(T a, T b) {
    if (b == T(0)) return a / b;
    T mod = M::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != T(0) && ((b < 0) != (mod < 0))) div -= T(1);
    if (div == T(0)) return M::copysign(T(0), a / b);
    T floordiv = M::floor(div);
    return div - floordiv > T(0.5) ? floordiv + T(1) : floordiv;
  }
  template <class T> FUSEDNN_HD static T float_mod(T a, T b) {
    T mod = M::fmod(a, b);
    if (b == T(0)) return mod;
    if (mod != T(0)) return (b < 0) != (mod < 0) ? mod + b : mod;
    return M::copysign(T(0), b);
  }

  struct FloorDiv : NoParams {
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
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
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      if constexpr (is_float<T>) {
        return float_mod(a, b);
      } else {
        if (b == 0 || b == -1) return 0;
        const T r = a % b;
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
      }
    }
  };
  // Integer powers with a negative exponent give 0 and raise M's flag (ctx), which the driver turns
  // into NumPy's ValueError after the loop.
  struct Pow {
    typename M::Flag* negative_exponent;
    FUSEDNN_HD explicit Pow(const void* ctx)
        : negative_exponent(static_cast<typename M::Flag*>(const_cast<void*>(ctx))) {}
    template <class T> using out = T;
    template <class T> static constexpr bool supports = !is_bool<T>;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      if constexpr (is_float<T>) {
        return M::pow(a, b);
      } else {
        if (b < 0) {
          M::raise(negative_exponent);
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
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      const bool take_a = Sign > 0 ? a >= b : a <= b;
      if constexpr (is_float<T>) return (take_a || a != a) ? a : b;
      else return take_a ? a : b;
    }
  };
  using Maximum = Extremum<1>;
  using Minimum = Extremum<-1>;

  // Comparisons and logic, all yielding bool: Kind picks the predicate.
  enum PredicateKind { kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr, kXor };
  template <int Kind> struct Predicate : ToBool {
    using ToBool::ToBool;
    template <class T> static constexpr bool supports = true;
    template <class T> FUSEDNN_HD bool operator()(T a, T b) const {
      if constexpr (Kind == kEq) return a == b;
      else if constexpr (Kind == kNe) return a != b;
      else if constexpr (Kind == kLt) return a < b;
      else if constexpr (Kind == kLe) return a <= b;
      else if constexpr (Kind == kGt) return a > b;
      else if constexpr (Kind == kGe) return a >= b;
      else if constexpr (Kind == kAnd) return (a != T(0)) && (b != T(0));
      else if constexpr (Kind == kOr) return (a != T(0)) || (b != T(0));
      else return (a != T(0)) != (b != T(0));
    }
  };

  template <int Kind> struct Bitwise : NoParams {  // Kind: 0 and, 1 or, 2 xor
    using NoParams::NoParams;
    template <class T> static constexpr bool supports = !is_float<T>;
    template <class T> FUSEDNN_HD T operator()(T a, T b) const {
      if constexpr (Kind == 0) return static_cast<T>(a & b);
      else if constexpr (Kind == 1) return static_cast<T>(a | b);
      else return static_cast<T>(a ^ b);
    }
  };

  // ---- ternary ----

  struct Select : NoParams {  // where(c, a, b)
    using NoParams::NoParams;
    template <class T> FUSEDNN_HD T operator()(bool c, T a, T b) const { return c ? a : b; }
  };
  struct Clamp : NoParams {  // clip(x, lo, hi) = minimum(maximum(x, lo), hi)
    using NoParams::NoParams;
    template <class T> FUSEDNN_HD T operator()(T x, T lo, T hi) const {
      return Minimum(nullptr)(Maximum(nullptr)(x, lo), hi);
    }
  };

  // Registers every op with `table`: table.template unary<F>(op), binary<F>(op) — one list for both
  // backends, so their op coverage cannot drift apart.
  template <class Table>
  static void register_all(Table& table) {
    using U = UnaryOp;
    table.template unary<Neg>(U::Neg);
    table.template unary<Abs>(U::Abs);
    table.template unary<Sign>(U::Sign);
    table.template unary<Square>(U::Square);
    table.template unary<Sqrt>(U::Sqrt);
    table.template unary<Reciprocal>(U::Reciprocal);
    table.template unary<Exp>(U::Exp);
    table.template unary<Expm1>(U::Expm1);
    table.template unary<Log>(U::Log);
    table.template unary<Log1p>(U::Log1p);
    table.template unary<Sin>(U::Sin);
    table.template unary<Cos>(U::Cos);
    table.template unary<Tanh>(U::Tanh);
    table.template unary<Sigmoid>(U::Sigmoid);
    table.template unary<Floor>(U::Floor);
    table.template unary<Ceil>(U::Ceil);
    table.template unary<Round>(U::Round);
    table.template unary<LogicalNot>(U::LogicalNot);
    table.template unary<FloatClass<0>>(U::IsNan);
    table.template unary<FloatClass<1>>(U::IsInf);
    table.template unary<FloatClass<2>>(U::IsFinite);
    table.template unary<Invert>(U::Invert);
    using B = BinaryOp;
    table.template binary<Add>(B::Add);
    table.template binary<Sub>(B::Sub);
    table.template binary<Mul>(B::Mul);
    table.template binary<Div>(B::Div);
    table.template binary<FloorDiv>(B::FloorDiv);
    table.template binary<Mod>(B::Mod);
    table.template binary<Pow>(B::Pow);
    table.template binary<Maximum>(B::Maximum);
    table.template binary<Minimum>(B::Minimum);
    table.template binary<Predicate<kEq>>(B::Eq);
    table.template binary<Predicate<kNe>>(B::Ne);
    table.template binary<Predicate<kLt>>(B::Lt);
    table.template binary<Predicate<kLe>>(B::Le);
    table.template binary<Predicate<kGt>>(B::Gt);
    table.template binary<Predicate<kGe>>(B::Ge);
    table.template binary<Predicate<kAnd>>(B::LogicalAnd);
    table.template binary<Predicate<kOr>>(B::LogicalOr);
    table.template binary<Predicate<kXor>>(B::LogicalXor);
    table.template binary<Bitwise<0>>(B::BitAnd);
    table.template binary<Bitwise<1>>(B::BitOr);
    table.template binary<Bitwise<2>>(B::BitXor);
  }
};

}  // namespace fusednn
