// Python bindings of the shape family: module functions (called by python/fusednn/shape.py) and the
// hot Tensor methods (reshape, transpose, .T, permute, ravel, flatten, squeeze, swapaxes) directly.
// Tensors stay on their device; joining tensors from different devices raises ValueError.
#include <pybind11/stl.h>

#include "bindings/convert.h"
#include "fusednn/shape.h"

namespace fusednn::bind {

namespace {

// t.reshape(2, 3) and t.reshape((2, 3)) both mean shape (2, 3); t.transpose(1, 0) likewise.
Dims varargs_dims(const py::args& args) {
  if (args.size() == 1 && !PyLong_Check(args[0].ptr()) && PySequence_Check(args[0].ptr())) return to_shape(args[0]);
  Dims d;
  for (py::handle a : args) d.push_back(to_shape(a)[0]);
  return d;
}

Tensor transpose_py(const Tensor& x, py::handle axes) {
  return transpose(x, axes.is_none() ? Dims{} : to_shape(axes));
}

Tensor squeeze_py(const Tensor& x, py::handle axis) {
  return axis.is_none() ? squeeze_all(x) : squeeze(x, to_shape(axis));
}

std::vector<Tensor> tensors(py::handle seq) {
  std::vector<Tensor> out;
  for (py::handle obj : py::reinterpret_borrow<py::iterable>(seq)) out.push_back(any_device_tensor(obj));
  return out;
}

std::vector<Tensor> unbind_rows(const Tensor& x) {
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x.shape(0); ++i) out.push_back(x.select(0, i));
  return out;
}

// The arrays to join: a list/tuple of array-likes, or an array seen as the sequence of its rows (NumPy).
std::vector<Tensor> as_sequence(py::handle seq) {
  if (py::isinstance<Tensor>(seq) || py::isinstance<py::array>(seq)) {
    const Tensor t = any_device_tensor(seq);
    if (t.ndim() == 0) throw TypeError("a 0-d array is not a sequence of arrays");
    return unbind_rows(t);
  }
  return tensors(seq);
}

int64_t total_numel(const std::vector<Tensor>& xs) {
  int64_t n = 0;
  for (const Tensor& t : xs) n += t.numel();
  return n;
}

Tensor concatenate_py(py::handle seq, py::handle axis) {
  std::vector<Tensor> xs = as_sequence(seq);
  if (axis.is_none())
    for (Tensor& t : xs) t = ravel(t);
  const int64_t ax = axis.is_none() ? 0 : to_shape(axis)[0];
  GilRelease gil(total_numel(xs));
  return concatenate(xs, ax);
}

Tensor stack_py(py::handle seq, int64_t axis) {
  const std::vector<Tensor> xs = as_sequence(seq);
  GilRelease gil(total_numel(xs));
  return stack(xs, axis);
}

std::vector<Tensor> split_py(py::handle x, py::handle sections, int64_t axis, bool equal) {
  const Tensor t = any_device_tensor(x);
  if (!PyLong_Check(sections.ptr()) && PySequence_Check(sections.ptr())) {
    const Dims b = to_shape(sections);
    return split_at(t, std::vector<int64_t>(b.begin(), b.end()), axis);
  }
  const int64_t n = to_shape(sections)[0];
  if (equal && n > 0 && t.shape(normalize_axis(axis, t.ndim())) % n != 0)
    throw ValueError("array split does not result in an equal division");
  return array_split(t, n, axis);
}

PadMode pad_mode(const std::string& mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "edge") return PadMode::Edge;
  if (mode == "reflect") return PadMode::Reflect;
  throw ValueError(cat("mode '", mode, "' is not supported: fusednn.pad supports 'constant', 'edge' and 'reflect'"));
}

}  // namespace

