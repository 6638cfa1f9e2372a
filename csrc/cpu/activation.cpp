// Activation driver: dtype rules, shape checks, devices, output allocation and threading around the per-ISA
// kernels of activation_loops.cpp (elementwise ones through for_each_element; softmax by slices), or the
// CUDA kernels (cuda/activation.cu) for tensors on a device.
#include <algorithm>

#include "core/activation_ops.h"
#include "core/loop.h"
#include "cpu/activation_kernels.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {

namespace {

const cpu::ActivationKernels& kernels() {
  return select_isa(cpu::ref::activation_kernels, cpu::avx2::activation_kernels, cpu::avx512::activation_kernels);
}
template <class T> const cpu::ActivationTable<T>& table() {
  if constexpr (sizeof(T) == 4) return kernels().f32;
  else return kernels().f64;
}

// The float dtype an activation computes in: integers as float64, bool as float32 (NumPy's exp rule).
DType compute_dtype(DType d) { return d == DType::Bool ? DType::Float32 : is_integer(d) ? DType::Float64 : d; }
Tensor as_dtype(const Tensor& x, DType d) { return x.dtype() == d ? x : astype(x, d); }

// Work per element, in element operations: decides only whether threads pay off.
int64_t act_cost(ActKind kind) {
  switch (kind) {
    case ActKind::Relu: case ActKind::LeakyRelu: return 1;
    case ActKind::Gelu: return 40;
    default: return 10;
  }
}

// Splits shape around axis into (outer, C, inner).
void split_axis(const Dims& shape, int axis, int64_t* outer, int64_t* C, int64_t* inner) {
  *outer = *inner = *C = 1;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    if (i < axis) *outer *= shape[i];
    else if (i == axis) *C = shape[i];
    else *inner *= shape[i];
  }
}

// Calls body(offset, j0, j1) for every (outer slice, lane block): whole rows when inner == 1.
template <class Body> void for_each_slice(int64_t outer, int64_t C, int64_t inner, int64_t cost, const Body& body) {
  constexpr int64_t lanes = 64;
  const int64_t blocks = inner == 1 ? 1 : (inner + lanes - 1) / lanes;
  const int64_t per_item = C * (inner == 1 ? 1 : std::min(inner, lanes)) * cost;
  parallel_for(outer * blocks, per_item, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t o = k / blocks, j0 = (k % blocks) * lanes;
      body(o * C * inner, inner == 1 ? 0 : j0, inner == 1 ? 1 : std::min(inner, j0 + lanes));
    }
  });
}

void check_same_shape(const char* what, const Tensor& dy, const Tensor& saved) {
  if (dy.shape() != saved.shape())
    throw ValueError(cat(what, ": gradient shape ", dy.shape(), " does not match the saved tensor's shape ", saved.shape()));
}

}  // namespace

bool act_backward_uses_output(ActKind kind) {
  return kind == ActKind::Relu || kind == ActKind::Sigmoid || kind == ActKind::Tanh;
}

Tensor activation(ActKind kind, const Tensor& x, const ActParams& params) {
  const DType dt = compute_dtype(x.dtype());
  const Tensor in = as_dtype(x, dt);
  Tensor y = Tensor::empty(x.shape(), dt, x.device());
  if (!x.device().is_cpu()) {
    cuda::activation(kind, y, in, params);
    return y;
  }
  const InnerLoop loop = visit_float(dt, [&](auto t) { return table<decltype(t)>().forward[static_cast<int>(kind)]; });
  for_each_element(x.shape(), {&y, &in}, loop, &params, act_cost(kind));
  return y;
}

Tensor activation_backward(ActKind kind, const Tensor& dy, const Tensor& saved, const ActParams& params) {
  check_same_shape("activation backward", dy, saved);
  const Device device = common_device("activation backward", {&dy, &saved});
  const DType dt = compute_dtype(saved.dtype());
  const Tensor s = to_device(as_dtype(saved, dt), device), g = to_device(as_dtype(dy, dt), device);
  Tensor dx = Tensor::empty(saved.shape(), dt, device);
  if (!device.is_cpu()) {
    cuda::activation_backward(kind, dx, g, s, params);
    return dx;
  }
  const InnerLoop loop = visit_float(dt, [&](auto t) { return table<decltype(t)>().backward[static_cast<int>(kind)]; });
  for_each_element(saved.shape(), {&dx, &g, &s}, loop, &params, act_cost(kind));
  return dx;
}

Tensor softmax(const Tensor& x, int axis, bool log) {
  const DType dt = compute_dtype(x.dtype());
  const Tensor in = contiguous(as_dtype(x, dt));
  Tensor y = Tensor::empty(x.shape(), dt, x.device());
  if (x.numel() == 0) return y;
  int64_t outer, C, inner;
  split_axis(x.shape(), axis, &outer, &C, &inner);
  if (!x.device().is_cpu()) {
    cuda::softmax(y, in, outer, C, inner, log);
    return y;
  }
  visit_float(dt, [&](auto t) {
    using T = decltype(t);
    const auto kernel = table<T>().softmax_forward[log];
    const T* xp = in.data_as<T>();
    T* yp = y.data_as<T>();
    for_each_slice(outer, C, inner, 12, [&](int64_t off, int64_t j0, int64_t j1) { kernel(xp + off, yp + off, C, inner, j0, j1); });
  });
  return y;
}

