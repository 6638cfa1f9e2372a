// Activation inner loops, compiled once per ISA: elementwise forward/backward functors (math in
// activation.h), softmax/log_softmax rows and lane blocks, and the fused bias + activation backward.
// Every function is branch-free per element (selects only) so GCC vectorises it; large |x| saturate
// through clamps chosen where the result has already rounded to its limit, so +-inf give the limits.
#include <cstdint>

#include "cpu/activation_kernels.h"
#include "cpu/vmath.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

// x limited to [-b, b]; NaN passes through.
template <class T> inline T clamp_abs(T x, T b) {
  const T lo = x < -b ? -b : x;
  return lo > b ? b : lo;
}
// min(|x|, b) for b > 0 as an integer min of the bit patterns: a float select would let GCC duplicate the math
// that follows for the constant b (path splitting) before vectorising. NaN becomes b: callers take NaN from x.
template <class T> inline T abs_min(T x, T b) {
  const auto u = vmath::bits(vmath::abs(x)), v = vmath::bits(b);
  return vmath::from_bits<T>(u < v ? u : v);
}
// e^-min(|z|, -exp_lo): the sigmoid's e^-|z|, exactly 0 where it underflows.
template <class T> inline T exp_neg_abs(T z) { return vmath::exp_neg(abs_min(z, -vmath::Traits<T>::exp_lo)); }
// m sigmoid(z) from e = e^-|z|: m / (1 + e), or m e / (1 + e) for z < 0 (no cancellation).
template <class T> inline T times_sigmoid(T m, bool z_negative, T e) { return (z_negative ? m * e : m) / (T(1) + e); }
// dy (s + x s (1 - s) dz/dx) with s = sigmoid(z), z of x's sign, e = e^-|z|: s (1 - s) = e / (1 + e)^2.
template <class T> inline T times_sigmoid_grad(T dy, T x, T e, T dz_dx, T big) {
  const T r = T(1) / (T(1) + e), er = e * r;
  const T s = x < T(0) ? er : r;
  return dy * (s + (clamp_abs(x, big) * (er * r)) * dz_dx);  // the clamp keeps +-inf * 0 away, NaN passes
}

