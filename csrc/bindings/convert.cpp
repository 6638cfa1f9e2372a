// Python <-> Tensor conversions: dtypes, zero-copy NumPy arrays, weak Python scalars, shapes and axes.
#include "bindings/convert.h"

#include <algorithm>

#include "fusednn/device.h"
#include "fusednn/errors.h"

namespace fusednn::bind {

namespace {

py::module_& numpy() {
  static py::module_* np = new py::module_(py::module_::import("numpy"));
  return *np;
}

// Keeps a Python object alive from C++ (a storage owner); drops the reference under the GIL.
std::shared_ptr<void> hold(py::handle obj) {
  obj.inc_ref();
  return std::shared_ptr<void>(obj.ptr(), [](void* p) {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(p));
  });
}

}  // namespace

py::dtype to_numpy_dtype(DType dtype) {
  static py::dtype* table[kNumDTypes] = {};
  py::dtype*& entry = table[static_cast<int>(dtype)];
  if (!entry) entry = new py::dtype(dtype_name(dtype));
  return *entry;
}

DType dtype_from_py(py::handle obj) {
  py::dtype dt;
  if (py::isinstance<py::dtype>(obj)) {
    dt = py::reinterpret_borrow<py::dtype>(obj);
  } else {
    try {
      dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
    } catch (py::error_already_set&) {
      throw TypeError(cat("data type ", py::repr(obj).cast<std::string>(), " not understood"));
    }
  }
  const char kind = dt.kind();
  const size_t size = dt.itemsize();
  if (kind == 'b') return DType::Bool;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  throw TypeError(cat("unsupported dtype ", py::str(dt).cast<std::string>(),
                      ": fusednn supports bool, int32, int64, float32 and float64 (convert with .astype first)"));
}

std::optional<DType> optional_dtype(py::handle obj) {
  if (obj.is_none()) return std::nullopt;
  return dtype_from_py(obj);
}

Tensor from_numpy(const py::array& array) {
  const DType dtype = dtype_from_py(array.dtype());
  const int64_t size = static_cast<int64_t>(itemsize(dtype));
  const int ndim = static_cast<int>(array.ndim());
  for (int i = 0; i < ndim; ++i) {
    if (array.strides(i) % size != 0) {  // strides between whole elements cannot be expressed in elements
      return from_numpy(numpy().attr("ascontiguousarray")(array).cast<py::array>());
    }
  }
  Dims shape(ndim), strides(ndim);
  // The storage starts at the lowest address the array touches, so negative strides stay in bounds.
  int64_t low = 0, high = size;
  bool empty = false;
  for (int i = 0; i < ndim; ++i) {
    shape[i] = array.shape(i);
    strides[i] = array.strides(i) / size;
    empty |= shape[i] == 0;
    const int64_t span = (shape[i] - 1) * array.strides(i);
    (span < 0 ? low : high) += span;
  }
  if (empty) low = high = 0;
  char* first = static_cast<char*>(const_cast<void*>(array.data()));
  auto storage = Storage::borrow(first + low, static_cast<size_t>(high - low), hold(array), Device::cpu(),
                                 array.writeable());
  return Tensor(std::move(storage), shape, strides, -low / size, dtype);
}

py::array to_numpy(const py::object& tensor_obj) {
  const Tensor& t = tensor_obj.cast<const Tensor&>();
  if (!t.device().is_cpu())
    throw TypeError("can't convert a CUDA tensor to a NumPy array: copy it to the host first with .cpu()");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides(t.ndim());
  for (int i = 0; i < t.ndim(); ++i) strides[i] = t.stride(i) * static_cast<py::ssize_t>(t.itemsize());
  py::array out(to_numpy_dtype(t.dtype()), shape, strides, t.data(), tensor_obj);
  if (!t.writable()) out.attr("flags").attr("writeable") = false;
  return out;
}

bool is_python_scalar(py::handle obj) {
  // Exact types only: NumPy scalars (np.float64 subclasses float) are strongly typed, as in NEP 50.
  return PyBool_Check(obj.ptr()) || PyLong_CheckExact(obj.ptr()) || PyFloat_CheckExact(obj.ptr());
}

Tensor scalar_tensor(py::handle scalar, DType dtype) {
  Tensor t = Tensor::empty(Dims{}, dtype);
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_floating_point_v<T>) {
      *t.data_as<T>() = static_cast<T>(scalar.cast<double>());
    } else if constexpr (std::is_same_v<T, bool>) {
      *t.data_as<T>() = PyObject_IsTrue(scalar.ptr()) == 1;
    } else {
      const long long v = scalar.cast<long long>();
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
        throw py::value_error(cat("Python integer ", v, " out of bounds for ", dtype_name(dtype)));
      *t.data_as<T>() = static_cast<T>(v);
    }
  });
  return t;
}

