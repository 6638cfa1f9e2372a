// The loss family on CUDA devices: pointwise losses (math of core/loss_ops.h, shared with the CPU) and their
// gradients; the fused cross-entropy, one warp or block per row (rows.cuh): m = max, lse = m + log sum e^(x - m)
// and the row's NLL in one visit, backward scale (softmax - smoothed target); nll_loss. Sums and means run in
// double: per-4096-element chunk partials, then one block over the chunks, both in a fixed order.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/activation_ops.h"
#include "core/loss_ops.h"
#include "cuda/rows.cuh"
#include "fusednn/errors.h"
#include "fusednn/loss.h"

namespace fusednn::cuda {
namespace {

struct DeviceMath {
  template <class T> FUSEDNN_HD static T abs(T x) { return act::abs_(x); }
  template <class T> FUSEDNN_HD static T exp(T x) { return act::exp_(x); }
  template <class T> FUSEDNN_HD static T log(T x) { return act::log_(x); }
  template <class T> FUSEDNN_HD static T log1p(T x) { return act::log1p_(x); }
};
using Ops = LossOps<DeviceMath>;

template <class Fn> decltype(auto) visit_pointwise(PointwiseLoss kind, Fn&& fn) {
  switch (kind) {
    case PointwiseLoss::Mse: return fn([](auto t) { return Ops::Mse<decltype(t)>{}; });
    case PointwiseLoss::L1: return fn([](auto t) { return Ops::L1<decltype(t)>{}; });
    case PointwiseLoss::Huber: return fn([](auto t) { return Ops::Huber<decltype(t)>{}; });
    case PointwiseLoss::Bce: return fn([](auto t) { return Ops::Bce<decltype(t)>{}; });
    default: return fn([](auto t) { return Ops::BceLogits<decltype(t)>{}; });
  }
}

template <class T> const T* data_or_null(const Tensor& t) { return t.defined() ? t.data_as<T>() : nullptr; }

struct Launch {
  int device;
  cudaStream_t stream;
};
Launch launch_on(const Tensor& t) { return {t.device().index, as_stream(stream(t.device().index))}; }

template <class Fn> __global__ void for_each_index_kernel(Fn fn, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) fn(i);
}
// fn(i) for i in [0, n), one thread each.
template <class Fn> void for_each_index(const Fn& fn, int64_t n, const Launch& on, const char* what) {
  if (n == 0) return;
  for_each_index_kernel<<<grid_for(n, kRowThreads), kRowThreads, 0, on.stream>>>(fn, n);
  check(cudaGetLastError(), what);
}

// ---- deterministic sums ----

constexpr int64_t kChunk = 4096;  // elements per partial sum

// partial[k] = sum of src(i) over chunk k, every chunk reduced in the same order whatever the grid.
template <class Source> __global__ void partial_sums_kernel(Source src, int64_t n, int64_t chunks, double* partial) {
  __shared__ double shared[kRowThreads / kWarp];
  const OneBlock group{static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), shared};
  for (int64_t k = blockIdx.x; k < chunks; k += gridDim.x) {  // k is uniform over the block
    const int64_t end = (k + 1) * kChunk < n ? (k + 1) * kChunk : n;
    double s = 0;
    for (int64_t i = k * kChunk + threadIdx.x; i < end; i += blockDim.x) s += src(i);
    s = group.reduce(s, SumOp());
    if (threadIdx.x == 0) partial[k] = s;
  }
}

// out[0] = sum(partial) / (denominator ? *denominator : divisor), by one block.
template <class T>
__global__ void finish_sum_kernel(const double* partial, int64_t chunks, const double* denominator, double divisor,
                                  T* out) {
  __shared__ double shared[kRowThreads / kWarp];
  const OneBlock group{static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), shared};
  double s = 0;
  for (int64_t k = threadIdx.x; k < chunks; k += blockDim.x) s += partial[k];
  s = group.reduce(s, SumOp());
  if (threadIdx.x == 0) out[0] = static_cast<T>(s / (denominator ? *denominator : divisor));
}