// Each functor: fwd(x) = act(x); bwd(dy, s) = dy * act'(.) from the saved tensor s (x or y).
template <class T> struct Identity {
  explicit Identity(const ActParams&) {}
  T bwd(T dy, T) const { return dy; }
};
template <class T> struct Relu {
  explicit Relu(const ActParams&) {}
  T fwd(T x) const { return x < T(0) ? T(0) : x; }           // NaN stays NaN
  T bwd(T dy, T y) const { return y <= T(0) ? T(0) : dy; }   // from y, as torch's threshold_backward
};
template <class T> struct LeakyRelu {
  T slope;
  explicit LeakyRelu(const ActParams& p) : slope(static_cast<T>(p.alpha)) {}
  T fwd(T x) const { return x > T(0) ? x : x * slope; }
  T bwd(T dy, T x) const { return x > T(0) ? dy : dy * slope; }
};
template <class T> struct Elu {
  using Traits = vmath::Traits<T>;
  T alpha;
  explicit Elu(const ActParams& p) : alpha(static_cast<T>(p.alpha)) {}
  T fwd(T x) const {  // e^x - 1 only where x < 0 (x >= 0, -0 and +inf return x)
    const T xn = x < Traits::expm1_lo ? Traits::expm1_lo : x;
    return x >= T(0) ? x : alpha * vmath::expm1_core(xn > T(0) ? T(0) : xn);
  }
  T bwd(T dy, T x) const { return x > T(0) ? dy : dy * alpha * vmath::exp(x); }
};
// Exact GELU x Phi(x) from a = min(|x|, big) and the lower tail Phi(-a): x Phi(x) = relu(x) - a Phi(-a) for
// either sign, and the derivative Phi(x) + x phi(x) is v = Phi(-a) - a phi(a) for x <= 0, 1 - v for x > 0.
// Beyond |x| = big, a Phi(-a) and a phi(a) round to 0 (float: 14.4, where -a^2/2 still lies in exp's range;
// double: 40), so +-inf take the limits.
template <class T> struct Gelu {
  static constexpr T big = sizeof(T) == 4 ? T(14.4) : T(40);
  explicit Gelu(const ActParams&) {}
  T fwd(T x) const {
    const T a = abs_min(x, big);
    const auto n = vmath::normal_tail(a);
    return (x < T(0) ? T(0) : x) - (a * n.tail) * n.e;  // relu keeps NaN
  }
  T bwd(T dy, T x) const {
    const T a = abs_min(x, big);
    const auto n = vmath::normal_tail(a);
    const T v = (n.tail - a * n.pdf) * n.e;
    const T g = dy * (x > T(0) ? T(1) - v : v);
    return x != x ? x : g;
  }
};
// tanh GELU as x sigmoid(2u): no cancellation for x < 0. Beyond |x| = 100, sigmoid(2u) is exactly 0 or 1.
template <class T> struct GeluTanh {
  // 2u = x (c0 + c1 x^2), c0 = 2 sqrt(2/pi), c1 = 0.044715 c0; d(2u)/dx = c0 + 3 c1 x^2
  static constexpr double c0 = 2 * 0.79788456080286535588, c1 = 0.044715 * c0;
  static constexpr T big = 100;
  explicit GeluTanh(const ActParams&) {}
  static T two_u(T x) { return x * (T(c0) + T(c1) * (x * x)); }
  T fwd(T x) const { return times_sigmoid(x < -big ? -big : x, x < T(0), exp_neg_abs(two_u(x))); }  // -inf * 0
  T bwd(T dy, T x) const {
    const T xc = clamp_abs(x, big);
    return times_sigmoid_grad(dy, x, exp_neg_abs(two_u(x)), T(c0) + T(3 * c1) * (xc * xc), big);
  }
};
// SiLU: beyond |x| = 1000 sigmoid(x) is exactly 0 or 1 (double too).
template <class T> struct Silu {
  static constexpr T big = 1000;
  explicit Silu(const ActParams&) {}
  T fwd(T x) const { return times_sigmoid(x < -big ? -big : x, x < T(0), exp_neg_abs(x)); }  // -inf * 0
  T bwd(T dy, T x) const { return times_sigmoid_grad(dy, x, exp_neg_abs(x), T(1), big); }
};
template <class T> struct Sigmoid {
  explicit Sigmoid(const ActParams&) {}
  T fwd(T x) const { return vmath::sigmoid(x); }
  T bwd(T dy, T y) const { return dy * (y * (T(1) - y)); }
};
template <class T> struct Tanh {
  explicit Tanh(const ActParams&) {}
  T fwd(T x) const { return vmath::tanh(x); }
  T bwd(T dy, T y) const { return dy * (T(1) - y * y); }
};
// softplus(x) = (relu(bx) + log1p(e^-|bx|)) / b, x itself above the threshold; relu keeps NaN.
template <class T> struct Softplus {
  T beta, threshold, inv_beta;
  explicit Softplus(const ActParams& p)
      : beta(static_cast<T>(p.beta)), threshold(static_cast<T>(p.threshold)), inv_beta(T(1) / beta) {}
  T fwd(T x) const {
    const T bx = beta * x;
    const T y = ((bx < T(0) ? T(0) : bx) + vmath::log1p_unit(exp_neg_abs(bx))) * inv_beta;
    return bx > threshold ? x : y;
  }
  T bwd(T dy, T x) const {
    const T bx = beta * x;
    const T g = times_sigmoid(dy, bx < T(0), exp_neg_abs(bx));
    return bx > threshold ? dy : bx != bx ? bx : g;  // NaN from bx
  }
};

template <class T> inline const T& at(const char* base, int64_t stride, int64_t i) {
  return *reinterpret_cast<const T*>(base + i * stride);
}
template <class T> inline T& at(char* base, int64_t stride, int64_t i) { return *reinterpret_cast<T*>(base + i * stride); }

