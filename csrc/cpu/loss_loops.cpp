// Loss inner loops, compiled once per ISA: pointwise losses (value and input gradient per element, math in
// core/loss_ops.h, shared with the CUDA kernels) over contiguous ranges, and the fused cross-entropy rows:
// forward max, log-sum-exp and NLL in one visit of each row; backward (softmax - smoothed target) * scale
// from the saved log-sum-exp.
#include <cstdint>

#include "core/loss_ops.h"
#include "cpu/loss_kernels.h"
#include "cpu/vmath.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

// The pointwise losses' math (core/loss_ops.h) on vmath.
struct VMath {
  template <class T> static T abs(T x) { return vmath::abs(x); }
  template <class T> static T exp(T x) { return vmath::exp(x); }
  template <class T> static T log(T x) { return vmath::log(x); }
  template <class T> static T log1p(T x) { return vmath::log1p(x); }
};
using Ops = LossOps<VMath>;
template <class T> using Mse = Ops::Mse<T>;
template <class T> using L1 = Ops::L1<T>;
template <class T> using Huber = Ops::Huber<T>;
template <class T> using Bce = Ops::Bce<T>;
template <class T> using BceLogits = Ops::BceLogits<T>;

template <class T, template <class> class L>
double pointwise_forward(const PointwiseArgs<T>& a, int64_t i0, int64_t i1, T* out, bool* bad) {
  const L<T> f{a.delta};
  const T *x = a.x, *t = a.t, *w = a.w, *pw = a.pw;
  T sum = 0;
  int outside = 0;
#pragma omp simd reduction(+ : sum) reduction(| : outside)
  for (int64_t i = i0; i < i1; ++i) {
    const T v = f.loss(x[i], t[i], pw ? pw[i] : T(1)) * (w ? w[i] : T(1));
    if (out) out[i] = v;
    sum += v;
    if constexpr (L<T>::checks_range) outside |= !(x[i] >= T(0) && x[i] <= T(1));
  }
  if (outside) *bad = true;
  return sum;
}

template <class T, template <class> class L>
void pointwise_backward(const PointwiseArgs<T>& a, int64_t i0, int64_t i1, const T* dy, T scale, T* dx) {
  const L<T> f{a.delta};
  const T *x = a.x, *t = a.t, *w = a.w, *pw = a.pw;
#pragma omp simd
  for (int64_t i = i0; i < i1; ++i)
    dx[i] = scale * (dy ? dy[i] : T(1)) * (w ? w[i] : T(1)) * f.grad(x[i], t[i], pw ? pw[i] : T(1));
}

// ---- cross-entropy rows ----

template <class T> T row_max(const T* x, int64_t C) {
  T m = -vmath::inf<T>();
#pragma omp simd reduction(max : m)
  for (int64_t c = 0; c < C; ++c) m = x[c] > m ? x[c] : m;
  return m;
}
template <class T> T row_lse(const T* x, int64_t C) {
  const T m = row_max(x, C);
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < C; ++c) s += vmath::exp(x[c] - m);
  return m + vmath::log(s);  // a NaN in the row poisons s
}
// The smoothed target weight w_c t'_c of a probability row's class c.
template <class T> inline T soft_target(const ClassRows<T>& a, const T* p, int64_t c) {
  const T tc = (T(1) - a.smoothing) * p[c] + a.smoothing / static_cast<T>(a.C);
  return a.weight ? a.weight[c] * tc : tc;
}

template <class T> void cross_entropy_forward(const ClassRows<T>& a, int64_t r0, int64_t r1, T* loss, T* lse) {
  const int64_t C = a.C;
  const T eps = a.smoothing, eps_c = a.smoothing / static_cast<T>(C);
  for (int64_t r = r0; r < r1; ++r) {
    const T* x = a.x + r * C;
    const T l = row_lse(x, C);
    lse[r] = l;
    T v = 0;
    if (a.labels) {
      const int64_t t = a.labels[r];
      if (t == a.ignore_index) {
        loss[r] = 0;
        continue;
      }
      v = (T(1) - eps) * (a.weight ? a.weight[t] : T(1)) * (l - x[t]);
      if (eps > T(0)) {
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < C; ++c) s += (a.weight ? a.weight[c] : T(1)) * (l - x[c]);
        v += eps_c * s;
      }
    } else {
      const T* p = a.probs + r * C;
#pragma omp simd reduction(+ : v)
      for (int64_t c = 0; c < C; ++c) v += soft_target(a, p, c) * (l - x[c]);
    }
    loss[r] = v;
  }
}

template <class T>
void cross_entropy_backward(const ClassRows<T>& a, const T* lse, const T* scale, int64_t r0, int64_t r1, T* dx) {
  const int64_t C = a.C;
  const T eps = a.smoothing, eps_c = a.smoothing / static_cast<T>(C);
  for (int64_t r = r0; r < r1; ++r) {
    const T* x = a.x + r * C;
    T* d = dx + r * C;
    const T g = scale[r], l = lse[r];
    if (a.labels) {
      const int64_t t = a.labels[r];
      if (t == a.ignore_index) {
        for (int64_t c = 0; c < C; ++c) d[c] = 0;
        continue;
      }
      const T* w = a.weight;  // a local: stores to d cannot change it, so the loop vectorises
      const T wt = w ? w[t] : T(1);
      const T coef = g * ((T(1) - eps) * wt + eps_c * a.weight_sum), off = g * eps_c;
      // d_c = g ((1 - eps) w_t + eps/C W) p_c - g eps/C w_c, and the label's column loses g (1 - eps) w_t.
      if (w) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) d[c] = coef * vmath::exp(x[c] - l) - off * w[c];
      } else {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) d[c] = coef * vmath::exp(x[c] - l) - off;
      }
      d[t] -= g * (T(1) - eps) * wt;
    } else {
      const ClassRows<T> local = a;  // a copy: stores to d cannot change it
      const T* p = a.probs + r * C;
      T total = 0;  // sum_c w_c t'_c
#pragma omp simd reduction(+ : total)
      for (int64_t c = 0; c < C; ++c) total += soft_target(local, p, c);
      const T coef = g * total;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) d[c] = coef * vmath::exp(x[c] - l) - g * soft_target(local, p, c);
    }
  }
}

template <class T> LossTable<T> make_table() {
  LossTable<T> k{};
  const auto set = [&k](PointwiseLoss kind, auto fwd, auto bwd) {
    k.forward[static_cast<int>(kind)] = fwd;
    k.backward[static_cast<int>(kind)] = bwd;
  };
  set(PointwiseLoss::Mse, &pointwise_forward<T, Mse>, &pointwise_backward<T, Mse>);
  set(PointwiseLoss::L1, &pointwise_forward<T, L1>, &pointwise_backward<T, L1>);
  set(PointwiseLoss::Huber, &pointwise_forward<T, Huber>, &pointwise_backward<T, Huber>);
  set(PointwiseLoss::Bce, &pointwise_forward<T, Bce>, &pointwise_backward<T, Bce>);
  set(PointwiseLoss::BceLogits, &pointwise_forward<T, BceLogits>, &pointwise_backward<T, BceLogits>);
  k.cross_entropy_forward = &cross_entropy_forward<T>;
  k.cross_entropy_backward = &cross_entropy_backward<T>;
  return k;
}

}  // namespace

extern const LossKernels loss_kernels = {make_table<float>(), make_table<double>()};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
