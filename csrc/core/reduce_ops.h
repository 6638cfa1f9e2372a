// What the reductions compute per element, written once for the CPU (cpu/reduce_loops.cpp, cpu/reduce.cpp)
// and the CUDA kernels (cuda/reduce.cu): combining two partial results, and finishing a wide result
// (w, w / divisor or sqrt(w / divisor)) into the result dtype with the elementwise family's conversion.
#pragma once
#include <cmath>
#include <type_traits>

#include "core/elementwise_ops.h"
#include "fusednn/reduce.h"

namespace fusednn {

// Tag: a type of the including translation unit (one per CPU ISA, one for the device), so that no compiled
// copy of these inline functions can stand in for another ISA's (see CMakeLists.txt).
template <class Tag>
struct ReduceOps {
  // a op b. One expression serves scalars and GCC vectors (masks select lanes). Max/Min: b wins when it is
  // NaN or strictly better, and a NaN in a stays, so NaN propagates whichever side it is on. Scalar integer
  // sums and products wrap through unsigned math, as NumPy's do (signed overflow is undefined in C++).
  template <cpu::KernelOp Op, class T>
  FUSEDNN_HD static T combine(T a, T b) {
    using K = cpu::KernelOp;
    constexpr bool wraps = std::is_integral_v<T> && !std::is_same_v<T, bool>;
    if constexpr (Op == K::Prod) {
      if constexpr (wraps) return Ints::wrap_mul(a, b);
      else return a * b;
    } else if constexpr (Op == K::Max) {
      return (b > a) | (b != b) ? b : a;
    } else if constexpr (Op == K::Min) {
      return (b < a) | (b != b) ? b : a;
    } else if constexpr (Op == K::Any) {
      return a | b;
    } else if constexpr (Op == K::All) {
      return a & b;
    } else {  // Sum, SqDev (whose partial results add)
      if constexpr (wraps) return Ints::wrap_add(a, b);
      else return a + b;
    }
  }

  // The result element from a wide value W: conversions as astype's (NaN and out-of-range floats give the
  // most negative integer, as x86 and so NumPy do).
  template <class O, class W>
  FUSEDNN_HD static O finish(W w, const ReduceFinish& f) {
    typename Ints::template CastTo<O> cast(nullptr);
    if (!f.divide) return cast(w);
    const double v = static_cast<double>(w) / f.divisor;
    return cast(f.root ? ::sqrt(v) : v);
  }

 private:
  struct NoMath {};  // the integer helpers and conversions use no math functions
  using Ints = ElementwiseOps<NoMath>;
};

}  // namespace fusednn
