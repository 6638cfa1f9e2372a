// Python bindings of indexing: Tensor.__getitem__/__setitem__ (the index tuple parsed here into
// IndexItems, without a round trip through Python code), _index_add (getitem's backward), nonzero and argwhere.
#include <pybind11/stl.h>

#include "bindings/convert.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/indexing.h"

namespace fusednn::bind {

namespace {

constexpr const char* kBadIndex =
    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are "
    "valid indices";

py::module_& numpy() {
  static py::module_* np = new py::module_(py::module_::import("numpy"));
  return *np;
}

int64_t to_index_int(py::handle obj) {
  const Py_ssize_t v = PyNumber_AsSsize_t(obj.ptr(), PyExc_IndexError);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

// An array used as an index: 0-d integers act as ints; other integer kinds widen to int64.
IndexItem array_item(const py::array& a) {
  const char kind = a.dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u')
    throw IndexError("arrays used as indices must be of integer (or boolean) type");
  const bool supported = kind == 'b' || (kind == 'i' && (a.itemsize() == 4 || a.itemsize() == 8));
  return IndexItem::of_array(from_numpy(supported ? a : py::array(a.attr("astype")("int64"))));
}

IndexItem tensor_item(const Tensor& t) {
  if (t.ndim() == 0 && is_integer(t.dtype())) {
    const Tensor host = to_device(t, Device::cpu());  // a 0-d index acts as an int: its value is needed here
    return IndexItem::integer(t.dtype() == DType::Int32 ? *host.data_as<int32_t>() : *host.data_as<int64_t>());
  }
  return IndexItem::of_array(t);
}

IndexItem to_item(py::handle obj) {
  PyObject* o = obj.ptr();
  if (o == Py_None) return IndexItem::of(IndexItem::Kind::NewAxis);
  if (o == Py_Ellipsis) return IndexItem::of(IndexItem::Kind::Ellipsis);
  if (PySlice_Check(o)) {
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(o, &start, &stop, &step) < 0) throw py::error_already_set();
    return IndexItem::slice(start, stop, step);
  }
  if (PyBool_Check(o)) return IndexItem::of_array(scalar_tensor(obj, DType::Bool));
  if (PyLong_Check(o)) return IndexItem::integer(to_index_int(obj));
  if (py::isinstance<Tensor>(obj)) return tensor_item(obj.cast<const Tensor&>());
  if (py::isinstance<py::array>(obj)) {
    const py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() == 0 && a.dtype().kind() != 'b') return IndexItem::integer(to_index_int(a.attr("item")()));
    return array_item(a);
  }
  if (py::isinstance(obj, numpy().attr("bool_"))) return IndexItem::of_array(scalar_tensor(obj, DType::Bool));
  if (PyIndex_Check(o)) return IndexItem::integer(to_index_int(obj));
  if (PyList_Check(o) || (PySequence_Check(o) && !PyUnicode_Check(o) && !PyBytes_Check(o))) {
    py::array a = numpy().attr("asarray")(obj);
    if (a.size() == 0 && a.dtype().kind() == 'f') a = a.attr("astype")("int64");  // [] indexes nothing
    if (a.dtype().kind() == 'O') throw IndexError(kBadIndex);
    return array_item(a);
  }
  throw IndexError(kBadIndex);
}

std::vector<IndexItem> to_items(py::handle key) {
  std::vector<IndexItem> items;
  if (PyTuple_Check(key.ptr())) {
    items.reserve(static_cast<size_t>(PyTuple_GET_SIZE(key.ptr())));
    for (py::handle obj : py::reinterpret_borrow<py::tuple>(key)) items.push_back(to_item(obj));
  } else {
    items.push_back(to_item(key));
  }
  return items;
}

// Work worth releasing the GIL for: any index array or value with many elements.
int64_t advanced_work(const Tensor& x, const std::vector<IndexItem>& items) {
  int64_t work = 0;
  for (const IndexItem& it : items)
    if (it.kind == IndexItem::Kind::Array) work = std::max({work, x.numel(), it.array.numel()});
  return work;
}

// The value of an item assignment: Python scalars keep full precision (int64/float64/bool) since the
// copy casts to the destination's dtype anyway; sequences go through NumPy's inference.
Tensor value_tensor(py::handle value) {
  if (py::isinstance<Tensor>(value)) return value.cast<Tensor>();
  if (py::isinstance<py::array>(value)) return from_numpy(py::reinterpret_borrow<py::array>(value));
  if (PyBool_Check(value.ptr())) return scalar_tensor(value, DType::Bool);
  if (PyLong_Check(value.ptr())) return scalar_tensor(value, DType::Int64);
  if (PyFloat_Check(value.ptr())) return scalar_tensor(value, DType::Float64);
  py::array a = numpy().attr("asarray")(value);
  if (a.dtype().kind() == 'O')
    throw TypeError(cat("cannot assign ", py::repr(value).cast<std::string>().substr(0, 80),
                        " to a tensor: it is not a (rectangular) sequence of numbers"));
  return from_numpy(a);
}

void scatter_py(const Tensor& x, py::handle key, py::handle value,
                void (*op)(const Tensor&, const std::vector<IndexItem>&, const Tensor&)) {
  const std::vector<IndexItem> items = to_items(key);
  const Tensor v = value_tensor(value);
  GilRelease gil(std::max(advanced_work(x, items), v.numel()));
  op(x, items, v);
}

py::tuple tensors_tuple(const std::vector<Tensor>& ts) {
  py::tuple out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i] = py::cast(ts[i]);
  return out;
}

}  // namespace

void init_indexing(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def("__getitem__", [](const Tensor& x, py::handle key) {
    const std::vector<IndexItem> items = to_items(key);
    GilRelease gil(advanced_work(x, items));
    return index_get(x, items);
  });
  cls.def("__setitem__", [](const Tensor& x, py::handle key, py::handle value) { scatter_py(x, key, value, index_set); });
  m.def("_index_add", [](const Tensor& x, py::handle key, py::handle value) { scatter_py(x, key, value, index_add); },
        "x[key] += value with repeated indices accumulating (the backward of x[key]).");
  m.def("nonzero", [](py::handle x) { return tensors_tuple(nonzero(any_device_tensor(x))); }, py::arg("a"));
  m.def("argwhere", [](py::handle x) { return argwhere(any_device_tensor(x)); }, py::arg("a"));
  m.def("_take_rows", [](const Tensor& src, const Tensor& idx, const Tensor& out) {
    GilRelease gil(out.numel());
    take_rows(src, idx, out);
  }, "out[i] = src[idx[i]] row by row, into the existing buffer out (fit's batch gather).");
}

}  // namespace fusednn::bind
