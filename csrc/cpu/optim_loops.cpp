// Optimizer update loops, compiled once per ISA: each reads a parameter, its gradient and its state once
// and writes them back once (torch.optim's rules from core/optim_ops.h, one division per element at most),
// plus the clipping loops: a blocked |x|^p reduction in double with a fixed lane order, in-place scaling,
// clamping.
#include <cmath>

#include "core/optim_ops.h"
#include "cpu/optim_kernels.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

// The libm the shared rules use here (inlined, vectorised under omp simd); being this ISA's own type, it
// keeps this file's instantiations apart from the other ISAs'.
struct HostMath {
  template <class T> static T sqrt(T x) { return std::sqrt(x); }
  template <class T> static T abs(T x) { return std::fabs(x); }
};
using Ops = OptimOps<HostMath>;

template <class T>
T* state(const OptimSlot& s, int k) { return static_cast<T*>(s.state[k]); }

// Elements [b, e) of one slot under rule A: the per-element update is core/optim_ops.h's, shared with the
// CUDA kernel; this loop only adds the vectorisation.
template <class T, OptimAlgo A>
void step_rule(const OptimHyper& h, const StepCoef& c, const OptimSlot& s, int64_t b, int64_t e) {
  const Ops::Coef<T> k(c);
  Ops::with_rule<T, A>(Ops::variant(A, h), k, c.first, static_cast<T*>(s.param), static_cast<const T*>(s.grad),
                       state<T>(s, 0), state<T>(s, 1), state<T>(s, 2), [b, e](const auto& rule) {
#pragma omp simd
                         for (int64_t i = b; i < e; ++i) rule(i);
                       });
}

template <class T>
void step_typed(OptimAlgo algo, const OptimHyper& h, const StepCoef& c, const OptimSlot& s, int64_t b, int64_t e) {
  switch (algo) {
    case OptimAlgo::SGD: step_rule<T, OptimAlgo::SGD>(h, c, s, b, e); break;
    case OptimAlgo::Adam: step_rule<T, OptimAlgo::Adam>(h, c, s, b, e); break;
    case OptimAlgo::RMSprop: step_rule<T, OptimAlgo::RMSprop>(h, c, s, b, e); break;
    case OptimAlgo::Adagrad: step_rule<T, OptimAlgo::Adagrad>(h, c, s, b, e); break;
    case OptimAlgo::Adamax: step_rule<T, OptimAlgo::Adamax>(h, c, s, b, e); break;
    case OptimAlgo::NAdam: step_rule<T, OptimAlgo::NAdam>(h, c, s, b, e); break;
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

template <class T>
void clamp_typed(T* __restrict x, int64_t n, T lo, T hi) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = Ops::clamp(x[i], lo, hi);
}

void clamp(DType dtype, void* x, int64_t n, double lo, double hi) {
  if (dtype == DType::Float32) clamp_typed(static_cast<float*>(x), n, float(lo), float(hi));
  else clamp_typed(static_cast<double*>(x), n, lo, hi);
}

}  // namespace

extern const OptimKernels optim_kernels = {step, norm, scale, clamp};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
