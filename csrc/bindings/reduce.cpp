// Python bindings of the reduce family: _reduce(op, x, axis, dtype, keepdims, ddof) for sum/prod/max/min/
// all/any/mean/var/std and _argreduce(is_max, x, axis, keepdims).
#include <string>
#include <utility>

#include "bindings/convert.h"
#include "fusednn/errors.h"
#include "fusednn/reduce.h"

namespace fusednn::bind {
namespace {

ReduceOp parse_op(const std::string& name) {
  static const std::pair<const char*, ReduceOp> ops[] = {
      {"sum", ReduceOp::Sum}, {"prod", ReduceOp::Prod}, {"max", ReduceOp::Max}, {"min", ReduceOp::Min},
      {"all", ReduceOp::All}, {"any", ReduceOp::Any},   {"mean", ReduceOp::Mean}, {"var", ReduceOp::Var},
      {"std", ReduceOp::Std}};
  for (const auto& [n, op] : ops)
    if (name == n) return op;
  throw ValueError(cat("unknown reduction '", name, "'"));
}

}  // namespace

void init_reduce(py::module_& m) {
  m.def(
      "_reduce",
      [](const std::string& name, py::handle x, py::handle axis, py::handle dtype, bool keepdims, double ddof) {
        const ReduceOp op = parse_op(name);
        const Tensor t = any_device_tensor(x);
        const Dims axes = to_axes(axis, t.ndim());
        const std::optional<DType> dt = optional_dtype(dtype);
        if (dt && (op == ReduceOp::Max || op == ReduceOp::Min || op == ReduceOp::All || op == ReduceOp::Any))
          throw TypeError(cat(name, "() got an unexpected keyword argument 'dtype'"));
        GilRelease gil(t.numel());
        return reduce(op, t, axes, keepdims, dt, ddof);
      },
      py::arg("op"), py::arg("x"), py::arg("axis") = py::none(), py::arg("dtype") = py::none(),
      py::arg("keepdims") = false, py::arg("ddof") = 0.0);
  m.def(
      "_argreduce",
      [](bool is_max, py::handle x, py::handle axis, bool keepdims) {
        const Tensor t = any_device_tensor(x);
        std::optional<int> a;
        if (!axis.is_none()) a = to_axis(axis, t.ndim());
        GilRelease gil(t.numel());
        return is_max ? argmax(t, a, keepdims) : argmin(t, a, keepdims);
      },
      py::arg("is_max"), py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
}

}  // namespace fusednn::bind