// Runs src(i) over [0, n) (for what it writes) and, unless reduction is none, out[0] = the sum (or the
// sum / the mean's denominator: *denominator on the device when given, else n).
template <class T, class Source>
void sum_into(const Source& src, int64_t n, Reduction reduction, const double* denominator, const Tensor& out,
              const Launch& on) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const Tensor partial = Tensor::empty(Dims{chunks > 0 ? chunks : 1}, DType::Float64, out.device());
  if (chunks > 0) {
    partial_sums_kernel<<<static_cast<unsigned>(std::min(chunks, kMaxBlocks)), kRowThreads, 0, on.stream>>>(
        src, n, chunks, partial.data_as<double>());
    check(cudaGetLastError(), "a loss kernel launch");
  }
  if (reduction == Reduction::None) return;
  const double divisor = reduction == Reduction::Mean ? static_cast<double>(n) : 1.0;
  finish_sum_kernel<T><<<1, kRowThreads, 0, on.stream>>>(partial.data_as<double>(), chunks,
                                                        reduction == Reduction::Mean ? denominator : nullptr, divisor,
                                                        out.data_as<T>());
  check(cudaGetLastError(), "a loss reduction kernel launch");
}

// ---- pointwise losses ----

template <class T> struct PointwiseArgs {
  const T *x, *t, *w, *pw;
};

// loss_i * w_i, written to out when given; raises *bad for a bce input outside [0, 1].
template <class T, class L> struct PointwiseSource {
  L f;
  PointwiseArgs<T> a;
  T* out;
  int* bad;
  __device__ double operator()(int64_t i) const {
    const T x = a.x[i];
    const T v = f.loss(x, a.t[i], a.pw ? a.pw[i] : T(1)) * (a.w ? a.w[i] : T(1));
    if (out) out[i] = v;
    if (L::checks_range && !(x >= T(0) && x <= T(1))) *bad = 1;  // every writer stores 1: no atomic needed
    return static_cast<double>(v);
  }
};

// dx_i = scale (dy_i or 1) w_i dloss_i/dx_i, scale = dy / divisor (one element) or 1 (dy per element).
template <class T, class L> struct PointwiseGrad {
  L f;
  PointwiseArgs<T> a;
  const T* dy;
  bool dy_scalar;
  double divisor;
  T* dx;
  __device__ void operator()(int64_t i) const {
    const T scale = dy_scalar ? static_cast<T>(static_cast<double>(dy[0]) / divisor) : T(1);
    dx[i] = scale * (dy_scalar ? T(1) : dy[i]) * (a.w ? a.w[i] : T(1)) * f.grad(a.x[i], a.t[i], a.pw ? a.pw[i] : T(1));
  }
};

// ---- class losses ----

template <class T> struct ClassArgs {
  const T* x;  // (N, C)
  int64_t C;
  const int64_t* labels;  // (N,) or null
  const T* probs;         // (N, C) or null
  const T* weight;        // (C,) or null
  const double* stats;    // [the mean's denominator, sum_c w_c]
  T smoothing;
  int64_t ignore_index;
  __device__ bool counted(int64_t t) const { return t != ignore_index && t >= 0 && t < C; }
  __device__ T w(int64_t c) const { return weight ? weight[c] : T(1); }
  // The smoothed target weight w_c t'_c of probability row p's class c.
  __device__ T soft_target(const T* p, int64_t c) const {
    const T tc = (T(1) - smoothing) * p[c] + smoothing / static_cast<T>(C);
    return weight ? weight[c] * tc : tc;
  }
};

template <class T> ClassArgs<T> class_args(const Tensor& x, const Tensor& labels, const Tensor& probs,
                                           const Tensor& weight, const Tensor& stats, const ClassLossOptions& o) {
  return {x.data_as<T>(), x.shape(1), data_or_null<int64_t>(labels), data_or_null<T>(probs), data_or_null<T>(weight),
          stats.data_as<double>(), static_cast<T>(o.label_smoothing), o.ignore_index};
}

// stats[0] = the mean's denominator (summed w_t of counted labels, or N for probabilities), stats[1] = sum_c w_c
// (C without weights); one block.
template <class T> __global__ void class_stats_kernel(ClassArgs<T> a, int64_t N, double* stats) {
  __shared__ double shared[kRowThreads / kWarp];
  const OneBlock group{static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), shared};
  double d = 0, ws = 0;
  if (a.labels) {
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x)
      if (a.counted(a.labels[i])) d += static_cast<double>(a.w(a.labels[i]));
  } else if (threadIdx.x == 0) {
    d = static_cast<double>(N);
  }
  for (int64_t c = threadIdx.x; c < a.C; c += blockDim.x) ws += static_cast<double>(a.w(c));
  d = group.reduce(d, SumOp());
  ws = group.reduce(ws, SumOp());
  if (threadIdx.x == 0) {
    stats[0] = d;
    stats[1] = ws;
  }
}