Tensor softmax_backward(const Tensor& dy, const Tensor& y, int axis, bool log) {
  const char* name = log ? "log_softmax backward" : "softmax backward";
  check_same_shape(name, dy, y);
  const Device device = common_device(name, {&dy, &y});
  const DType dt = compute_dtype(y.dtype());
  const Tensor yc = contiguous(to_device(as_dtype(y, dt), device)), g = contiguous(to_device(as_dtype(dy, dt), device));
  Tensor dx = Tensor::empty(y.shape(), dt, device);
  if (y.numel() == 0) return dx;
  int64_t outer, C, inner;
  split_axis(y.shape(), axis, &outer, &C, &inner);
  if (!device.is_cpu()) {
    cuda::softmax_backward(dx, g, yc, outer, C, inner, log);
    return dx;
  }
  visit_float(dt, [&](auto t) {
    using T = decltype(t);
    const auto kernel = table<T>().softmax_backward[log];
    const T *gp = g.data_as<T>(), *yp = yc.data_as<T>();
    T* dxp = dx.data_as<T>();
    for_each_slice(outer, C, inner, log ? 10 : 3,
                   [&](int64_t off, int64_t j0, int64_t j1) { kernel(gp + off, yp + off, dxp + off, C, inner, j0, j1); });
  });
  return dx;
}

template <class T>
void bias_act_backward(Activation act, int64_t M, int64_t N, const T* dy, const T* saved, T* dz, T* db, T leaky_slope) {
  const auto kernel = table<T>().bias_act_backward[static_cast<int>(act)];
  // Threads split the columns, so each bias element is summed by one thread in row order: the result
  // does not depend on the thread count. Blocks of 1024 columns keep db's slice in L1.
  constexpr int64_t block = 1024;
  const int64_t blocks = (N + block - 1) / block;
  const int64_t cost = (act == Activation::Gelu ? 40 : act == Activation::None || act == Activation::Relu ? 1 : 10);
  parallel_for(blocks, M * std::min(N, block) * cost, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      kernel(dy, saved, dz, db, M, N, b * block, std::min(N, (b + 1) * block), leaky_slope);
  });
}
template void bias_act_backward<float>(Activation, int64_t, int64_t, const float*, const float*, float*, float*, float);
template void bias_act_backward<double>(Activation, int64_t, int64_t, const double*, const double*, double*, double*,
                                        double);

std::pair<Tensor, Tensor> bias_act_backward(Activation act, const Tensor& dy, const Tensor& saved, const Tensor& db,
                                            double leaky_slope) {
  if (dy.ndim() != 2) throw ValueError(cat("bias_act_backward: dy must be 2-D (M, N), got shape ", dy.shape()));
  if (!is_floating(dy.dtype()))
    throw TypeError(cat("bias_act_backward: dy must be float32 or float64, got ", dtype_name(dy.dtype())));
  const bool reads_saved = act != Activation::None;
  if (reads_saved) {
    if (!saved.defined()) throw ValueError("bias_act_backward: this activation needs its saved tensor");
    check_same_shape("bias_act_backward", dy, saved);
    if (saved.dtype() != dy.dtype())
      throw TypeError(cat("bias_act_backward: saved tensor is ", dtype_name(saved.dtype()), " but dy is ",
                          dtype_name(dy.dtype())));
  }
  const Device device = common_device("bias_act_backward", {&dy, &saved, &db});
  const int64_t M = dy.shape(0), N = dy.shape(1);
  Tensor bias_grad = db;
  if (bias_grad.defined()) {
    if (bias_grad.ndim() != 1 || bias_grad.shape(0) != N || bias_grad.dtype() != dy.dtype() || !bias_grad.is_contiguous())
      throw ValueError(cat("bias_act_backward: db must be a contiguous ", dtype_name(dy.dtype()), " vector of length ", N,
                           ", got shape ", bias_grad.shape(), " ", dtype_name(bias_grad.dtype())));
    bias_grad.prepare_write("bias_act_backward: db");
  } else {
    bias_grad = Tensor::empty(Dims{N}, dy.dtype(), device);
    fill(bias_grad, 0.0);
  }
  const Tensor g = contiguous(dy), s = reads_saved ? contiguous(saved) : Tensor{};
  Tensor dz = Tensor::empty(dy.shape(), dy.dtype(), device);
  if (M == 0 || N == 0) return {dz, bias_grad};
  if (!device.is_cpu()) {
    cuda::bias_act_backward(act, g, s, dz, bias_grad, leaky_slope);
    return {dz, bias_grad};
  }
  visit_float(dy.dtype(), [&](auto t) {
    using T = decltype(t);
    bias_act_backward<T>(act, M, N, g.data_as<T>(), reads_saved ? s.data_as<T>() : nullptr, dz.data_as<T>(),
                         bias_grad.data_as<T>(), static_cast<T>(leaky_slope));
  });
  return {dz, bias_grad};
}

Tensor activation_reference(ActKind kind, const Tensor& x_or_saved, const Tensor& dy, const ActParams& params) {
  require_cpu("activation_reference", {&x_or_saved, &dy});
  const DType dt = compute_dtype(x_or_saved.dtype());
  const Tensor s = contiguous(as_dtype(x_or_saved, dt));
  if (dy.defined()) check_same_shape("activation_reference", dy, x_or_saved);
  const Tensor g = dy.defined() ? contiguous(as_dtype(dy, dt)) : Tensor{};
  Tensor out = Tensor::empty(s.shape(), dt);
  visit_float(dt, [&](auto t) {
    using T = decltype(t);
    act::visit_kind<T>(kind, params, [&](auto f) {
      const T* sp = s.data_as<T>();
      T* op = out.data_as<T>();
      for (int64_t i = 0; i < s.numel(); ++i) op[i] = g.defined() ? f.bwd(g.data_as<T>()[i], sp[i]) : f.fwd(sp[i]);
    });
  });
  return out;
}

}  // namespace fusednn
