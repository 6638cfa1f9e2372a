// Optimizer update loops, compiled once per ISA: each reads a parameter, its gradient and its state once
// and writes them back once (torch.optim's rules, with one division per element at most), plus the
// clipping loops: a blocked |x|^p reduction in double with a fixed lane order, in-place scaling, clamping.
#include <cmath>

#include "cpu/optim_kernels.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

// NaN-propagating maximum (torch.maximum): a NaN in either operand wins.
template <class T>
inline T nan_max(T a, T b) { return (a > b) | (a != a) ? a : b; }

// The scalars of StepCoef in the element type.
template <class T>
struct K {
  T decay, sign, wd, lr, lr2, b1, one_minus_b1, b2, one_minus_b2, inv_bc2, eps;
  explicit K(const StepCoef& c)
      : decay(T(c.decay)), sign(T(c.sign)), wd(T(c.wd)), lr(T(c.lr)), lr2(T(c.lr2)), b1(T(c.b1)),
        one_minus_b1(T(c.one_minus_b1)), b2(T(c.b2)), one_minus_b2(T(c.one_minus_b2)), inv_bc2(T(c.inv_bc2)),
        eps(T(c.eps)) {}
};

template <class T>
inline T* state(const OptimSlot& s, int k) { return static_cast<T*>(s.state[k]); }

// SGD: buf = first ? g : momentum * buf + (1 - dampening) * g; d = nesterov ? g + momentum * buf : buf.
// (b1 = momentum, one_minus_b1 = 1 - dampening.)
template <class T, bool Momentum, bool Nesterov>
void sgd(const K<T> k, bool first, T* __restrict p, const T* __restrict grad, T* __restrict buf, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    T d = g;
    if constexpr (Momentum) {
      const T b = first ? g : k.b1 * buf[i] + k.one_minus_b1 * g;
      buf[i] = b;
      d = Nesterov ? g + k.b1 * b : b;
    }
    p[i] = p[i] - k.lr * d;
  }
}

// Adam / AdamW: lr = lr / (1 - beta1^t), inv_bc2 = 1 / sqrt(1 - beta2^t); amsgrad keeps the running max of v.
// NAdam shares the moments and the denominator; its step is (lr g + lr2 m) / denom, the two
// momentum-schedule factors coming from the driver.
template <class T, bool Amsgrad, bool Nesterov>
void adam(const K<T> k, T* __restrict p, const T* __restrict grad, T* __restrict m, T* __restrict v,
          T* __restrict vmax, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
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
    p[i] = w - numerator / (std::sqrt(vh) * k.inv_bc2 + k.eps);
  }
}

// RMSprop: sq = alpha sq + (1 - alpha) g^2 (b2 = alpha); centered subtracts the squared running mean;
// with momentum (b1): buf = momentum buf + g / avg, p -= lr buf; else p -= lr g / avg.
template <class T, bool Centered, bool Momentum>
void rmsprop(const K<T> k, T* __restrict p, const T* __restrict grad, T* __restrict sq, T* __restrict buf,
             T* __restrict ga, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    const T s = k.b2 * sq[i] + k.one_minus_b2 * g * g;
    sq[i] = s;
    T var = s;
    if constexpr (Centered) {
      const T a = ga[i] + k.one_minus_b2 * (g - ga[i]);
      ga[i] = a;
      var = s - a * a;
    }
    const T q = g / (std::sqrt(var) + k.eps);
    if constexpr (Momentum) {
      const T b = k.b1 * buf[i] + q;
      buf[i] = b;
      p[i] = p[i] - k.lr * b;
    } else {
      p[i] = p[i] - k.lr * q;
    }
  }
}

// Adagrad: sum += g^2; p -= clr g / (sqrt(sum) + eps), clr = lr / (1 + (t - 1) lr_decay).
template <class T>
void adagrad(const K<T> k, T* __restrict p, const T* __restrict grad, T* __restrict sum, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    const T s = sum[i] + g * g;
    sum[i] = s;
    p[i] = p[i] - k.lr * (g / (std::sqrt(s) + k.eps));
  }
}

// Adamax: m as Adam; u = max(beta2 u, |g| + eps); p -= lr / (1 - beta1^t) * m / u.
template <class T>
void adamax(const K<T> k, T* __restrict p, const T* __restrict grad, T* __restrict m, T* __restrict u,
            int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T g = k.sign * grad[i] + k.wd * p[i];
    const T mi = m[i] + k.one_minus_b1 * (g - m[i]);
    const T ui = nan_max(k.b2 * u[i], std::fabs(g) + k.eps);
    m[i] = mi;
    u[i] = ui;
    p[i] = p[i] - k.lr * (mi / ui);
  }
}