Tensor class_stats_of(const Tensor& x, const Tensor& labels, const Tensor& probs, const Tensor& weight,
                      const ClassLossOptions& o, const Launch& on) {
  Tensor stats = Tensor::empty(Dims{2}, DType::Float64, x.device());
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    class_stats_kernel<<<1, kRowThreads, 0, on.stream>>>(class_args<T>(x, labels, probs, weight, stats, o), x.shape(0),
                                                          stats.data_as<double>());
  });
  check(cudaGetLastError(), "a class loss kernel launch");
  return stats;
}

// Row r: lse[r] and loss[r] = (1 - eps) w_t (lse - x_t) + eps / C sum_c w_c (lse - x_c) for a counted label
// (0 for an ignored one), or sum_c w_c t'_c (lse - x_c) for probabilities.
template <class T> struct CrossEntropyRow {
  ClassArgs<T> a;
  T *loss, *lse;
  template <class G> __device__ void operator()(int64_t r, const G& g) const {
    const int64_t C = a.C;
    const T* x = a.x + r * C;
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t c = g.lane; c < C; c += g.lanes) m = MaxOp()(m, x[c]);
    m = g.reduce(m, MaxOp());
    T s = 0;
    for (int64_t c = g.lane; c < C; c += g.lanes) s += act::exp_(x[c] - m);  // a NaN in the row poisons s
    const T l = m + act::log_(g.reduce(s, SumOp()));
    const T eps = a.smoothing, eps_c = a.smoothing / static_cast<T>(C);
    T v = 0;
    if (a.labels) {
      const int64_t t = a.labels[r];  // the same on every thread of the row, so they branch together
      if (a.counted(t)) {
        v = (T(1) - eps) * a.w(t) * (l - x[t]);
        if (eps > T(0)) {
          T u = 0;
          for (int64_t c = g.lane; c < C; c += g.lanes) u += a.w(c) * (l - x[c]);
          v += eps_c * g.reduce(u, SumOp());
        }
      }
    } else {
      const T* p = a.probs + r * C;
      for (int64_t c = g.lane; c < C; c += g.lanes) v += a.soft_target(p, c) * (l - x[c]);
      v = g.reduce(v, SumOp());
    }
    if (g.lane == 0) {
      loss[r] = v;
      lse[r] = l;
    }
  }
};

// The gradient's scale of row r: dy[r] (per row), or dy / (the mean's denominator or 1).
template <class T> struct RowScale {
  const T* dy;
  bool per_row;
  const double* denominator;  // null: 1
  __device__ T operator()(int64_t r) const {
    return per_row ? dy[r] : static_cast<T>(static_cast<double>(dy[0]) / (denominator ? *denominator : 1.0));
  }
};
template <class T> RowScale<T> row_scale(const Tensor& dy, const Tensor& stats, Reduction reduction) {
  const double* denominator = reduction == Reduction::Mean ? stats.data_as<double>() : nullptr;
  return {dy.data_as<T>(), reduction == Reduction::None, denominator};
}

