// Loss driver: argument checks (shapes, dtypes, labels), devices, operand preparation, fixed-size blocks over
// threads (sums combined in block order, so results do not depend on the thread count), reductions and
// gradient scales; the per-ISA kernels of loss_loops.cpp do the math (nll_loss is a gather, done here), or
// the CUDA kernels (cuda/loss.cu) for tensors on a device.
#include <algorithm>
#include <memory>
#include <vector>

#include "core/loop.h"
#include "cpu/loss_kernels.h"
#include "fusednn/creation.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {

namespace {

const cpu::LossKernels& kernels() {
  return select_isa(cpu::ref::loss_kernels, cpu::avx2::loss_kernels, cpu::avx512::loss_kernels);
}
template <class T> const cpu::LossTable<T>& table() {
  if constexpr (sizeof(T) == 4) return kernels().f32;
  else return kernels().f64;
}
Tensor as_dtype(const Tensor& x, DType d) { return x.dtype() == d ? x : astype(x, d); }

const char* loss_name(PointwiseLoss kind) {
  static constexpr const char* names[] = {"mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
                                          "binary_cross_entropy_with_logits"};
  return names[static_cast<int>(kind)];
}

void require_float(const char* name, const char* what, const Tensor& t) {
  if (!is_floating(t.dtype()))
    throw TypeError(cat(name, ": ", what, " must be float32 or float64, got ", dtype_name(t.dtype())));
}

// `t` (optional) broadcast to shape, in dtype, on device, contiguous.
Tensor broadcast_operand(const char* name, const char* what, const Tensor& t, const Dims& shape, DType dtype,
                         Device device) {
  if (!t.defined()) return t;
  if (broadcast_shapes(t.shape(), shape) != shape)
    throw ValueError(cat(name, ": ", what, " of shape ", t.shape(), " does not broadcast to the input's shape ", shape));
  return contiguous(to_device(as_dtype(t, dtype), device).expand(shape));
}

struct PointwiseOperands {
  Tensor x, t, w, pw;
};

PointwiseOperands prepare(PointwiseLoss kind, const Tensor& input, const Tensor& target, const Tensor& weight,
                          const Tensor& pos_weight) {
  const char* name = loss_name(kind);
  require_float(name, "input", input);
  if (input.shape() != target.shape())
    throw ValueError(cat(name, ": input shape ", input.shape(), " and target shape ", target.shape(), " differ"));
  const DType dt = input.dtype();
  const Device device = common_device(name, {&input, &target, &weight, &pos_weight});
  return {contiguous(to_device(input, device)), contiguous(to_device(as_dtype(target, dt), device)),
          broadcast_operand(name, "weight", weight, input.shape(), dt, device),
          broadcast_operand(name, "pos_weight", pos_weight, input.shape(), dt, device)};
}

template <class T> cpu::PointwiseArgs<T> args_of(const PointwiseOperands& o, double delta) {
  return {o.x.data_as<T>(), o.t.data_as<T>(), o.w.defined() ? o.w.data_as<T>() : nullptr,
          o.pw.defined() ? o.pw.data_as<T>() : nullptr, static_cast<T>(delta)};
}

constexpr int64_t kBlock = 4096;  // elements per block: the unit of threading and of partial sums

void check_scalar_grad(const char* name, const Tensor& dy) {
  if (dy.numel() != 1) throw ValueError(cat(name, " backward: expected a one-element gradient, got shape ", dy.shape()));
}
double scalar_value(const char* name, const Tensor& dy) {
  check_scalar_grad(name, dy);
  return contiguous(astype(dy, DType::Float64)).data_as<double>()[0];
}

// The incoming gradient of a loss on a device, contiguous in dtype there: `shape` for none (checked by the
// caller), one element otherwise.
Tensor device_grad(const char* name, const Tensor& dy, Reduction r, DType dtype, Device device) {
  if (r != Reduction::None) check_scalar_grad(name, dy);
  return contiguous(to_device(as_dtype(dy, dtype), device));
}

// ---- class losses ----

struct ClassOperands {
  Tensor x, labels, probs, weight;  // contiguous, on x's device; labels int64, the rest in x's dtype
  int64_t N, C;
};

// Raises ValueError naming the first label outside [0, C) that is not ignore_index.
void check_labels(const char* name, const ClassOperands& o, const ClassLossOptions& opt) {
  int64_t index = -1, label = 0;
  if (!o.labels.device().is_cpu()) {
    cuda::find_bad_label(o.labels, o.C, opt.ignore_index, &index, &label);
  } else {
    const int64_t* t = o.labels.data_as<int64_t>();
    for (int64_t i = 0; i < o.N && index < 0; ++i)
      if (t[i] != opt.ignore_index && (t[i] < 0 || t[i] >= o.C)) {
        index = i;
        label = t[i];
      }
  }
  if (index >= 0)
    throw ValueError(cat(name, ": label ", label, " at index ", index, " is out of range for ", o.C,
                         " classes (expected 0 <= label < ", o.C, " or ignore_index=", opt.ignore_index, ")"));
}

ClassOperands prepare_class(const char* name, const Tensor& logits, const Tensor& target, const Tensor& weight,
                            const ClassLossOptions& opt, bool allow_probs) {
  require_float(name, "input", logits);
  if (logits.ndim() != 2) throw ValueError(cat(name, ": expected input of shape (N, C), got shape ", logits.shape()));
  if (!(opt.label_smoothing >= 0 && opt.label_smoothing <= 1))
    throw ValueError(cat(name, ": label_smoothing must be in [0, 1], got ", opt.label_smoothing));
  const Device device = common_device(name, {&logits, &target, &weight});
  ClassOperands o{contiguous(logits), {}, {}, {}, logits.shape(0), logits.shape(1)};
  if (is_floating(target.dtype()) && allow_probs && target.ndim() == 2) {
    if (target.shape() != logits.shape())
      throw ValueError(cat(name, ": probability target shape ", target.shape(), " does not match input shape ",
                           logits.shape(), " (", o.C, " classes)"));
    o.probs = contiguous(to_device(as_dtype(target, logits.dtype()), device));
  } else {
    if (!is_integer(target.dtype()))
      throw TypeError(cat(name, ": class targets must be integers (int32 or int64)",
                          allow_probs ? " or (N, C) probabilities" : "", ", got ", dtype_name(target.dtype()),
                          " of shape ", target.shape()));
    if (target.ndim() != 1 || target.shape(0) != o.N)
      throw ValueError(cat(name, ": target shape ", target.shape(), " does not match input shape ", logits.shape(),
                           ": expected (", o.N, ",) labels for ", o.C, " classes"));
    o.labels = contiguous(to_device(as_dtype(target, DType::Int64), device));
    check_labels(name, o, opt);
  }
  if (weight.defined()) {
    if (weight.ndim() != 1 || weight.shape(0) != o.C)
      throw ValueError(cat(name, ": weight must have shape (", o.C, ",) for ", o.C, " classes, got ", weight.shape()));
    o.weight = contiguous(to_device(as_dtype(weight, logits.dtype()), device));
  }
  return o;
}

template <class T> cpu::ClassRows<T> rows_of(const ClassOperands& o, const ClassLossOptions& opt) {
  const T* w = o.weight.defined() ? o.weight.data_as<T>() : nullptr;
  T wsum = static_cast<T>(o.C);
  if (w) {
    wsum = 0;
    for (int64_t c = 0; c < o.C; ++c) wsum += w[c];
  }
  return {o.x.data_as<T>(), o.C, o.labels.defined() ? o.labels.data_as<int64_t>() : nullptr,
          o.probs.defined() ? o.probs.data_as<T>() : nullptr, w, wsum, static_cast<T>(opt.label_smoothing),
          opt.ignore_index};
}

// What 'mean' divides by: the summed weight of the counted labels (their number without weights), or N.
template <class T> double mean_denominator(const ClassOperands& o, const ClassLossOptions& opt) {
  if (!o.labels.defined()) return static_cast<double>(o.N);
  const int64_t* t = o.labels.data_as<int64_t>();
  const T* w = o.weight.defined() ? o.weight.data_as<T>() : nullptr;
  double d = 0;
  for (int64_t i = 0; i < o.N; ++i)
    if (t[i] != opt.ignore_index) d += w ? static_cast<double>(w[t[i]]) : 1.0;
  return d;
}

// Per-row loss -> the reduced result (0-d) or the rows themselves.
template <class T> Tensor reduce_rows(const Tensor& rows, Reduction r, double denominator) {
  if (r == Reduction::None) return rows;
  const T* v = rows.data_as<T>();
  double s = 0;
  for (int64_t i = 0; i < rows.numel(); ++i) s += v[i];
  return full(Dims{}, rows.dtype(), r == Reduction::Mean ? s / denominator : s);
}

// Per-row gradient scales: dy[i] for none, dy (/ the mean's denominator) otherwise.
void check_row_grad(const char* name, const Tensor& dy, int64_t N, Reduction r) {
  if (r == Reduction::None && (dy.ndim() != 1 || dy.shape(0) != N))
    throw ValueError(cat(name, " backward: expected a gradient of shape (", N, ",), got ", dy.shape()));
}
template <class T> std::vector<T> row_scales(const char* name, const Tensor& dy, int64_t N, Reduction r, double denominator) {
  check_row_grad(name, dy, N, r);
  if (r == Reduction::None) {
    const Tensor g = contiguous(as_dtype(dy, dtype_of<T>::value));
    return std::vector<T>(g.data_as<T>(), g.data_as<T>() + N);
  }
  const double g = scalar_value(name, dy);
  return std::vector<T>(N, static_cast<T>(r == Reduction::Mean ? g / denominator : g));
}

}  // namespace