template <class T, template <class> class A>
void forward_loop(char* const* data, const int64_t* strides, int64_t n, const void* ctx) {
  const A<T> f(*static_cast<const ActParams*>(ctx));
  if (strides[0] == sizeof(T) && strides[1] == sizeof(T)) {
    T* y = reinterpret_cast<T*>(data[0]);
    const T* x = reinterpret_cast<const T*>(data[1]);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = f.fwd(x[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) at<T>(data[0], strides[0], i) = f.fwd(at<T>(data[1], strides[1], i));
}

template <class T, template <class> class A>
void backward_loop(char* const* data, const int64_t* strides, int64_t n, const void* ctx) {
  const A<T> f(*static_cast<const ActParams*>(ctx));
  constexpr int64_t st = sizeof(T);
  if (strides[0] == st && strides[1] == st && strides[2] == st) {
    T* dx = reinterpret_cast<T*>(data[0]);
    const T* dy = reinterpret_cast<const T*>(data[1]);
    const T* s = reinterpret_cast<const T*>(data[2]);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = f.bwd(dy[i], s[i]);
    return;
  }
  if (strides[0] == st && strides[1] == 0 && strides[2] == st) {  // dy broadcast from a scalar (sum's gradient)
    T* dx = reinterpret_cast<T*>(data[0]);
    const T dy = *reinterpret_cast<const T*>(data[1]);
    const T* s = reinterpret_cast<const T*>(data[2]);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = f.bwd(dy, s[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    at<T>(data[0], strides[0], i) = f.bwd(at<T>(data[1], strides[1], i), at<T>(data[2], strides[2], i));
}

// ---- softmax / log_softmax ----

constexpr int64_t kLanes = 64;  // lanes per block when reducing along a strided axis

template <class T> constexpr T neg_inf() { return -vmath::inf<T>(); }

template <class T, bool Log> void softmax_row(const T* x, T* y, int64_t C) {
  T m = neg_inf<T>();
#pragma omp simd reduction(max : m)
  for (int64_t c = 0; c < C; ++c) m = x[c] > m ? x[c] : m;  // a NaN is skipped here but poisons the sum below
  T s = 0;
  if constexpr (Log) {
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < C; ++c) s += vmath::exp(x[c] - m);
    const T lse = m + vmath::log(s);
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) y[c] = x[c] - lse;
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < C; ++c) {
      const T e = vmath::exp(x[c] - m);
      y[c] = e;
      s += e;
    }
    const T r = T(1) / s;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) y[c] *= r;
  }
}

// Lanes [j0, j1) (at most kLanes) of a (C, inner) block: each lane is an independent softmax along C.
template <class T, bool Log> void softmax_lanes(const T* x, T* y, int64_t C, int64_t inner, int64_t j0, int64_t j1) {
  const int64_t w = j1 - j0;
  T m[kLanes], s[kLanes];
  for (int64_t j = 0; j < w; ++j) { m[j] = neg_inf<T>(); s[j] = 0; }
  for (int64_t c = 0; c < C; ++c) {
    const T* xr = x + c * inner + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) m[j] = xr[j] > m[j] ? xr[j] : m[j];
  }
  for (int64_t c = 0; c < C; ++c) {
    const T* xr = x + c * inner + j0;
    T* yr = y + c * inner + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      const T e = vmath::exp(xr[j] - m[j]);
      s[j] += e;
      if constexpr (!Log) yr[j] = e;
    }
  }
#pragma omp simd
  for (int64_t j = 0; j < w; ++j) s[j] = Log ? m[j] + vmath::log(s[j]) : T(1) / s[j];  // lse or 1 / sum
  for (int64_t c = 0; c < C; ++c) {
    const T* xr = x + c * inner + j0;
    T* yr = y + c * inner + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) yr[j] = Log ? xr[j] - s[j] : yr[j] * s[j];
  }
}

template <class T, bool Log> void softmax_forward(const T* x, T* y, int64_t C, int64_t inner, int64_t j0, int64_t j1) {
  if (inner == 1) return softmax_row<T, Log>(x, y, C);
  for (int64_t b = j0; b < j1; b += kLanes) softmax_lanes<T, Log>(x, y, C, inner, b, b + kLanes < j1 ? b + kLanes : j1);
}

// softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - e^y sum(dy). The sum runs along C.
template <class T, bool Log> T softmax_grad(T dy, T y, T sum) { return Log ? dy - vmath::exp(y) * sum : y * (dy - sum); }

template <class T, bool Log> void softmax_backward_row(const T* dy, const T* y, T* dx, int64_t C) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < C; ++c) s += Log ? dy[c] : dy[c] * y[c];
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) dx[c] = softmax_grad<T, Log>(dy[c], y[c], s);
}

