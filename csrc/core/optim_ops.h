// The per-element update rules of the optim family (torch.optim's), written once for the per-ISA CPU loops
// (cpu/optim_loops.cpp) and the CUDA kernel (cuda/optim.cu): each reads element i of a parameter, its
// gradient and its state once and writes them back once, with the per-tensor scalars (StepCoef) the driver
// computed in double. Also the clamp the clipping passes share. OptimOps<M>: M supplies sqrt and abs for
// float and double, and makes each backend's (and each ISA's) instantiation distinct.
#pragma once
#include <cstdint>

#include "fusednn/optim.h"

#include "core/hd.h"

namespace fusednn {

template <class M>
struct OptimOps {
  // NaN-propagating maximum (torch.maximum): a NaN in either operand wins.
  template <class T>
  FUSEDNN_HD static T nan_max(T a, T b) { return (a > b) | (a != a) ? a : b; }

  // NaN compares false both ways, so it passes through unchanged.
  template <class T>
  FUSEDNN_HD static T clamp(T x, T lo, T hi) {
    const T a = x < lo ? lo : x;
    return a > hi ? hi : a;
  }

  // The scalars of StepCoef in the element type.
  template <class T>
  struct Coef {
    T decay, sign, wd, lr, lr2, b1, one_minus_b1, b2, one_minus_b2, inv_bc2, eps;
    FUSEDNN_HD explicit Coef(const StepCoef& c)
        : decay(T(c.decay)), sign(T(c.sign)), wd(T(c.wd)), lr(T(c.lr)), lr2(T(c.lr2)), b1(T(c.b1)),
          one_minus_b1(T(c.one_minus_b1)), b2(T(c.b2)), one_minus_b2(T(c.one_minus_b2)), inv_bc2(T(c.inv_bc2)),
          eps(T(c.eps)) {}
  };

  // SGD: buf = first ? g : momentum * buf + (1 - dampening) * g; d = nesterov ? g + momentum * buf : buf.
  // (b1 = momentum, one_minus_b1 = 1 - dampening; buf is unused without momentum.)
  template <class T, bool Momentum, bool Nesterov>
  FUSEDNN_HD static void sgd(const Coef<T>& k, bool first, T* __restrict__ p, const T* __restrict__ grad,
                             T* __restrict__ buf, int64_t i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    T d = g;
    if constexpr (Momentum) {
      const T b = first ? g : k.b1 * buf[i] + k.one_minus_b1 * g;
      buf[i] = b;
      d = Nesterov ? g + k.b1 * b : b;
    }
    p[i] = p[i] - k.lr * d;
  }

  // Adam / AdamW: lr = lr / (1 - beta1^t), inv_bc2 = 1 / sqrt(1 - beta2^t); amsgrad keeps the running max of v
  // in vmax. NAdam (Nesterov) shares the moments and the denominator; its step is (lr g + lr2 m) / denom,
  // the two momentum-schedule factors coming from the driver.
  template <class T, bool Amsgrad, bool Nesterov>
  FUSEDNN_HD static void adam(const Coef<T>& k, T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ m,
                              T* __restrict__ v, T* __restrict__ vmax, int64_t i) {
    const T w = p[i] * k.decay;
    const T g = k.sign * grad[i] + k.wd * w;
    const T mi = m[i] + k.one_minus_b1 * (g - m[i]);
    const T vi = k.b2 * v[i] + k.one_minus_b2 * g * g;
    m[i] = mi;
    v[i] = vi;
    T vh = vi;
    if constexpr (Amsgrad) {
      vh = nan_max(vmax[i], vi);
      vmax[i] = vh;
    }
    const T numerator = Nesterov ? k.lr * g + k.lr2 * mi : k.lr * mi;
    p[i] = w - numerator / (M::sqrt(vh) * k.inv_bc2 + k.eps);
  }

