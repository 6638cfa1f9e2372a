// DLPack exchange (the data-interchange protocol of NumPy, torch, CuPy, JAX): Tensor.__dlpack__,
// Tensor.__dlpack_device__ and from_dlpack, all zero-copy, for CPU and CUDA tensors. The structs follow
// the DLPack ABI (v0.8, unversioned capsules, which every consumer accepts).
#include "bindings/convert.h"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"

namespace fusednn::bind {

namespace {

enum DLDeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2 };
enum DLDataTypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBool = 6 };

struct DLDevice { int32_t device_type; int32_t device_id; };
struct DLDataType { uint8_t code; uint8_t bits; uint16_t lanes; };
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; may be null for C-contiguous
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

constexpr const char* kCapsuleName = "dltensor";
constexpr const char* kUsedCapsuleName = "used_dltensor";

// What a capsule we export owns: a reference to the tensor's storage and the shape/stride arrays.
struct Export {
  DLManagedTensor managed;
  Tensor tensor;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
};

DLDataType dl_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    default: return {kDLFloat, 64, 1};
  }
}

DType from_dl_dtype(DLDataType t) {
  if (t.lanes == 1) {
    if (t.code == kDLBool && t.bits == 8) return DType::Bool;
    if (t.code == kDLInt && t.bits == 32) return DType::Int32;
    if (t.code == kDLInt && t.bits == 64) return DType::Int64;
    if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
    if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
  }
  throw TypeError(cat("from_dlpack: unsupported DLPack dtype (code ", int(t.code), ", bits ", int(t.bits),
                      ", lanes ", t.lanes, "); fusednn supports bool, int32, int64, float32 and float64"));
}

py::tuple dlpack_device(const Tensor& t) {
  return py::make_tuple(t.device().is_cpu() ? int(kDLCPU) : int(kDLCUDA), t.device().index);
}

py::capsule to_dlpack(const Tensor& t) {
  auto* e = new Export{};
  e->tensor = t;
  for (int i = 0; i < t.ndim(); ++i) {
    e->shape[i] = t.shape(i);
    e->strides[i] = t.stride(i);
  }
  DLTensor& dl = e->managed.dl_tensor;
  dl.data = t.storage()->data();
  dl.byte_offset = static_cast<uint64_t>(t.offset()) * t.itemsize();
  dl.device = {t.device().is_cpu() ? kDLCPU : kDLCUDA, t.device().index};
  dl.ndim = t.ndim();
  dl.dtype = dl_dtype(t.dtype());
  dl.shape = e->shape;
  dl.strides = e->strides;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Export*>(self->manager_ctx); };
  // A capsule nobody consumed still owns the tensor; a consumed one ("used_dltensor") does not.
  return py::capsule(&e->managed, kCapsuleName, [](PyObject* capsule) {
    if (PyCapsule_IsValid(capsule, kCapsuleName)) {
      auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsuleName));
      if (managed && managed->deleter) managed->deleter(managed);
    }
  });
}

Tensor from_capsule(py::capsule capsule) {
  if (!PyCapsule_IsValid(capsule.ptr(), kCapsuleName))
    throw ValueError("from_dlpack: expected an unconsumed 'dltensor' capsule (each capsule can be consumed once)");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), kCapsuleName));
  const DLTensor& dl = managed->dl_tensor;
  if (dl.device.device_type != kDLCPU && dl.device.device_type != kDLCUDA)
    throw TypeError(cat("from_dlpack: tensors on DLPack device type ", dl.device.device_type,
                        " are not supported (fusednn has CPU and CUDA tensors)"));
  const Device device = dl.device.device_type == kDLCPU ? Device::cpu() : Device::cuda(dl.device.device_id);
  if (!device.is_cpu()) cuda::check_device(device.index);
  const DType dtype = from_dl_dtype(dl.dtype);
  if (dl.ndim < 0 || dl.ndim > kMaxDims) throw ValueError(cat("from_dlpack: unsupported ndim ", dl.ndim));
  Dims shape(dl.shape, dl.shape + dl.ndim);
  Dims strides = dl.strides ? Dims(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  const int64_t size = static_cast<int64_t>(itemsize(dtype));
  if (dl.byte_offset % size != 0) throw ValueError("from_dlpack: byte_offset is not a whole number of elements");
  // The storage spans the elements reachable from data + byte_offset (strides may be negative).
  int64_t low = 0, high = 1;
  for (int i = 0; i < dl.ndim; ++i) {
    if (shape[i] == 0) { low = 0; high = 0; break; }
    const int64_t span = (shape[i] - 1) * strides[i];
    (span < 0 ? low : high) += span;
  }
  char* first = static_cast<char*>(dl.data) + dl.byte_offset;
  std::shared_ptr<void> owner(managed, [](void* p) {
    auto* m = static_cast<DLManagedTensor*>(p);
    if (m->deleter) m->deleter(m);
  });
  PyCapsule_SetName(capsule.ptr(), kUsedCapsuleName);
  auto storage = Storage::borrow(first + low * size, static_cast<size_t>((high - low) * size), std::move(owner),
                                 device, true);
  return Tensor(std::move(storage), shape, strides, -low, dtype);
}

}  // namespace

void init_dlpack(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def("__dlpack__", [](const Tensor& t, py::object stream, py::object max_version, py::object dl_device,
                           py::object copy) {
    if (!copy.is_none() && copy.cast<bool>())
      throw py::buffer_error("__dlpack__: copy=True is not supported; call .copy() first");
    // The consumer reads the memory on its own stream: our queued work on it must be done by then.
    if (!t.device().is_cpu()) cuda::synchronize(t.device().index);
    return to_dlpack(t);
  }, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
     py::arg("dl_device") = py::none(), py::arg("copy") = py::none());
  cls.def("__dlpack_device__", &dlpack_device);
  m.def("from_dlpack", [](py::object obj) {
    if (py::isinstance<py::capsule>(obj)) return from_capsule(obj);
    if (!py::hasattr(obj, "__dlpack__"))
      throw TypeError(cat("from_dlpack: ", py::str(py::type::of(obj)).cast<std::string>(),
                          " does not implement __dlpack__"));
    const py::tuple where = obj.attr("__dlpack_device__")();
    if (where[0].cast<int>() != kDLCUDA) return from_capsule(obj.attr("__dlpack__")());
    // A CUDA producer makes its pending work visible on the stream we name: the one our kernels use.
    const int index = where[1].cast<int>();
    cuda::check_device(index);
    return from_capsule(obj.attr("__dlpack__")(py::arg("stream") = reinterpret_cast<intptr_t>(cuda::stream(index))));
  }, py::arg("x"), "A tensor sharing memory with any object that implements the DLPack protocol.");
}

}  // namespace fusednn::bind