void init_shape(py::module_& m) {
  m.def("reshape", [](py::handle x, py::handle shape) { return reshape(any_device_tensor(x), to_shape(shape)); },
        py::arg("a"), py::arg("shape"));
  m.def("transpose", [](py::handle x, py::handle axes) { return transpose_py(any_device_tensor(x), axes); },
        py::arg("a"), py::arg("axes") = py::none());
  m.def("moveaxis", [](py::handle x, py::handle src, py::handle dst) {
    return moveaxis(any_device_tensor(x), to_shape(src), to_shape(dst));
  }, py::arg("a"), py::arg("source"), py::arg("destination"));
  m.def("expand_dims", [](py::handle x, py::handle axis) { return expand_dims(any_device_tensor(x), to_shape(axis)); },
        py::arg("a"), py::arg("axis"));
  m.def("squeeze", [](py::handle x, py::handle axis) { return squeeze_py(any_device_tensor(x), axis); },
        py::arg("a"), py::arg("axis") = py::none());
  m.def("ravel", [](py::handle x) { return ravel(any_device_tensor(x)); }, py::arg("a"));
  m.def("flatten", [](py::handle x) { return flatten(any_device_tensor(x)); }, py::arg("a"));
  m.def("broadcast_to", [](py::handle x, py::handle shape) {
    return broadcast_to(any_device_tensor(x), to_shape(shape));
  }, py::arg("array"), py::arg("shape"));
  m.def("broadcast_arrays", [](py::args xs) { return broadcast_tensors(tensors(xs)); });
  m.def("concatenate", &concatenate_py, py::arg("arrays"), py::arg("axis") = 0);
  m.def("stack", &stack_py, py::arg("arrays"), py::arg("axis") = 0);
  m.def("split", [](py::handle x, py::handle s, int64_t axis) { return split_py(x, s, axis, true); },
        py::arg("ary"), py::arg("indices_or_sections"), py::arg("axis") = 0);
  m.def("array_split", [](py::handle x, py::handle s, int64_t axis) { return split_py(x, s, axis, false); },
        py::arg("ary"), py::arg("indices_or_sections"), py::arg("axis") = 0);
  m.def("pad", [](py::handle x, const std::vector<std::pair<int64_t, int64_t>>& widths, const std::string& mode,
                  const std::vector<std::pair<double, double>>& values) {
    const Tensor t = any_device_tensor(x);
    GilRelease gil(t.numel());
    return pad(t, widths, pad_mode(mode), values);
  }, py::arg("array"), py::arg("widths"), py::arg("mode"), py::arg("values"));

  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  // Every shape op works on any device: views share the tensor's memory, copies are made on its device.
  cls.def("reshape", [](const Tensor& x, py::args shape) { return reshape(x, varargs_dims(shape)); },
          "t.reshape(2, 3) or t.reshape((2, 3)): a view when the strides allow, else a copy; one -1 is inferred.");
  cls.def("transpose", [](const Tensor& x, py::args axes) {
    return axes.size() == 0 || (axes.size() == 1 && axes[0].is_none()) ? transpose(x, Dims{}) : x.permute(varargs_dims(axes));
  }, "t.transpose() reverses the axes; t.transpose(1, 0) or t.transpose((1, 0)) permutes them (a view).");
  cls.def("permute", [](const Tensor& x, py::args axes) { return x.permute(varargs_dims(axes)); },
          "t.permute(1, 0): PyTorch's name for transpose with explicit axes (a view).");
  cls.def_property_readonly("T", [](const Tensor& x) { return transpose(x, Dims{}); }, "The transpose (a view).");
  cls.def("ravel", [](const Tensor& x) { return ravel(x); }, "1-d, a view when possible.");
  cls.def("flatten", [](const Tensor& x) { return flatten(x); }, "1-d copy.");
  cls.def("squeeze", &squeeze_py, py::arg("axis") = py::none(), "Drops size-1 axes (all, or the given ones).");
  cls.def("swapaxes", [](const Tensor& x, int64_t a, int64_t b) {
    return x.transpose(normalize_axis(a, x.ndim()), normalize_axis(b, x.ndim()));
  }, py::arg("axis1"), py::arg("axis2"), "Exchanges two axes (a view).");
}

}  // namespace fusednn::bind