// d_c = g ((1 - eps) w_t + eps/C W) p_c - g eps/C w_c, and the label's column loses g (1 - eps) w_t (labels);
// d_c = g (sum_k w_k t'_k) p_c - g w_c t'_c (probabilities); p_c = e^(x_c - lse).
template <class T> struct CrossEntropyBackwardRow {
  ClassArgs<T> a;
  RowScale<T> scale;
  const T* lse;
  T* dx;
  template <class G> __device__ void operator()(int64_t r, const G& g) const {
    const int64_t C = a.C;
    const T* x = a.x + r * C;
    T* d = dx + r * C;
    const T gr = scale(r), l = lse[r];
    const T eps = a.smoothing, eps_c = a.smoothing / static_cast<T>(C);
    if (a.labels) {
      const int64_t t = a.labels[r];
      if (!a.counted(t)) {
        for (int64_t c = g.lane; c < C; c += g.lanes) d[c] = T(0);
        return;
      }
      const T wt = a.w(t), label_part = gr * (T(1) - eps) * wt;
      const T coef = gr * ((T(1) - eps) * wt + eps_c * static_cast<T>(a.stats[1])), off = gr * eps_c;
      for (int64_t c = g.lane; c < C; c += g.lanes) {
        const T v = coef * act::exp_(x[c] - l) - (a.weight ? off * a.weight[c] : off);
        d[c] = c == t ? v - label_part : v;
      }
    } else {
      const T* p = a.probs + r * C;
      T total = 0;  // sum_c w_c t'_c
      for (int64_t c = g.lane; c < C; c += g.lanes) total += a.soft_target(p, c);
      const T coef = gr * g.reduce(total, SumOp());
      for (int64_t c = g.lane; c < C; c += g.lanes) d[c] = coef * act::exp_(x[c] - l) - gr * a.soft_target(p, c);
    }
  }
};

// -w_t log_probs[i, t] (0 for an ignored label), written to out when given.
template <class T> struct NllSource {
  ClassArgs<T> a;
  T* out;
  __device__ double operator()(int64_t i) const {
    const int64_t t = a.labels[i];
    const T v = a.counted(t) ? -a.w(t) * a.x[i * a.C + t] : T(0);
    if (out) out[i] = v;
    return static_cast<double>(v);
  }
};
template <class T> struct RowsSource {
  const T* v;
  __device__ double operator()(int64_t i) const { return static_cast<double>(v[i]); }
};

template <class T> struct NllGrad {
  ClassArgs<T> a;
  RowScale<T> scale;
  T* dx;
  __device__ void operator()(int64_t k) const {
    const int64_t i = k / a.C, c = k % a.C, t = a.labels[i];
    dx[k] = a.counted(t) && c == t ? -scale(i) * a.w(t) : T(0);
  }
};

__global__ void find_bad_label_kernel(const int64_t* labels, int64_t n, int64_t C, int64_t ignore_index,
                                      unsigned long long* first) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t t = labels[i];
    if (t != ignore_index && (t < 0 || t >= C)) atomicMin(first, static_cast<unsigned long long>(i));
  }
}

}  // namespace

bool pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& weight,
                    const Tensor& pos_weight, Reduction reduction, double delta) {
  const Launch on = launch_on(x);
  DeviceGuard guard(on.device);
  const bool checks = kind == PointwiseLoss::Bce;
  const Tensor bad = checks ? Tensor::empty(Dims{1}, DType::Int32, x.device()) : Tensor{};
  if (checks) check(cudaMemsetAsync(bad.data(), 0, sizeof(int), on.stream), "clearing the range flag");
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    visit_pointwise(kind, [&](auto make) {
      using L = decltype(make(T{}));
      const PointwiseArgs<T> a{x.data_as<T>(), t.data_as<T>(), data_or_null<T>(weight), data_or_null<T>(pos_weight)};
      T* each = reduction == Reduction::None ? out.data_as<T>() : nullptr;
      int* flag = checks ? bad.data_as<int>() : nullptr;  // only bce's source writes it
      sum_into<T>(PointwiseSource<T, L>{L{static_cast<T>(delta)}, a, each, flag}, x.numel(), reduction, nullptr, out,
                  on);
    });
  });
  if (!checks) return false;
  int raised = 0;
  copy_device_to_host(&raised, bad.data(), sizeof(int), on.device);
  return raised != 0;
}

void pointwise_loss_backward(PointwiseLoss kind, const Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& t,
                             const Tensor& weight, const Tensor& pos_weight, Reduction reduction, double delta) {
  const Launch on = launch_on(x);
  DeviceGuard guard(on.device);
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    visit_pointwise(kind, [&](auto make) {
      using L = decltype(make(T{}));
      const PointwiseArgs<T> a{x.data_as<T>(), t.data_as<T>(), data_or_null<T>(weight), data_or_null<T>(pos_weight)};
      const double divisor = reduction == Reduction::Mean ? static_cast<double>(x.numel()) : 1.0;
      for_each_index(PointwiseGrad<T, L>{L{static_cast<T>(delta)}, a, dy.data_as<T>(), reduction != Reduction::None,
                                         divisor, dx.data_as<T>()},
                     x.numel(), on, "a loss backward kernel launch");
    });
  });
}

