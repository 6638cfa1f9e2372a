// Scalar activation formulas on the C library's / CUDA's libm, written once for the CUDA kernels (the
// activation family, the GEMM epilogue) and the host-side reference that tests compare the CPU's vectorised
// kernels (cpu/activation_loops.cpp) with. Same math and limits as activation.h states: stable for large |x|
// (sigmoid from e^-|z|, GELU as relu(x) - a Phi(-a) with a = |x|), NaN in gives NaN out.
#pragma once
#include <math.h>

#include "fusednn/activation.h"
#include "fusednn/gemm.h"

#include "core/hd.h"

namespace fusednn {
namespace act {

// libm by type (the float forms, so float stays float on the device).
FUSEDNN_HD inline float exp_(float x) { return ::expf(x); }
FUSEDNN_HD inline double exp_(double x) { return ::exp(x); }
FUSEDNN_HD inline float expm1_(float x) { return ::expm1f(x); }
FUSEDNN_HD inline double expm1_(double x) { return ::expm1(x); }
FUSEDNN_HD inline float log_(float x) { return ::logf(x); }
FUSEDNN_HD inline double log_(double x) { return ::log(x); }
FUSEDNN_HD inline float log1p_(float x) { return ::log1pf(x); }
FUSEDNN_HD inline double log1p_(double x) { return ::log1p(x); }
FUSEDNN_HD inline float tanh_(float x) { return ::tanhf(x); }
FUSEDNN_HD inline double tanh_(double x) { return ::tanh(x); }
FUSEDNN_HD inline float erfc_(float x) { return ::erfcf(x); }
FUSEDNN_HD inline double erfc_(double x) { return ::erfc(x); }

template <class T> FUSEDNN_HD inline T abs_(T x) { return x < T(0) ? -x : x; }
// x limited to [-b, b]; NaN passes through.
template <class T> FUSEDNN_HD inline T clamp_abs(T x, T b) { return x < -b ? -b : x > b ? b : x; }
// m sigmoid(z) from e = e^-|z|: m / (1 + e), or m e / (1 + e) for z < 0 (no cancellation, no overflow).
template <class T> FUSEDNN_HD inline T times_sigmoid(T m, bool z_negative, T e) {
  return (z_negative ? m * e : m) / (T(1) + e);
}
template <class T> FUSEDNN_HD inline T sigmoid(T z) { return times_sigmoid(T(1), z < T(0), exp_(-abs_(z))); }
// dy (s + x s (1 - s) dz/dx), s = sigmoid(z) with z of x's sign and e = e^-|z|: s (1 - s) = e / (1 + e)^2.
// The clamp keeps +-inf * 0 away; NaN passes.
template <class T> FUSEDNN_HD inline T times_sigmoid_grad(T dy, T x, T e, T dz_dx, T big) {
  const T r = T(1) / (T(1) + e), er = e * r;
  const T s = x < T(0) ? er : r;
  return dy * (s + (clamp_abs(x, big) * (er * r)) * dz_dx);
}

// Each functor: fwd(x) = act(x); bwd(dy, s) = dy * act'(.) from the saved tensor s, the output y for Relu,
// Sigmoid and Tanh (act_backward_uses_output), the input x otherwise.
template <class T> struct Identity {
  FUSEDNN_HD explicit Identity(const ActParams&) {}
  FUSEDNN_HD T fwd(T x) const { return x; }
  FUSEDNN_HD T bwd(T dy, T) const { return dy; }
};
template <class T> struct Relu {
  FUSEDNN_HD explicit Relu(const ActParams&) {}
  FUSEDNN_HD T fwd(T x) const { return x < T(0) ? T(0) : x; }          // NaN stays NaN
  FUSEDNN_HD T bwd(T dy, T y) const { return y <= T(0) ? T(0) : dy; }  // from y
};
template <class T> struct LeakyRelu {
  T slope;
  FUSEDNN_HD explicit LeakyRelu(const ActParams& p) : slope(static_cast<T>(p.alpha)) {}
  FUSEDNN_HD T fwd(T x) const { return x > T(0) ? x : x * slope; }
  FUSEDNN_HD T bwd(T dy, T x) const { return x > T(0) ? dy : dy * slope; }
};
template <class T> struct Elu {
  T alpha;
  FUSEDNN_HD explicit Elu(const ActParams& p) : alpha(static_cast<T>(p.alpha)) {}
  FUSEDNN_HD T fwd(T x) const { return x >= T(0) ? x : alpha * expm1_(x); }
  FUSEDNN_HD T bwd(T dy, T x) const { return x > T(0) ? dy : dy * alpha * exp_(x); }
};
// Exact GELU x Phi(x) = relu(x) - a Phi(-a), a = |x| (either sign); derivative Phi(x) + x phi(x) is
// v = Phi(-a) - a phi(a) for x <= 0 and 1 - v for x > 0. Beyond big, a Phi(-a) and a phi(a) are 0 in T.
template <class T> struct Gelu {
  static constexpr T big = sizeof(T) == 4 ? T(14.4) : T(40);
  FUSEDNN_HD explicit Gelu(const ActParams&) {}
  FUSEDNN_HD static T tail(T a) { return T(0.5) * erfc_(a * T(0.70710678118654752440)); }  // Phi(-a)
  FUSEDNN_HD static T pdf(T a) { return T(0.39894228040143267794) * exp_(T(-0.5) * a * a); }
  FUSEDNN_HD static T limited(T x) { return abs_(x) < big ? abs_(x) : big; }  // NaN -> big; NaN comes from x
  FUSEDNN_HD T fwd(T x) const {
    const T a = limited(x);
    return (x < T(0) ? T(0) : x) - a * tail(a);
  }
  FUSEDNN_HD T bwd(T dy, T x) const {
    const T a = limited(x);
    const T v = tail(a) - a * pdf(a);
    return x != x ? x : dy * (x > T(0) ? T(1) - v : v);
  }
};
// tanh GELU as x sigmoid(2u), 2u = x (c0 + c1 x^2): no cancellation for x < 0; x is held at -big in the
// product so -inf * 0 gives 0. Beyond |x| = 100, sigmoid(2u) is exactly 0 or 1.
template <class T> struct GeluTanh {
  static constexpr double c0 = 2 * 0.79788456080286535588, c1 = 0.044715 * c0;
  static constexpr T big = 100;
  FUSEDNN_HD explicit GeluTanh(const ActParams&) {}
  FUSEDNN_HD static T two_u(T x) { return x * (T(c0) + T(c1) * (x * x)); }
  FUSEDNN_HD T fwd(T x) const { return times_sigmoid(x < -big ? -big : x, x < T(0), exp_(-abs_(two_u(x)))); }
  FUSEDNN_HD T bwd(T dy, T x) const {
    const T xc = clamp_abs(x, big);
    return times_sigmoid_grad(dy, x, exp_(-abs_(two_u(xc))), T(c0) + T(3 * c1) * (xc * xc), big);
  }
};
// SiLU x sigmoid(x): beyond |x| = 1000, sigmoid(x) is exactly 0 or 1 (double too).
template <class T> struct Silu {
  static constexpr T big = 1000;
  FUSEDNN_HD explicit Silu(const ActParams&) {}
  FUSEDNN_HD T fwd(T x) const { return times_sigmoid(x < -big ? -big : x, x < T(0), exp_(-abs_(x))); }
  FUSEDNN_HD T bwd(T dy, T x) const { return times_sigmoid_grad(dy, x, exp_(-abs_(x)), T(1), big); }
};
template <class T> struct Sigmoid {
  FUSEDNN_HD explicit Sigmoid(const ActParams&) {}
  FUSEDNN_HD T fwd(T x) const { return sigmoid(x); }
  FUSEDNN_HD T bwd(T dy, T y) const { return dy * (y * (T(1) - y)); }
};
template <class T> struct Tanh {
  FUSEDNN_HD explicit Tanh(const ActParams&) {}
  FUSEDNN_HD T fwd(T x) const { return tanh_(x); }
  FUSEDNN_HD T bwd(T dy, T y) const { return dy * (T(1) - y * y); }
};
// softplus(x) = (relu(bx) + log1p(e^-|bx|)) / b, x itself above the threshold; relu keeps NaN.
template <class T> struct Softplus {
  T beta, threshold, inv_beta;
  FUSEDNN_HD explicit Softplus(const ActParams& p)
      : beta(static_cast<T>(p.beta)), threshold(static_cast<T>(p.threshold)), inv_beta(T(1) / beta) {}
  FUSEDNN_HD T fwd(T x) const {
    const T bx = beta * x;
    return bx > threshold ? x : ((bx < T(0) ? T(0) : bx) + log1p_(exp_(-abs_(bx)))) * inv_beta;
  }
  FUSEDNN_HD T bwd(T dy, T x) const {
    const T bx = beta * x;
    return bx > threshold ? dy : bx != bx ? bx : times_sigmoid(dy, bx < T(0), exp_(-abs_(bx)));
  }
};

// Calls fn(functor) with the functor of `kind` built from p (host-side dispatch of a templated kernel).
template <class T, class Fn> decltype(auto) visit_kind(ActKind kind, const ActParams& p, Fn&& fn) {
  switch (kind) {
    case ActKind::Relu: return fn(Relu<T>(p));
    case ActKind::LeakyRelu: return fn(LeakyRelu<T>(p));
    case ActKind::Elu: return fn(Elu<T>(p));
    case ActKind::Gelu: return fn(Gelu<T>(p));
    case ActKind::GeluTanh: return fn(GeluTanh<T>(p));
    case ActKind::Silu: return fn(Silu<T>(p));
    case ActKind::Sigmoid: return fn(Sigmoid<T>(p));
    case ActKind::Tanh: return fn(Tanh<T>(p));
    default: return fn(Softplus<T>(p));
  }
}
// The same for gemm.h's Activation (the GEMM epilogue's list); slope is LeakyRelu's.
template <class T, class Fn> decltype(auto) visit_activation(Activation act, double slope, Fn&& fn) {
  ActParams p;
  p.alpha = slope;
  switch (act) {
    case Activation::Relu: return fn(Relu<T>(p));
    case Activation::LeakyRelu: return fn(LeakyRelu<T>(p));
    case Activation::Gelu: return fn(Gelu<T>(p));
    case Activation::Tanh: return fn(Tanh<T>(p));
    case Activation::Sigmoid: return fn(Sigmoid<T>(p));
    case Activation::Silu: return fn(Silu<T>(p));
    default: return fn(Identity<T>(p));
  }
}

}  // namespace act

// The GEMM epilogue's activation of one element z (after alpha, beta and the bias): act(z), the functors'
// forward; slope is LeakyRelu's negative slope. A switch on a uniform value: cheap inside a device epilogue.
template <class T> FUSEDNN_HD inline T apply_activation(Activation act, T z, T slope) {
  ActParams p;
  p.alpha = slope;
  switch (act) {
    case Activation::Relu: return act::Relu<T>(p).fwd(z);
    case Activation::LeakyRelu: return act::LeakyRelu<T>(p).fwd(z);
    case Activation::Gelu: return act::Gelu<T>(p).fwd(z);
    case Activation::Tanh: return act::Tanh<T>(p).fwd(z);
    case Activation::Sigmoid: return act::Sigmoid<T>(p).fwd(z);
    case Activation::Silu: return act::Silu<T>(p).fwd(z);
    default: return z;
  }
}

}  // namespace fusednn