Tensor pointwise_loss(PointwiseLoss kind, const Tensor& input, const Tensor& target, const Tensor& weight,
                      const Tensor& pos_weight, Reduction reduction, double delta) {
  const PointwiseOperands o = prepare(kind, input, target, weight, pos_weight);
  if (!o.x.device().is_cpu()) {
    Tensor out = Tensor::empty(reduction == Reduction::None ? input.shape() : Dims{}, input.dtype(), o.x.device());
    if (cuda::pointwise_loss(kind, out, o.x, o.t, o.w, o.pw, reduction, delta))
      throw ValueError(cat(loss_name(kind), ": all elements of input should be between 0 and 1"));
    return out;
  }
  const int64_t n = o.x.numel(), blocks = (n + kBlock - 1) / kBlock;
  Tensor out = reduction == Reduction::None ? Tensor::empty(input.shape(), input.dtype()) : Tensor{};
  std::vector<double> partial(blocks);
  std::unique_ptr<bool[]> bad(new bool[blocks + 1]());
  visit_float(input.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const auto a = args_of<T>(o, delta);
    const auto kernel = table<T>().forward[static_cast<int>(kind)];
    T* outp = out.defined() ? out.data_as<T>() : nullptr;
    parallel_for(blocks, kBlock * 10, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) partial[b] = kernel(a, b * kBlock, std::min(n, (b + 1) * kBlock), outp, &bad[b]);
    });
  });
  if (std::any_of(bad.get(), bad.get() + blocks, [](bool v) { return v; }))
    throw ValueError(cat(loss_name(kind), ": all elements of input should be between 0 and 1"));
  if (reduction == Reduction::None) return out;
  double total = 0;
  for (double p : partial) total += p;
  return full(Dims{}, input.dtype(), reduction == Reduction::Mean ? total / static_cast<double>(n) : total);
}