namespace {
DType default_scalar_dtype(py::handle obj) {
  if (PyBool_Check(obj.ptr())) return DType::Bool;
  if (PyLong_Check(obj.ptr())) return DType::Int64;
  return DType::Float32;
}

ScalarKind scalar_kind(py::handle obj) {
  if (PyBool_Check(obj.ptr())) return ScalarKind::Bool;
  if (PyLong_Check(obj.ptr())) return ScalarKind::Int;
  return ScalarKind::Float;
}
}  // namespace

const Tensor& cpu_tensor(const Tensor& t) {
  require_cpu("this operation", {&t});
  return t;
}

Device device_from_py(py::handle obj) {
  if (PyLong_Check(obj.ptr())) return Device::cuda(obj.cast<int>());
  const std::string name = py::str(obj);
  if (name == "cpu") return Device::cpu();
  if (name == "cuda") return Device::cuda(0);
  if (name.rfind("cuda:", 0) == 0 && name.size() > 5 && name.find_first_not_of("0123456789", 5) == std::string::npos)
    return Device::cuda(std::stoi(name.substr(5)));
  throw ValueError(cat("unknown device '", name, "': expected 'cpu', 'cuda' or 'cuda:N'"));
}

Tensor any_device_tensor(py::handle obj) {
  return py::isinstance<Tensor>(obj) ? obj.cast<Tensor>() : to_tensor(obj);
}

Tensor to_tensor(py::handle obj) {
  if (py::isinstance<Tensor>(obj)) return cpu_tensor(obj.cast<const Tensor&>());
  if (py::isinstance<py::array>(obj)) return from_numpy(py::reinterpret_borrow<py::array>(obj));
  if (is_python_scalar(obj)) return scalar_tensor(obj, default_scalar_dtype(obj));
  const bool python_sequence = PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr());
  py::array array = numpy().attr("asarray")(obj);
  if (array.dtype().kind() == 'O')
    throw TypeError(cat("cannot convert ", py::repr(obj).cast<std::string>().substr(0, 80),
                        " to a tensor: it is not a (rectangular) sequence of numbers"));
  // Python floats become float32, the deep-learning default; other array-likes keep their dtype.
  if (python_sequence && array.dtype().kind() == 'f') array = array.attr("astype")("float32");
  return from_numpy(array);
}

std::pair<Tensor, Tensor> binary_operands(py::handle a, py::handle b) {
  const bool a_weak = is_python_scalar(a), b_weak = is_python_scalar(b);
  if (a_weak == b_weak) return {any_device_tensor(a), any_device_tensor(b)};
  if (a_weak) {
    Tensor tb = any_device_tensor(b);
    return {scalar_tensor(a, promote_with_scalar(tb.dtype(), scalar_kind(a))), tb};
  }
  Tensor ta = any_device_tensor(a);
  return {ta, scalar_tensor(b, promote_with_scalar(ta.dtype(), scalar_kind(b)))};
}

namespace {
int64_t index_value(py::handle obj) {  // operator.index(obj): ints and NumPy integers, never floats
  PyObject* index = PyNumber_Index(obj.ptr());
  if (!index) throw py::error_already_set();
  return py::reinterpret_steal<py::int_>(index).cast<int64_t>();
}
}  // namespace

Dims to_shape(py::handle obj) {
  if (!PySequence_Check(obj.ptr())) return Dims{index_value(obj)};
  Dims dims;
  for (py::handle item : py::reinterpret_borrow<py::sequence>(obj)) dims.push_back(index_value(item));
  return dims;
}

Dims to_axes(py::handle axis, int ndim) {
  Dims axes;
  if (axis.is_none()) {
    for (int i = 0; i < ndim; ++i) axes.push_back(i);
    return axes;
  }
  for (int64_t a : to_shape(axis)) {
    const int n = normalize_axis(a, ndim);
    if (std::find(axes.begin(), axes.end(), n) != axes.end()) throw ValueError("duplicate value in 'axis'");
    axes.push_back(n);
  }
  return axes;
}

int to_axis(py::handle axis, int ndim) { return normalize_axis(index_value(axis), ndim); }

namespace {
constexpr std::pair<const char*, Activation> kActivationNames[] = {
    {"none", Activation::None},   {"linear", Activation::None}, {"relu", Activation::Relu},
    {"leaky_relu", Activation::LeakyRelu}, {"gelu", Activation::Gelu}, {"tanh", Activation::Tanh},
    {"sigmoid", Activation::Sigmoid},      {"silu", Activation::Silu}};
}  // namespace

Activation activation_from_py(py::handle obj, const char* op) {
  if (obj.is_none()) return Activation::None;
  const std::string name = py::str(obj);
  for (const auto& [n, act] : kActivationNames)
    if (name == n) return act;
  throw ValueError(cat(op, ": unknown activation '", name,
                       "': expected None, 'relu', 'leaky_relu', 'gelu', 'tanh', 'sigmoid' or 'silu'"));
}

py::dict activation_codes() {
  py::dict codes;
  for (const auto& [name, act] : kActivationNames)
    if (act != Activation::None) codes[name] = static_cast<int>(act);
  return codes;
}

}  // namespace fusednn::bind
