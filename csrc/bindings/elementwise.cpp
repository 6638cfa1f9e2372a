// Python bindings of the elementwise family: unary/binary ops by enum, in-place binary ops, where, clip,
// round, casts and copies. Python scalars are NumPy 2 "weak" scalars (convert.h's binary_operands).
#include "bindings/convert.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"

namespace fusednn::bind {

namespace {

// A Python scalar as a tensor of the widest dtype of its kind, for assignment (cast later to dst's dtype).
Tensor assignment_source(py::handle value) {
  if (!is_python_scalar(value)) return any_device_tensor(value);
  if (PyBool_Check(value.ptr())) return scalar_tensor(value, DType::Bool);
  if (PyLong_Check(value.ptr())) return scalar_tensor(value, DType::Int64);
  return scalar_tensor(value, DType::Float64);
}

// A bound of clip/where resolved against x like a binary operand (weak Python scalars); None -> undefined.
Tensor operand_like(const Tensor& x, py::handle value) {
  if (value.is_none()) return Tensor{};
  return binary_operands(py::cast(x), value).second;
}

}  // namespace

void init_elementwise(py::module_& m) {
  py::enum_<UnaryOp>(m, "UnaryOp")
      .value("negative", UnaryOp::Neg).value("absolute", UnaryOp::Abs).value("sign", UnaryOp::Sign)
      .value("square", UnaryOp::Square).value("sqrt", UnaryOp::Sqrt).value("reciprocal", UnaryOp::Reciprocal)
      .value("exp", UnaryOp::Exp).value("expm1", UnaryOp::Expm1).value("log", UnaryOp::Log)
      .value("log1p", UnaryOp::Log1p).value("sin", UnaryOp::Sin).value("cos", UnaryOp::Cos)
      .value("tanh", UnaryOp::Tanh).value("sigmoid", UnaryOp::Sigmoid).value("floor", UnaryOp::Floor)
      .value("ceil", UnaryOp::Ceil).value("rint", UnaryOp::Round).value("logical_not", UnaryOp::LogicalNot)
      .value("isnan", UnaryOp::IsNan).value("isinf", UnaryOp::IsInf).value("isfinite", UnaryOp::IsFinite)
      .value("invert", UnaryOp::Invert);
  py::enum_<BinaryOp>(m, "BinaryOp")
      .value("add", BinaryOp::Add).value("subtract", BinaryOp::Sub).value("multiply", BinaryOp::Mul)
      .value("divide", BinaryOp::Div).value("floor_divide", BinaryOp::FloorDiv).value("remainder", BinaryOp::Mod)
      .value("power", BinaryOp::Pow).value("maximum", BinaryOp::Maximum).value("minimum", BinaryOp::Minimum)
      .value("equal", BinaryOp::Eq).value("not_equal", BinaryOp::Ne).value("less", BinaryOp::Lt)
      .value("less_equal", BinaryOp::Le).value("greater", BinaryOp::Gt).value("greater_equal", BinaryOp::Ge)
      .value("logical_and", BinaryOp::LogicalAnd).value("logical_or", BinaryOp::LogicalOr)
      .value("logical_xor", BinaryOp::LogicalXor).value("bitwise_and", BinaryOp::BitAnd)
      .value("bitwise_or", BinaryOp::BitOr).value("bitwise_xor", BinaryOp::BitXor);

  m.def("unary", [](UnaryOp op, py::handle x) {
    const Tensor t = any_device_tensor(x);
    GilRelease gil(t.numel());
    return unary(op, t);
  }, py::arg("op"), py::arg("x"));
  m.def("binary", [](BinaryOp op, py::handle a, py::handle b) {
    auto [ta, tb] = binary_operands(a, b);
    GilRelease gil(std::max(ta.numel(), tb.numel()));
    return binary(op, ta, tb);
  }, py::arg("op"), py::arg("a"), py::arg("b"));
  m.def("binary_inplace", [](BinaryOp op, const Tensor& a, py::handle b) {
    const Tensor tb = binary_operands(py::cast(a), b).second;
    GilRelease gil(a.numel());
    binary_inplace(op, a, tb);
  }, py::arg("op"), py::arg("a"), py::arg("b"));
  m.def("round", [](py::handle x, int decimals) {
    const Tensor t = any_device_tensor(x);
    GilRelease gil(t.numel());
    return round(t, decimals);
  }, py::arg("x"), py::arg("decimals") = 0);
  m.def("where", [](py::handle condition, py::handle a, py::handle b) {
    const Tensor c = any_device_tensor(condition);
    auto [ta, tb] = binary_operands(a, b);
    GilRelease gil(c.numel() + ta.numel() + tb.numel());
    return where(c, ta, tb);
  }, py::arg("condition"), py::arg("x"), py::arg("y"));
  m.def("clip", [](py::handle x, py::handle lo, py::handle hi) {
    const Tensor t = any_device_tensor(x);
    const Tensor tl = operand_like(t, lo), th = operand_like(t, hi);
    GilRelease gil(t.numel());
    return clip(t, tl, th);
  }, py::arg("x"), py::arg("a_min"), py::arg("a_max"));
  m.def("astype", [](py::handle x, py::handle dtype) {
    const Tensor t = any_device_tensor(x);
    const DType d = dtype_from_py(dtype);
    GilRelease gil(t.numel());
    return astype(t, d);
  }, py::arg("x"), py::arg("dtype"));
  m.def("contiguous", [](py::handle x) {
    const Tensor t = any_device_tensor(x);
    GilRelease gil(t.numel());
    return contiguous(t);
  }, py::arg("x"));
  m.def("_copy_into", [](const Tensor& dst, py::handle src) {
    const Tensor s = assignment_source(src);
    GilRelease gil(dst.numel());
    copy_into(dst, s);
  }, py::arg("dst"), py::arg("src"), "dst[...] = src: broadcast, cast (unsafe, as NumPy item assignment), overlap-safe.");
  m.def("fill", [](const Tensor& dst, py::handle value) {
    const Tensor s = assignment_source(value);
    if (s.numel() != 1) throw ValueError(cat("fill: expected a scalar value, got an array of shape ", s.shape()));
    GilRelease gil(dst.numel());
    copy_into(dst, s.as_strided(Dims{}, Dims{}, s.offset()));
  }, py::arg("dst"), py::arg("value"));
}

}  // namespace fusednn::bind