template <class T, bool Log>
void softmax_backward_lanes(const T* dy, const T* y, T* dx, int64_t C, int64_t inner, int64_t j0, int64_t j1) {
  const int64_t w = j1 - j0;
  T s[kLanes];
  for (int64_t j = 0; j < w; ++j) s[j] = 0;
  for (int64_t c = 0; c < C; ++c) {
    const T* dr = dy + c * inner + j0;
    const T* yr = y + c * inner + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) s[j] += Log ? dr[j] : dr[j] * yr[j];
  }
  for (int64_t c = 0; c < C; ++c) {
    const int64_t o = c * inner + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) dx[o + j] = softmax_grad<T, Log>(dy[o + j], y[o + j], s[j]);
  }
}

template <class T, bool Log>
void softmax_backward(const T* dy, const T* y, T* dx, int64_t C, int64_t inner, int64_t j0, int64_t j1) {
  if (inner == 1) return softmax_backward_row<T, Log>(dy, y, dx, C);
  for (int64_t b = j0; b < j1; b += kLanes)
    softmax_backward_lanes<T, Log>(dy, y, dx, C, inner, b, b + kLanes < j1 ? b + kLanes : j1);
}

// ---- fused bias + activation backward ----

template <class T, template <class> class A>
void bias_act_backward_cols(const T* dy, const T* saved, T* dz, T* db, int64_t M, int64_t N, int64_t j0, int64_t j1,
                            T slope) {
  ActParams p;
  p.alpha = slope;
  const A<T> f(p);
  for (int64_t i = 0; i < M; ++i) {
    const T* dyr = dy + i * N;
    const T* sr = saved ? saved + i * N : dyr;  // None reads no saved tensor
    T* dzr = dz + i * N;
    if (db) {
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) {
        const T v = f.bwd(dyr[j], sr[j]);
        dzr[j] = v;
        db[j] += v;
      }
    } else {
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) dzr[j] = f.bwd(dyr[j], sr[j]);
    }
  }
}

// ---- the tables ----

template <class T> ActivationTable<T> make_table() {
  ActivationTable<T> t{};
  const auto set = [&t](ActKind k, InnerLoop fwd, InnerLoop bwd) {
    t.forward[static_cast<int>(k)] = fwd;
    t.backward[static_cast<int>(k)] = bwd;
  };
  set(ActKind::Relu, &forward_loop<T, Relu>, &backward_loop<T, Relu>);
  set(ActKind::LeakyRelu, &forward_loop<T, LeakyRelu>, &backward_loop<T, LeakyRelu>);
  set(ActKind::Elu, &forward_loop<T, Elu>, &backward_loop<T, Elu>);
  set(ActKind::Gelu, &forward_loop<T, Gelu>, &backward_loop<T, Gelu>);
  set(ActKind::GeluTanh, &forward_loop<T, GeluTanh>, &backward_loop<T, GeluTanh>);
  set(ActKind::Silu, &forward_loop<T, Silu>, &backward_loop<T, Silu>);
  set(ActKind::Sigmoid, &forward_loop<T, Sigmoid>, &backward_loop<T, Sigmoid>);
  set(ActKind::Tanh, &forward_loop<T, Tanh>, &backward_loop<T, Tanh>);
  set(ActKind::Softplus, &forward_loop<T, Softplus>, &backward_loop<T, Softplus>);
  t.softmax_forward[0] = &softmax_forward<T, false>;
  t.softmax_forward[1] = &softmax_forward<T, true>;
  t.softmax_backward[0] = &softmax_backward<T, false>;
  t.softmax_backward[1] = &softmax_backward<T, true>;
  // Indexed by gemm.h's Activation: None, Relu, LeakyRelu, Gelu, Tanh, Sigmoid, Silu.
  t.bias_act_backward[0] = &bias_act_backward_cols<T, Identity>;
  t.bias_act_backward[1] = &bias_act_backward_cols<T, Relu>;
  t.bias_act_backward[2] = &bias_act_backward_cols<T, LeakyRelu>;
  t.bias_act_backward[3] = &bias_act_backward_cols<T, Gelu>;
  t.bias_act_backward[4] = &bias_act_backward_cols<T, Tanh>;
  t.bias_act_backward[5] = &bias_act_backward_cols<T, Sigmoid>;
  t.bias_act_backward[6] = &bias_act_backward_cols<T, Silu>;
  return t;
}

}  // namespace

extern const ActivationKernels activation_kernels = {make_table<float>(), make_table<double>()};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