Tensor pointwise_loss_backward(PointwiseLoss kind, const Tensor& dy, const Tensor& input, const Tensor& target,
                               const Tensor& weight, const Tensor& pos_weight, Reduction reduction, double delta) {
  const PointwiseOperands o = prepare(kind, input, target, weight, pos_weight);
  const int64_t n = o.x.numel(), blocks = (n + kBlock - 1) / kBlock;
  if (reduction == Reduction::None && dy.shape() != input.shape())
    throw ValueError(cat(loss_name(kind), " backward: gradient shape ", dy.shape(), " differs from input shape ",
                         input.shape()));
  common_device(loss_name(kind), {&dy, &o.x});
  Tensor dx = Tensor::empty(input.shape(), input.dtype(), o.x.device());
  if (!o.x.device().is_cpu()) {
    const Tensor g = device_grad(loss_name(kind), dy, reduction, input.dtype(), o.x.device());
    cuda::pointwise_loss_backward(kind, dx, g, o.x, o.t, o.w, o.pw, reduction, delta);
    return dx;
  }
  Tensor g;
  double scale = 1;
  if (reduction == Reduction::None) {
    g = contiguous(as_dtype(dy, input.dtype()));
  } else {
    scale = scalar_value(loss_name(kind), dy);
    if (reduction == Reduction::Mean) scale /= static_cast<double>(n);
  }
  visit_float(input.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const auto a = args_of<T>(o, delta);
    const auto kernel = table<T>().backward[static_cast<int>(kind)];
    const T* gp = g.defined() ? g.data_as<T>() : nullptr;
    T* dxp = dx.data_as<T>();
    parallel_for(blocks, kBlock * 10, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) kernel(a, b * kBlock, std::min(n, (b + 1) * kBlock), gp, static_cast<T>(scale), dxp);
    });
  });
  return dx;
}

std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const ClassLossOptions& options) {
  const ClassOperands o = prepare_class("cross_entropy", logits, target, weight, options, true);
  if (!o.x.device().is_cpu()) {
    const Dims shape = options.reduction == Reduction::None ? Dims{o.N} : Dims{};
    Tensor loss = Tensor::empty(shape, logits.dtype(), o.x.device());
    Tensor lse = Tensor::empty(Dims{o.N}, logits.dtype(), o.x.device());
    cuda::cross_entropy(loss, lse, o.x, o.labels, o.probs, o.weight, options);
    return std::make_pair(loss, lse);
  }
  Tensor rows = Tensor::empty(Dims{o.N}, logits.dtype()), lse = Tensor::empty(Dims{o.N}, logits.dtype());
  return visit_float(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const auto a = rows_of<T>(o, options);
    const auto kernel = table<T>().cross_entropy_forward;
    T *lp = rows.data_as<T>(), *sp = lse.data_as<T>();
    parallel_for(o.N, o.C * 12, [&](int64_t begin, int64_t end) { kernel(a, begin, end, lp, sp); });
    return std::make_pair(reduce_rows<T>(rows, options.reduction, mean_denominator<T>(o, options)), lse);
  });
}

