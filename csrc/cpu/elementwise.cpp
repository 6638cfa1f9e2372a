// Elementwise driver: NumPy 2 dtype rules, broadcasting, casting, devices and output allocation; the
// per-ISA inner loops (elementwise_loops.cpp) or the CUDA kernels (cuda/elementwise.cu) do the arithmetic.
#include <limits>

#include "core/loop.h"
#include "cpu/elementwise_kernels.h"
#include "fusednn/device.h"
#include "fusednn/errors.h"

namespace fusednn {

namespace {

const cpu::ElementwiseKernels& kernels() {
  return select_isa(cpu::ref::elementwise_kernels, cpu::avx2::elementwise_kernels, cpu::avx512::elementwise_kernels);
}

const char* ufunc_name(UnaryOp op) {
  static constexpr const char* names[cpu::kNumUnary] = {
      "negative", "absolute", "sign", "square", "sqrt", "reciprocal", "exp", "expm1", "log", "log1p", "sin",
      "cos", "tanh", "sigmoid", "floor", "ceil", "round", "logical_not", "isnan", "isinf", "isfinite", "invert"};
  return names[static_cast<int>(op)];
}
const char* ufunc_name(BinaryOp op) {
  static constexpr const char* names[cpu::kNumBinary] = {
      "add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power", "maximum", "minimum",
      "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
      "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"};
  return names[static_cast<int>(op)];
}

// Work per element in "element operations": decides only whether threads pay off.
int64_t unary_cost(UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp: case UnaryOp::Expm1: case UnaryOp::Log: case UnaryOp::Log1p:
    case UnaryOp::Tanh: case UnaryOp::Sigmoid: return 10;
    case UnaryOp::Sin: case UnaryOp::Cos: return 20;
    default: return 1;
  }
}
int64_t binary_cost(BinaryOp op, DType compute) {
  switch (op) {
    case BinaryOp::Pow: return 20;
    case BinaryOp::FloorDiv: case BinaryOp::Mod: return 10;
    case BinaryOp::Div: return is_floating(compute) ? 2 : 10;
    default: return 1;
  }
}

[[noreturn]] void no_loop(const char* name, DType a) {
  throw TypeError(cat("ufunc '", name, "' not supported for the input type ", dtype_name(a)));
}
[[noreturn]] void no_loop(const char* name, DType a, DType b) {
  throw TypeError(cat("ufunc '", name, "' not supported for the input types ", dtype_name(a), " and ", dtype_name(b)));
}

// The dtype a unary op computes in (its input is cast to it first). Where NumPy would use float16 or
// int8 (exp/sqrt/round of bool, square/reciprocal of bool), we use float32 and int32: we have no smaller types.
DType unary_compute_dtype(UnaryOp op, DType x) {
  switch (op) {
    case UnaryOp::Neg:
      if (x == DType::Bool)
        throw TypeError("The numpy boolean negative, the `-` operator, is not supported, use the `~` operator "
                        "or the logical_not function instead.");
      return x;
    case UnaryOp::Square: case UnaryOp::Reciprocal:
      return x == DType::Bool ? DType::Int32 : x;
    case UnaryOp::Sqrt: case UnaryOp::Exp: case UnaryOp::Expm1: case UnaryOp::Log: case UnaryOp::Log1p:
    case UnaryOp::Sin: case UnaryOp::Cos: case UnaryOp::Tanh: case UnaryOp::Sigmoid:
      return x == DType::Bool ? DType::Float32 : is_integer(x) ? DType::Float64 : x;
    case UnaryOp::Round:
      return x == DType::Bool ? DType::Float32 : x;
    default:
      return x;
  }
}

DType binary_compute_dtype(BinaryOp op, DType a, DType b) {
  const DType p = promote_types(a, b);
  switch (op) {
    case BinaryOp::Sub:
      if (p == DType::Bool)
        throw TypeError("numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` "
                        "operator, or the logical_xor function instead.");
      return p;
    case BinaryOp::Div:
      return is_floating(p) ? p : DType::Float64;
    case BinaryOp::FloorDiv: case BinaryOp::Mod: case BinaryOp::Pow:
      return p == DType::Bool ? DType::Int32 : p;  // NumPy: int8
    default:
      return p;
  }
}

InnerLoop unary_loop(UnaryOp op, DType compute, DType input) {
  InnerLoop loop = kernels().unary[static_cast<int>(op)][static_cast<int>(compute)];
  if (!loop) no_loop(ufunc_name(op), input);
  return loop;
}
InnerLoop binary_loop(BinaryOp op, DType compute, DType a, DType b) {
  InnerLoop loop = kernels().binary[static_cast<int>(op)][static_cast<int>(compute)];
  if (!loop) no_loop(ufunc_name(op), a, b);
  return loop;
}

Tensor as_dtype(const Tensor& x, DType dtype) { return x.dtype() == dtype ? x : astype(x, dtype); }

// dst = src elementwise with conversion; src already has dst's shape, is on its device and does not
// overlap it.
void cast_into(const Tensor& dst, const Tensor& src) {
  if (!dst.device().is_cpu()) return cuda::cast_into(dst, src);
  InnerLoop loop = kernels().cast[static_cast<int>(dst.dtype())][static_cast<int>(src.dtype())];
  for_each_element(dst.shape(), {&dst, &src}, loop, nullptr, 1);
}

bool same_view(const Tensor& a, const Tensor& b) {
  return a.data() == b.data() && a.shape() == b.shape() && a.strides() == b.strides() && a.dtype() == b.dtype();
}

// src broadcast to `shape` for assignment (NumPy also drops src's leading size-1 axes beyond dst's ndim).
Tensor broadcast_for_assignment(const Tensor& src, const Dims& shape) {
  Tensor s = src;
  while (s.ndim() > shape.size() && s.shape(0) == 1) s = s.squeeze(0);
  bool ok = s.ndim() <= shape.size();
  for (int i = 0; ok && i < s.ndim(); ++i) {
    const int64_t have = s.shape(i), want = shape[shape.size() - s.ndim() + i];
    ok = have == want || have == 1;
  }
  if (!ok) throw ValueError(cat("could not broadcast input array from shape ", src.shape(), " into shape ", shape));
  return s.expand(shape);
}

Tensor run_unary(UnaryOp op, const Tensor& x, const void* ctx) {
  const DType compute = unary_compute_dtype(op, x.dtype());
  const InnerLoop loop = unary_loop(op, compute, x.dtype());
  const Tensor in = as_dtype(x, compute);
  Tensor out = Tensor::empty(x.shape(), unary_result_dtype(op, x.dtype()), x.device());
  if (x.device().is_cpu()) for_each_element(x.shape(), {&out, &in}, loop, ctx, unary_cost(op));
  else cuda::unary(op, out, in, ctx);
  return out;
}

// x converted to `dtype`, on `device`, expanded to `shape`: an operand ready for the loops.
Tensor operand(const Tensor& x, DType dtype, Device device, const Dims& shape) {
  Tensor t = as_dtype(x, dtype);
  if (t.device() != device) t = to_device(t, device);  // a host scalar joining device operands
  return t.expand(shape);
}

// Runs out = a op b over `shape` (a, b already in the compute dtype and broadcast); raises NumPy's error
// for integer powers with a negative exponent.
void run_binary(BinaryOp op, DType compute, const Tensor& out, const Tensor& a, const Tensor& b, InnerLoop loop) {
  bool negative_exponent = false;
  if (out.device().is_cpu()) {
    cpu::PowParams pow_params;
    for_each_element(out.shape(), {&out, &a, &b}, loop, &pow_params, binary_cost(op, compute));
    negative_exponent = pow_params.negative_exponent.load();
  } else {
    negative_exponent = cuda::binary(op, out, a, b);
  }
  if (negative_exponent) throw ValueError("Integers to negative integer powers are not allowed.");
}

int kind_rank(DType d) { return d == DType::Bool ? 0 : is_integer(d) ? 1 : 2; }

// A bound of clip when none was given: the dtype's lowest/highest value (infinities for floats).
Tensor unbounded(DType dtype, bool upper) {
  Tensor t = Tensor::empty(Dims{}, dtype);
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    using L = std::numeric_limits<T>;
    if constexpr (L::has_infinity) *t.data_as<T>() = upper ? L::infinity() : -L::infinity();
    else *t.data_as<T>() = upper ? L::max() : L::lowest();
  });
  return t;
}

}  // namespace