template <class T>
void step_typed(OptimAlgo algo, const OptimHyper& h, const StepCoef& c, const OptimSlot& s, int64_t b,
                int64_t e) {
  const K<T> k(c);
  T* p = static_cast<T*>(s.param) + b;
  const T* g = static_cast<const T*>(s.grad) + b;
  T* s0 = state<T>(s, 0) ? state<T>(s, 0) + b : nullptr;
  T* s1 = state<T>(s, 1) ? state<T>(s, 1) + b : nullptr;
  T* s2 = state<T>(s, 2) ? state<T>(s, 2) + b : nullptr;
  const int64_t n = e - b;
  switch (algo) {
    case OptimAlgo::SGD:
      if (h.momentum == 0) sgd<T, false, false>(k, c.first, p, g, s0, n);
      else if (h.nesterov) sgd<T, true, true>(k, c.first, p, g, s0, n);
      else sgd<T, true, false>(k, c.first, p, g, s0, n);
      break;
    case OptimAlgo::Adam:
      if (h.amsgrad) adam<T, true, false>(k, p, g, s0, s1, s2, n);
      else adam<T, false, false>(k, p, g, s0, s1, s2, n);
      break;
    case OptimAlgo::RMSprop:
      if (h.centered && h.momentum > 0) rmsprop<T, true, true>(k, p, g, s0, s1, s2, n);
      else if (h.centered) rmsprop<T, true, false>(k, p, g, s0, s1, s2, n);
      else if (h.momentum > 0) rmsprop<T, false, true>(k, p, g, s0, s1, s2, n);
      else rmsprop<T, false, false>(k, p, g, s0, s1, s2, n);
      break;
    case OptimAlgo::Adagrad: adagrad<T>(k, p, g, s0, n); break;
    case OptimAlgo::Adamax: adamax<T>(k, p, g, s0, s1, n); break;
    case OptimAlgo::NAdam: adam<T, false, true>(k, p, g, s0, s1, nullptr, n); break;
  }
}

void step(OptimAlgo algo, const OptimHyper& h, const StepCoef& c, const OptimSlot& s, int64_t b, int64_t e) {
  if (s.dtype == DType::Float32) step_typed<float>(algo, h, c, s, b, e);
  else step_typed<double>(algo, h, c, s, b, e);
}

// Sixteen double accumulators in a fixed order: the same sum on every ISA and vector width.
constexpr int kLanes = 16;

template <class T, class F>
NormPart sum_lanes(const T* __restrict x, int64_t n, F f) {
  double acc[kLanes] = {}, nan[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int j = 0; j < kLanes; ++j) {
      const double a = std::fabs(double(x[i + j]));
      acc[j] += f(a);
      nan[j] += a != a ? 1.0 : 0.0;
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const double a = std::fabs(double(x[i]));
    acc[j] += f(a);
    nan[j] += a != a ? 1.0 : 0.0;
  }
  NormPart out{0, 0};
  for (int j = 0; j < kLanes; ++j) out.value += acc[j], out.nans += nan[j];
  return out;
}

template <class T>
NormPart max_lanes(const T* __restrict x, int64_t n) {
  double acc[kLanes] = {}, nan[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int j = 0; j < kLanes; ++j) {
      const double a = std::fabs(double(x[i + j]));
      acc[j] = a > acc[j] ? a : acc[j];
      nan[j] += a != a ? 1.0 : 0.0;
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const double a = std::fabs(double(x[i]));
    acc[j] = a > acc[j] ? a : acc[j];
    nan[j] += a != a ? 1.0 : 0.0;
  }
  NormPart out{0, 0};
  for (int j = 0; j < kLanes; ++j) out.value = acc[j] > out.value ? acc[j] : out.value, out.nans += nan[j];
  return out;
}

template <class T>
NormPart norm_typed(const T* x, int64_t n, double p) {
  if (p == 2) return sum_lanes(x, n, [](double a) { return a * a; });
  if (p == 1) return sum_lanes(x, n, [](double a) { return a; });
  if (std::isinf(p)) return max_lanes(x, n);
  return sum_lanes(x, n, [p](double a) { return std::pow(a, p); });
}

NormPart norm(DType dtype, const void* x, int64_t n, double p) {
  if (dtype == DType::Float32) return norm_typed(static_cast<const float*>(x), n, p);
  return norm_typed(static_cast<const double*>(x), n, p);
}

template <class T>
void scale_typed(T* __restrict x, int64_t n, T f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= f;
}

void scale(DType dtype, void* x, int64_t n, double factor) {
  if (dtype == DType::Float32) scale_typed(static_cast<float*>(x), n, float(factor));
  else scale_typed(static_cast<double*>(x), n, factor);
}

// NaN compares false both ways, so it passes through unchanged.
template <class T>
void clamp_typed(T* __restrict x, int64_t n, T lo, T hi) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T a = x[i] < lo ? lo : x[i];
    x[i] = a > hi ? hi : a;
  }
}

void clamp(DType dtype, void* x, int64_t n, double lo, double hi) {
  if (dtype == DType::Float32) clamp_typed(static_cast<float*>(x), n, float(lo), float(hi));
  else clamp_typed(static_cast<double*>(x), n, lo, hi);
}

}  // namespace

extern const OptimKernels optim_kernels = {step, norm, scale, clamp};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
