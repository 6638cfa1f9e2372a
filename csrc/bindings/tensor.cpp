// The Python Tensor type: its metadata properties, the buffer protocol and __array__ (zero-copy to
// NumPy), and zero-copy construction from NumPy arrays and other array-likes.
#include <pybind11/stl.h>

#include "bindings/convert.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"

namespace fusednn::bind {

namespace {

py::tuple dims_tuple(const Dims& d, int64_t scale = 1) {
  py::tuple out(d.size());
  for (int i = 0; i < d.size(); ++i) out[i] = py::int_(d[i] * scale);
  return out;
}

const char* buffer_format(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "?";
    case DType::Int32: return "i";
    case DType::Int64: return "q";
    case DType::Float32: return "f";
    default: return "d";
  }
}

py::buffer_info buffer_of(const Tensor& t) {
  if (!t.device().is_cpu())
    throw TypeError("a CUDA tensor has no CPU buffer: copy it to the host first with .cpu()");
  const auto size = static_cast<py::ssize_t>(t.itemsize());
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides(t.ndim());
  for (int i = 0; i < t.ndim(); ++i) strides[i] = t.stride(i) * size;
  return py::buffer_info(t.data(), size, buffer_format(t.dtype()), t.ndim(), shape, strides, !t.writable());
}

py::array array_protocol(const py::object& self, const py::object& dtype, const py::object& copy) {
  py::array out = to_numpy(self);
  const bool force_copy = !copy.is_none() && copy.cast<bool>();
  const bool forbid_copy = !copy.is_none() && !copy.cast<bool>();
  if (!dtype.is_none() && !out.dtype().is(py::dtype::from_args(dtype))) {
    if (forbid_copy) throw ValueError("__array__: a dtype change needs a copy, but copy=False");
    return out.attr("astype")(dtype);
  }
  return force_copy ? py::array(out.attr("copy")()) : out;
}

}  // namespace

