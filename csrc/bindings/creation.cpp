// Python bindings of the creation family: empty/full, arange, linspace, eye, and the tensor/asarray
// conversions (zero-copy where NumPy's rules allow, a cast otherwise). Defaults are resolved in
// python/fusednn/creation.py; shapes and dtypes are validated here.
#include "bindings/convert.h"
#include "fusednn/creation.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"

namespace fusednn::bind {

namespace {

bool shares_memory(py::handle obj) { return py::isinstance<Tensor>(obj) || py::isinstance<py::array>(obj); }

// A copy of obj's data (in dtype if given): a cast of Tensors and arrays; the fresh tensor a sequence or
// scalar converts to.
Tensor copied(py::handle obj, py::handle dtype) {
  const Tensor t = any_device_tensor(obj);
  const DType dt = dtype.is_none() ? t.dtype() : dtype_from_py(dtype);
  if (!shares_memory(obj) && dt == t.dtype()) return t;
  GilRelease gil(t.numel());
  return astype(t, dt);
}

py::object as_tensor(py::handle obj, py::handle dtype, py::handle copy) {
  if (!copy.is_none() && copy.cast<bool>()) return py::cast(copied(obj, dtype));
  const bool no_copy = !copy.is_none();
  if (no_copy && !shares_memory(obj))
    throw ValueError(cat("asarray: a ", Py_TYPE(obj.ptr())->tp_name, " needs a copy to become a tensor, but copy=False"));
  const Tensor t = any_device_tensor(obj);
  const DType dt = dtype.is_none() ? t.dtype() : dtype_from_py(dtype);
  if (dt != t.dtype()) {
    if (no_copy && shares_memory(obj))
      throw ValueError(cat("asarray: converting ", dtype_name(t.dtype()), " to ", dtype_name(dt), " needs a copy, but copy=False"));
    GilRelease gil(t.numel());
    return py::cast(astype(t, dt));
  }
  if (py::isinstance<Tensor>(obj)) return py::reinterpret_borrow<py::object>(obj);  // the same object, as NumPy
  return py::cast(t);
}

// full(shape, value, dtype, device): Python floats through fill; ints and bools exactly (bounds checked for
// the dtype); arrays and tensors broadcast to the shape. Made where it is asked for (None: the host).
Tensor full_of(py::handle shape, py::handle value, py::handle dtype, py::handle device) {
  const DType dt = dtype_from_py(dtype);
  const Device d = device.is_none() ? Device::cpu() : device_from_py(device);
  if (PyFloat_Check(value.ptr())) {
    const Dims dims = to_shape(shape);
    const double v = value.cast<double>();
    GilRelease gil(dims.product());
    return full(dims, dt, v, d);
  }
  const Tensor v = is_python_scalar(value) ? scalar_tensor(value, dt) : any_device_tensor(value);
  Tensor out = Tensor::empty(to_shape(shape), dt, d);
  GilRelease gil(out.numel());
  copy_into(out, v);
  return out;
}

}  // namespace

void init_creation(py::module_& m) {
  m.def("_copy", &copied, py::arg("data"), py::arg("dtype"));
  m.def("_asarray", &as_tensor, py::arg("obj"), py::arg("dtype"), py::arg("copy"));
  m.def("_full", &full_of, py::arg("shape"), py::arg("value"), py::arg("dtype"), py::arg("device") = py::none());
  m.def("empty", [](py::handle shape, py::handle dtype) { return Tensor::empty(to_shape(shape), dtype_from_py(dtype)); },
        py::arg("shape"), py::arg("dtype"));
  m.def("_arange_int", [](int64_t start, int64_t stop, int64_t step, py::handle dtype) {
    const DType dt = dtype_from_py(dtype);
    GilRelease gil(arange_length(start, stop, step));
    return arange(start, stop, step, dt);
  }, py::arg("start"), py::arg("stop"), py::arg("step"), py::arg("dtype"));
  m.def("_arange_float", [](double start, double stop, double step, py::handle dtype) {
    const DType dt = dtype_from_py(dtype);
    GilRelease gil(arange_length(start, stop, step));
    return arange(start, stop, step, dt);
  }, py::arg("start"), py::arg("stop"), py::arg("step"), py::arg("dtype"));
  m.def("_linspace", [](double start, double stop, int64_t num, bool endpoint, py::handle dtype) {
    const DType dt = dtype_from_py(dtype);
    double step = 0;
    Tensor out;
    {
      GilRelease gil(num);
      out = linspace(start, stop, num, endpoint, dt, &step);
    }
    return py::make_tuple(out, step);
  }, py::arg("start"), py::arg("stop"), py::arg("num"), py::arg("endpoint"), py::arg("dtype"));
  m.def("eye", [](int64_t n, int64_t mcols, int64_t k, py::handle dtype) {
    const DType dt = dtype_from_py(dtype);
    return eye(n, mcols, k, dt);
  }, py::arg("N"), py::arg("M"), py::arg("k"), py::arg("dtype"));
}

}  // namespace fusednn::bind