  // RMSprop: sq = alpha sq + (1 - alpha) g^2 (b2 = alpha); centered subtracts the squared running mean ga;
  // with momentum (b1): buf = momentum buf + g / avg, p -= lr buf; else p -= lr g / avg.
  template <class T, bool Centered, bool Momentum>
  FUSEDNN_HD static void rmsprop(const Coef<T>& k, T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ sq,
                                 T* __restrict__ buf, T* __restrict__ ga, int64_t i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    const T s = k.b2 * sq[i] + k.one_minus_b2 * g * g;
    sq[i] = s;
    T var = s;
    if constexpr (Centered) {
      const T a = ga[i] + k.one_minus_b2 * (g - ga[i]);
      ga[i] = a;
      var = s - a * a;
    }
    const T q = g / (M::sqrt(var) + k.eps);
    if constexpr (Momentum) {
      const T b = k.b1 * buf[i] + q;
      buf[i] = b;
      p[i] = p[i] - k.lr * b;
    } else {
      p[i] = p[i] - k.lr * q;
    }
  }

  // Adagrad: sum += g^2; p -= clr g / (sqrt(sum) + eps), clr = lr / (1 + (t - 1) lr_decay).
  template <class T>
  FUSEDNN_HD static void adagrad(const Coef<T>& k, T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ sum,
                                 int64_t i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    const T s = sum[i] + g * g;
    sum[i] = s;
    p[i] = p[i] - k.lr * (g / (M::sqrt(s) + k.eps));
  }

  // Adamax: m as Adam; u = max(beta2 u, |g| + eps); p -= lr / (1 - beta1^t) * m / u.
  template <class T>
  FUSEDNN_HD static void adamax(const Coef<T>& k, T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ m,
                                T* __restrict__ u, int64_t i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    const T mi = m[i] + k.one_minus_b1 * (g - m[i]);
    const T ui = nan_max(k.b2 * u[i], M::abs(g) + k.eps);
    m[i] = mi;
    u[i] = ui;
    p[i] = p[i] - k.lr * (mi / ui);
  }

  // Which compiled form of a rule a slot takes: the options that change the loop, not just its scalars.
  struct Variant {
    bool momentum, nesterov, amsgrad, centered;
  };

  static Variant variant(OptimAlgo algo, const OptimHyper& h) {
    switch (algo) {
      case OptimAlgo::SGD: return {h.momentum != 0, h.nesterov, false, false};
      case OptimAlgo::Adam: return {false, false, h.amsgrad, false};
      case OptimAlgo::RMSprop: return {h.momentum > 0, false, false, h.centered};
      default: return {false, false, false, false};
    }
  }

  // Calls run(rule) with `rule(i)` updating element i of slot s under algorithm A and variant v, T the slot's
  // element type: the one place both backends pick a compiled form, so they cannot pick differently.
  template <class T, OptimAlgo A, class Run>
  FUSEDNN_HD static void with_rule(const Variant& v, const Coef<T>& k, bool first, T* p, const T* g, T* s0, T* s1,
                                   T* s2, const Run& run) {
    if constexpr (A == OptimAlgo::SGD) {
      if (!v.momentum) run([&](int64_t i) { sgd<T, false, false>(k, first, p, g, s0, i); });
      else if (v.nesterov) run([&](int64_t i) { sgd<T, true, true>(k, first, p, g, s0, i); });
      else run([&](int64_t i) { sgd<T, true, false>(k, first, p, g, s0, i); });
    } else if constexpr (A == OptimAlgo::Adam) {
      if (v.amsgrad) run([&](int64_t i) { adam<T, true, false>(k, p, g, s0, s1, s2, i); });
      else run([&](int64_t i) { adam<T, false, false>(k, p, g, s0, s1, s2, i); });
    } else if constexpr (A == OptimAlgo::RMSprop) {
      if (v.centered && v.momentum) run([&](int64_t i) { rmsprop<T, true, true>(k, p, g, s0, s1, s2, i); });
      else if (v.centered) run([&](int64_t i) { rmsprop<T, true, false>(k, p, g, s0, s1, s2, i); });
      else if (v.momentum) run([&](int64_t i) { rmsprop<T, false, true>(k, p, g, s0, s1, s2, i); });
      else run([&](int64_t i) { rmsprop<T, false, false>(k, p, g, s0, s1, s2, i); });
    } else if constexpr (A == OptimAlgo::Adagrad) {
      run([&](int64_t i) { adagrad<T>(k, p, g, s0, i); });
    } else if constexpr (A == OptimAlgo::Adamax) {
      run([&](int64_t i) { adamax<T>(k, p, g, s0, s1, i); });
    } else {
      run([&](int64_t i) { adam<T, false, true>(k, p, g, s0, s1, s2, i); });  // NAdam
    }
  }
};

}  // namespace fusednn
