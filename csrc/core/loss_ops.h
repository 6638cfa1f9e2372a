// The pointwise losses' per-element math (loss.h), written once for the per-ISA CPU loops
// (cpu/loss_loops.cpp, math from vmath) and the CUDA kernels (cuda/loss.cu, math from libm): LossOps<M>
// holds one functor per loss with loss(x, t, pw) and grad(x, t, pw) = d loss / dx; M supplies abs, exp, log
// and log1p, and makes each backend's (and each ISA's) instantiation distinct.
#pragma once

#include "core/hd.h"

namespace fusednn {

template <class M>
struct LossOps {
  // 0 where a == 0 even if b is infinite: a target weight of exactly 0 drops its term.
  template <class T> FUSEDNN_HD static T weighted(T a, T b) { return a == T(0) ? T(0) : a * b; }

  // `delta` is huber's; pw (pos_weight) is bce_with_logits'. checks_range: inputs must lie in [0, 1].
  template <class T> struct Mse {
    static constexpr bool checks_range = false;
    T delta;
    FUSEDNN_HD T loss(T x, T t, T) const { return (x - t) * (x - t); }
    FUSEDNN_HD T grad(T x, T t, T) const { return T(2) * (x - t); }
  };
  template <class T> struct L1 {
    static constexpr bool checks_range = false;
    T delta;
    FUSEDNN_HD T loss(T x, T t, T) const { return M::abs(x - t); }
    FUSEDNN_HD T grad(T x, T t, T) const {
      const T d = x - t;
      return d > T(0) ? T(1) : d < T(0) ? T(-1) : d * T(0);  // sign, NaN stays NaN
    }
  };
  template <class T> struct Huber {
    static constexpr bool checks_range = false;
    T delta;
    FUSEDNN_HD T loss(T x, T t, T) const {
      const T a = M::abs(x - t);
      return a < delta ? T(0.5) * a * a : delta * (a - T(0.5) * delta);
    }
    FUSEDNN_HD T grad(T x, T t, T) const {
      const T d = x - t;
      return d < -delta ? -delta : d > delta ? delta : d;
    }
  };
  // Binary cross-entropy on probabilities, logs clamped at -100 and the gradient's denominator at 1e-12 (torch).
  template <class T> struct Bce {
    static constexpr bool checks_range = true;
    T delta;
    FUSEDNN_HD T loss(T p, T t, T) const {
      T lp = M::log(p), lq = M::log1p(-p);
      lp = lp > T(-100) ? lp : T(-100);
      lq = lq > T(-100) ? lq : T(-100);
      return -(weighted(t, lp) + weighted(T(1) - t, lq));
    }
    FUSEDNN_HD T grad(T p, T t, T) const {
      const T d = (T(1) - p) * p;
      return (p - t) / (d > T(1e-12) ? d : T(1e-12));
    }
  };
  template <class T> struct BceLogits {
    static constexpr bool checks_range = false;
    T delta;
    FUSEDNN_HD T loss(T x, T t, T pw) const {
      const T l = M::log1p(M::exp(-M::abs(x)));
      const T sp_neg = (x < T(0) ? -x : T(0)) + l, sp_pos = (x > T(0) ? x : T(0)) + l;  // softplus(-x), softplus(x)
      return weighted(pw * t, sp_neg) + weighted(T(1) - t, sp_pos);
    }
    FUSEDNN_HD T grad(T x, T t, T pw) const {  // (1 - t) sigmoid(x) - pw t sigmoid(-x), one exp for both sigmoids
      const T e = M::exp(-M::abs(x)), r = T(1) / (T(1) + e);
      const T s = x >= T(0) ? r : e * r, sn = x >= T(0) ? e * r : r;
      return (T(1) - t) * s - pw * t * sn;
    }
  };
};

}  // namespace fusednn