Tensor cross_entropy_backward(const Tensor& dy, const Tensor& logits, const Tensor& target, const Tensor& weight,
                              const Tensor& lse, const ClassLossOptions& options) {
  const ClassOperands o = prepare_class("cross_entropy", logits, target, weight, options, true);
  if (lse.ndim() != 1 || lse.shape(0) != o.N || lse.dtype() != logits.dtype())
    throw ValueError(cat("cross_entropy backward: saved log-sum-exp has shape ", lse.shape(), ", expected (", o.N, ",)"));
  common_device("cross_entropy backward", {&o.x, &dy, &lse});
  Tensor dx = Tensor::empty(logits.shape(), logits.dtype(), o.x.device());
  if (!o.x.device().is_cpu()) {
    check_row_grad("cross_entropy", dy, o.N, options.reduction);
    const Tensor g = device_grad("cross_entropy", dy, options.reduction, logits.dtype(), o.x.device());
    cuda::cross_entropy_backward(dx, g, o.x, o.labels, o.probs, o.weight, contiguous(lse), options);
    return dx;
  }
  visit_float(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const auto a = rows_of<T>(o, options);
    const std::vector<T> scale =
        row_scales<T>("cross_entropy", dy, o.N, options.reduction, mean_denominator<T>(o, options));
    const auto kernel = table<T>().cross_entropy_backward;
    const Tensor l = contiguous(lse);
    const T* lp = l.data_as<T>();
    T* dxp = dx.data_as<T>();
    parallel_for(o.N, o.C * 12, [&](int64_t begin, int64_t end) { kernel(a, lp, scale.data(), begin, end, dxp); });
  });
  return dx;
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, const ClassLossOptions& options) {
  const ClassOperands o = prepare_class("nll_loss", log_probs, target, weight, options, false);
  if (!o.x.device().is_cpu()) {
    const Dims shape = options.reduction == Reduction::None ? Dims{o.N} : Dims{};
    Tensor loss = Tensor::empty(shape, log_probs.dtype(), o.x.device());
    cuda::nll_loss(loss, o.x, o.labels, o.weight, options);
    return loss;
  }
  Tensor rows = Tensor::empty(Dims{o.N}, log_probs.dtype());
  return visit_float(log_probs.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* x = o.x.data_as<T>();
    const T* w = o.weight.defined() ? o.weight.data_as<T>() : nullptr;
    const int64_t* t = o.labels.data_as<int64_t>();
    T* v = rows.data_as<T>();
    for (int64_t i = 0; i < o.N; ++i)
      v[i] = t[i] == options.ignore_index ? T(0) : -(w ? w[t[i]] : T(1)) * x[i * o.C + t[i]];
    return reduce_rows<T>(rows, options.reduction, mean_denominator<T>(o, options));
  });
}

Tensor nll_loss_backward(const Tensor& dy, const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                         const ClassLossOptions& options) {
  const ClassOperands o = prepare_class("nll_loss", log_probs, target, weight, options, false);
  common_device("nll_loss backward", {&o.x, &dy});
  if (!o.x.device().is_cpu()) {
    check_row_grad("nll_loss", dy, o.N, options.reduction);
    const Tensor g = device_grad("nll_loss", dy, options.reduction, log_probs.dtype(), o.x.device());
    Tensor dx = Tensor::empty(log_probs.shape(), log_probs.dtype(), o.x.device());
    cuda::nll_loss_backward(dx, g, o.labels, o.weight, options);
    return dx;
  }
  Tensor dx = full(log_probs.shape(), log_probs.dtype(), 0.0);
  visit_float(log_probs.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const std::vector<T> scale = row_scales<T>("nll_loss", dy, o.N, options.reduction, mean_denominator<T>(o, options));
    const T* w = o.weight.defined() ? o.weight.data_as<T>() : nullptr;
    const int64_t* t = o.labels.data_as<int64_t>();
    T* d = dx.data_as<T>();
    for (int64_t i = 0; i < o.N; ++i)
      if (t[i] != options.ignore_index) d[i * o.C + t[i]] = -scale[i] * (w ? w[t[i]] : T(1));
  });
  return dx;
}

}  // namespace fusednn