DType unary_result_dtype(UnaryOp op, DType x) {
  return cpu::unary_gives_bool(op) ? DType::Bool : unary_compute_dtype(op, x);
}
DType binary_result_dtype(BinaryOp op, DType a, DType b) {
  return cpu::binary_gives_bool(op) ? DType::Bool : binary_compute_dtype(op, a, b);
}

Tensor unary(UnaryOp op, const Tensor& x) { return run_unary(op, x, nullptr); }

Tensor round(const Tensor& x, int decimals) {
  return run_unary(UnaryOp::Round, x, &decimals);
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Dims shape = broadcast_shapes(a.shape(), b.shape());
  const DType compute = binary_compute_dtype(op, a.dtype(), b.dtype());
  const InnerLoop loop = binary_loop(op, compute, a.dtype(), b.dtype());
  const Device device = common_device(ufunc_name(op), {&a, &b});
  const Tensor ea = operand(a, compute, device, shape), eb = operand(b, compute, device, shape);
  Tensor out = Tensor::empty(shape, binary_result_dtype(op, a.dtype(), b.dtype()), device);
  run_binary(op, compute, out, ea, eb, loop);
  return out;
}

void binary_inplace(BinaryOp op, const Tensor& a, const Tensor& b) {
  a.prepare_write();
  const DType compute = binary_compute_dtype(op, a.dtype(), b.dtype());
  const DType result = binary_result_dtype(op, a.dtype(), b.dtype());
  if (kind_rank(result) > kind_rank(a.dtype()))
    throw TypeError(cat("Cannot cast ufunc '", ufunc_name(op), "' output from dtype('", dtype_name(result),
                        "') to dtype('", dtype_name(a.dtype()), "') with casting rule 'same_kind'"));
  const Dims shape = broadcast_shapes(a.shape(), b.shape());
  if (shape != a.shape())
    throw ValueError(cat("non-broadcastable output operand with shape ", a.shape(),
                         " doesn't match the broadcast shape ", shape));
  if (compute != a.dtype() || result != a.dtype()) {  // compute in a temporary, then cast back
    copy_into(a, binary(op, a, b));
    return;
  }
  const InnerLoop loop = binary_loop(op, compute, a.dtype(), b.dtype());
  common_device(ufunc_name(op), {&a, &b});  // raises for a mix of devices
  Tensor eb = to_device(as_dtype(b, compute), a.device());
  if (!same_view(a, eb) && a.may_overlap(eb)) eb = astype(eb, compute);  // a[1:] += a[:-1] reads old values
  run_binary(op, compute, a, a, eb.expand(shape), loop);
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  const Dims shape = broadcast_shapes(broadcast_shapes(condition.shape(), a.shape()), b.shape());
  const DType dtype = promote_types(a.dtype(), b.dtype());
  const Device device = common_device("where", {&condition, &a, &b});
  const Tensor c = operand(condition, DType::Bool, device, shape);
  const Tensor ea = operand(a, dtype, device, shape), eb = operand(b, dtype, device, shape);
  Tensor out = Tensor::empty(shape, dtype, device);
  if (device.is_cpu()) for_each_element(shape, {&out, &c, &ea, &eb}, kernels().where[static_cast<int>(dtype)], nullptr, 1);
  else cuda::where(out, c, ea, eb);
  return out;
}

Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  DType dtype = x.dtype();
  if (lo.defined()) dtype = promote_types(dtype, lo.dtype());
  if (hi.defined()) dtype = promote_types(dtype, hi.dtype());
  const Tensor l = lo.defined() ? as_dtype(lo, dtype) : unbounded(dtype, false);
  const Tensor h = hi.defined() ? as_dtype(hi, dtype) : unbounded(dtype, true);
  const Dims shape = broadcast_shapes(broadcast_shapes(x.shape(), l.shape()), h.shape());
  const Device device = common_device("clip", {&x, &l, &h});
  const Tensor ex = operand(x, dtype, device, shape), el = operand(l, dtype, device, shape);
  const Tensor eh = operand(h, dtype, device, shape);
  Tensor out = Tensor::empty(shape, dtype, device);
  if (device.is_cpu()) for_each_element(shape, {&out, &ex, &el, &eh}, kernels().clip[static_cast<int>(dtype)], nullptr, 1);
  else cuda::clip(out, ex, el, eh);
  return out;
}

Tensor astype(const Tensor& x, DType dtype) {
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  cast_into(out, x);
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : astype(x, x.dtype()); }

void copy_into(const Tensor& dst, const Tensor& src) {
  dst.prepare_write();
  const Tensor here = to_device(src, dst.device());  // copies between devices are allowed, as in torch
  Tensor s = broadcast_for_assignment(here, dst.shape());
  if (dst.numel() == 0 || same_view(dst, s)) return;
  if (dst.may_overlap(s)) s = broadcast_for_assignment(astype(here, here.dtype()), dst.shape());
  cast_into(dst, s);
}

void fill(const Tensor& dst, double value) {
  Tensor v = Tensor::empty(Dims{}, DType::Float64);
  *v.data_as<double>() = value;
  copy_into(dst, v);
}

}  // namespace fusednn
