// Conversions between Python objects and fusednn Tensors, shared by every binding file: dtypes, NumPy
// arrays (zero-copy both ways), Python scalars (NumPy's "weak" scalars), shapes and axes, and the GIL.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <utility>

#include "fusednn/device.h"
#include "fusednn/dtype.h"
#include "fusednn/gemm.h"
#include "fusednn/tensor.h"

namespace fusednn::bind {
namespace py = pybind11;

py::dtype to_numpy_dtype(DType dtype);
// Accepts np.dtype, NumPy scalar types, Python bool/int/float and names ("float32"); TypeError otherwise.
DType dtype_from_py(py::handle obj);
std::optional<DType> optional_dtype(py::handle obj);  // None -> nullopt

// A NumPy array viewed as a Tensor without copying (its memory stays alive through the tensor).
// Arrays whose strides are not whole elements are copied. Unsupported dtypes raise TypeError.
Tensor from_numpy(const py::array& array);
// A NumPy array viewing `tensor_obj`'s memory; read-only when the tensor is.
py::array to_numpy(const py::object& tensor_obj);

// Any array-like as a CPU Tensor: a Tensor as is, an ndarray zero-copy, a Python scalar or sequence as a
// new tensor with the deep-learning defaults (float -> float32, int -> int64, bool -> bool). A tensor on a
// CUDA device raises NotImplementedError: every binding that takes tensors through here runs CPU kernels.
Tensor to_tensor(py::handle obj);
// As to_tensor, but a Tensor stays on its device: for ops that have CUDA kernels.
Tensor any_device_tensor(py::handle obj);
// The guard for bindings that take a Tensor directly: t itself when it is on the CPU.
const Tensor& cpu_tensor(const Tensor& t);
// "cpu", "cuda", "cuda:N" (or a device index N) as a Device; ValueError otherwise.
Device device_from_py(py::handle obj);
// A 0-d tensor holding a Python scalar in the given dtype.
Tensor scalar_tensor(py::handle scalar, DType dtype);
bool is_python_scalar(py::handle obj);

// Two operands of a binary op, with Python scalars resolved against the other operand per NEP 50:
// float32 tensor + 1.5 stays float32, int32 tensor + 1.5 gives float64. Tensors stay on their device.
std::pair<Tensor, Tensor> binary_operands(py::handle a, py::handle b);

Dims to_shape(py::handle obj);                   // an int or a sequence of ints
// Axes for a reduction-like op: None -> every axis; an int or a tuple; negative wrap; duplicates raise.
Dims to_axes(py::handle axis, int ndim);
int to_axis(py::handle axis, int ndim);          // a single axis, normalised

// A GEMM-epilogue activation given by name (None, "none" and "linear" mean no activation); ValueError
// naming `op` and the accepted names otherwise.
Activation activation_from_py(py::handle obj, const char* op);
// name -> Activation's integer code, for hot paths that pass codes instead of names.
py::dict activation_codes();

// Releases the GIL for the scope when the work is large enough to be worth it (~100 ns otherwise lost).
class GilRelease {
 public:
  explicit GilRelease(int64_t work) { if (work >= (int64_t{1} << 14)) release_.emplace(); }
 private:
  std::optional<py::gil_scoped_release> release_;
};

}  // namespace fusednn::bind