void init_tensor(py::module_& m) {
  py::class_<Tensor> cls(m, "Tensor", py::dynamic_attr(), py::buffer_protocol(),
                         "An n-dimensional array on a device, with NumPy semantics and autograd.");
  cls.attr("__module__") = "fusednn";
  cls.def(py::init([](py::handle data) { return any_device_tensor(data); }), py::arg("data"),
          "Tensor(data): a tensor viewing `data` (a Tensor on any device or a NumPy array, zero-copy) or "
          "holding a copy of it.");
  cls.def_buffer(&buffer_of);
  cls.def_property_readonly("shape", [](const Tensor& t) { return dims_tuple(t.shape()); });
  cls.def_property_readonly("ndim", &Tensor::ndim);
  cls.def_property_readonly("size", &Tensor::numel);
  cls.def_property_readonly("dtype", [](const Tensor& t) { return to_numpy_dtype(t.dtype()); });
  cls.def_property_readonly("itemsize", [](const Tensor& t) { return t.itemsize(); });
  cls.def_property_readonly("nbytes", [](const Tensor& t) { return t.numel() * static_cast<int64_t>(t.itemsize()); });
  cls.def_property_readonly("strides", [](const Tensor& t) {
    return dims_tuple(t.strides(), static_cast<int64_t>(t.itemsize()));
  }, "Strides in bytes, as NumPy reports them.");
  cls.def_property_readonly("device", [](const Tensor& t) { return device_name(t.device()); });
  cls.def_property_readonly("_data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data()); });
  cls.def_property_readonly("_writable", &Tensor::writable);
  cls.def_property_readonly("_version", [](const Tensor& t) { return t.storage()->version(); },
                            "Number of in-place writes to this tensor's memory (autograd checks it).");
  cls.def("is_contiguous", &Tensor::is_contiguous, "Whether the elements are laid out C-contiguously.");
  cls.def("__len__", [](const Tensor& t) {
    if (t.ndim() == 0) throw TypeError("len() of unsized object");
    return t.shape(0);
  });
  cls.def("__array__", &array_protocol, py::arg("dtype") = py::none(), py::arg("copy") = py::none());
  cls.def("numpy", [](const py::object& self) { return to_numpy(self); },
          "A NumPy array sharing this tensor's memory (no copy).");

  m.def("from_numpy", [](const py::array& a) { return from_numpy(a); }, py::arg("array"),
        "A tensor sharing the NumPy array's memory: writes through either are seen by the other.");
  m.def("_to_tensor", [](py::handle obj) { return to_tensor(obj); }, py::arg("obj"));
  // For autograd, once per recorded op and once per node in backward: `saved` with each item that is
  // `output` replaced by `replacement` (`saved` itself when there is none), and the storage version of
  // the tensor at each position, before or after the replacement (None where neither is a tensor) --
  // one call instead of a Python loop of property reads.
  m.def("_versions", [](py::tuple saved, py::handle output, py::handle replacement) {
    static PyTypeObject* tensor_type = reinterpret_cast<PyTypeObject*>(py::type::of<Tensor>().ptr());
    const size_t n = saved.size();
    py::list versions(n);
    py::object kept;  // a new tuple, once output is found
    for (size_t i = 0; i < n; ++i) {
      PyObject* item = PyTuple_GET_ITEM(saved.ptr(), i);
      if (item == output.ptr()) {
        if (!kept) {
          kept = py::tuple(n);
          for (size_t j = 0; j < n; ++j)
            PyTuple_SET_ITEM(kept.ptr(), j, py::handle(PyTuple_GET_ITEM(saved.ptr(), j)).inc_ref().ptr());
        }
        Py_DECREF(item);  // kept's reference to it
        PyTuple_SET_ITEM(kept.ptr(), i, replacement.inc_ref().ptr());
        if (!PyObject_TypeCheck(item, tensor_type)) item = replacement.ptr();
      }
      if (PyObject_TypeCheck(item, tensor_type))
        versions[i] = py::int_(py::handle(item).cast<const Tensor&>().storage()->version());
      else
        versions[i] = py::none();
    }
    return py::make_tuple(std::move(versions), kept ? std::move(kept) : py::object(saved));
  });
  // For autograd, once per leaf gradient: leaf.grad += grad, out of place. `shared` holds the id()s of
  // gradient tensors already handed out (or the caller's); those, non-contiguous ones and ones of another
  // dtype are copied (cast to the leaf's dtype), so no two .grad tensors share memory.
  // The gradient lands on the leaf's device (moved there when backward produced it elsewhere).
  m.def("_accumulate_grad", [](py::handle leaf, py::handle grad, py::set shared) {
    static PyObject* grad_name = PyUnicode_InternFromString("grad");  // kept for the process's lifetime
    const Tensor& l = leaf.cast<const Tensor&>();
    const Tensor& g = grad.cast<const Tensor&>();
    py::object fresh = py::reinterpret_borrow<py::object>(grad);
    if (g.device() != l.device()) {
      const Tensor moved = to_device(g, l.device());  // a new C-contiguous tensor
      fresh = py::cast(moved.dtype() == l.dtype() ? moved : astype(moved, l.dtype()));
    } else if (g.dtype() != l.dtype())
      fresh = py::cast(astype(g, l.dtype()));
    else if (shared.contains(py::reinterpret_steal<py::object>(PyLong_FromVoidPtr(grad.ptr()))) || !g.is_contiguous())
      fresh = py::cast(astype(g, g.dtype()));  // a C-contiguous copy
    shared.add(py::reinterpret_steal<py::object>(PyLong_FromVoidPtr(fresh.ptr())));  // id(fresh)
    const py::object old = py::reinterpret_steal<py::object>(PyObject_GetAttr(leaf.ptr(), grad_name));
    if (!old) throw py::error_already_set();
    const py::object total = old.is_none() ? fresh : py::reinterpret_steal<py::object>(PyNumber_Add(old.ptr(), fresh.ptr()));
    if (!total || PyObject_SetAttr(leaf.ptr(), grad_name, total.ptr()) != 0) throw py::error_already_set();
  });
  // For Module.to: the tensor object `dst` takes src's storage, shape, strides, dtype and device, so every
  // reference to dst (a layer's attribute, an optimizer's parameter list) sees the moved or cast data. It
  // counts as an in-place write: dst's version ends above its old one, so a graph that saved dst refuses
  // to run backward on the new data.
  m.def("_set_data", [](py::handle dst, const Tensor& src) {
    Tensor& d = dst.cast<Tensor&>();
    const uint64_t before = d.storage()->version();
    d = src;
    d.storage()->bump_version_past(before);
  }, py::arg("dst"), py::arg("src"), "Make dst a view of src's memory, in place (dst's identity stays).");
}

}  // namespace fusednn::bind