bool find_bad_label(const Tensor& labels, int64_t C, int64_t ignore_index, int64_t* index, int64_t* label) {
  const int64_t n = labels.numel();
  if (n == 0) return false;
  const Launch on = launch_on(labels);
  DeviceGuard guard(on.device);
  const Tensor first = Tensor::empty(Dims{1}, DType::Int64, labels.device());
  check(cudaMemsetAsync(first.data(), 0xff, sizeof(int64_t), on.stream), "clearing the label index");  // "none"
  find_bad_label_kernel<<<grid_for(n, kRowThreads), kRowThreads, 0, on.stream>>>(
      labels.data_as<int64_t>(), n, C, ignore_index, static_cast<unsigned long long*>(first.data()));
  check(cudaGetLastError(), "the label check kernel launch");
  unsigned long long found = 0;
  copy_device_to_host(&found, first.data(), sizeof(found), on.device);
  if (found == ~0ull) return false;
  *index = static_cast<int64_t>(found);
  copy_device_to_host(label, labels.data_as<int64_t>() + found, sizeof(int64_t), on.device);
  return true;
}

void cross_entropy(const Tensor& loss, const Tensor& lse, const Tensor& x, const Tensor& labels, const Tensor& probs,
                   const Tensor& weight, const ClassLossOptions& options) {
  const Launch on = launch_on(x);
  DeviceGuard guard(on.device);
  const Tensor stats = class_stats_of(x, labels, probs, weight, options, on);
  const int64_t N = x.shape(0), C = x.shape(1);
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const ClassArgs<T> a = class_args<T>(x, labels, probs, weight, stats, options);
    const Tensor rows = options.reduction == Reduction::None ? loss : Tensor::empty(Dims{N}, x.dtype(), x.device());
    for_each_row(CrossEntropyRow<T>{a, rows.data_as<T>(), lse.data_as<T>()}, N, C, true, on.device,
                 "a cross_entropy kernel launch");
    if (options.reduction != Reduction::None)
      sum_into<T>(RowsSource<T>{rows.data_as<T>()}, N, options.reduction, stats.data_as<double>(), loss, on);
  });
}

void cross_entropy_backward(const Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& labels,
                            const Tensor& probs, const Tensor& weight, const Tensor& lse,
                            const ClassLossOptions& options) {
  const Launch on = launch_on(x);
  DeviceGuard guard(on.device);
  const Tensor stats = class_stats_of(x, labels, probs, weight, options, on);
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const CrossEntropyBackwardRow<T> row{class_args<T>(x, labels, probs, weight, stats, options),
                                         row_scale<T>(dy, stats, options.reduction), lse.data_as<T>(), dx.data_as<T>()};
    for_each_row(row, x.shape(0), x.shape(1), true, on.device, "a cross_entropy backward kernel launch");
  });
}

void nll_loss(const Tensor& loss, const Tensor& log_probs, const Tensor& labels, const Tensor& weight,
              const ClassLossOptions& options) {
  const Launch on = launch_on(log_probs);
  DeviceGuard guard(on.device);
  const Tensor stats = class_stats_of(log_probs, labels, Tensor{}, weight, options, on);
  visit_float(log_probs.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const ClassArgs<T> a = class_args<T>(log_probs, labels, Tensor{}, weight, stats, options);
    T* each = options.reduction == Reduction::None ? loss.data_as<T>() : nullptr;
    sum_into<T>(NllSource<T>{a, each}, log_probs.shape(0), options.reduction, stats.data_as<double>(), loss, on);
  });
}

void nll_loss_backward(const Tensor& dx, const Tensor& dy, const Tensor& labels, const Tensor& weight,
                       const ClassLossOptions& options) {
  const Launch on = launch_on(dx);
  DeviceGuard guard(on.device);
  const Tensor stats = class_stats_of(dx, labels, Tensor{}, weight, options, on);
  visit_float(dx.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const ClassArgs<T> a = class_args<T>(dx, labels, Tensor{}, weight, stats, options);  // x is not read
    for_each_index(NllGrad<T>{a, row_scale<T>(dy, stats, options.reduction), dx.data_as<T>()}, dx.numel(), on,
                   "an nll_loss backward kernel launch");
  });
}

}  // namespace fusednn::cuda
