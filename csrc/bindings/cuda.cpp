// Python bindings of the CUDA runtime layer (fusednn.cuda): queries, synchronisation and the caching
// allocator's statistics, answered by every build; and Tensor._to_device, the copy between devices.
#include "bindings/convert.h"
#include "fusednn/cuda.h"

namespace fusednn::bind {
void init_cuda(py::module_& m) {
  py::module_ cuda = m.def_submodule("_cuda", "CUDA runtime layer.");
  cuda.def("is_built", &cuda::is_built, "Whether this build of fusednn has CUDA kernels.");
  cuda.def("device_count", &cuda::device_count, "Number of CUDA devices visible (0 without a driver or GPU).");
  cuda.def("runtime_version", &cuda::runtime_version);
  cuda.def("synchronize", [](int device) {
    py::gil_scoped_release gil;
    cuda::synchronize(device);
  }, py::arg("device"), "Wait for all work queued on the device.");
  cuda.def("memory_stats", [](int device) {
    const auto s = cuda::memory_stats(device);
    return py::make_tuple(s.allocated_bytes, s.cached_bytes);
  }, py::arg("device"), "(bytes held by tensors, bytes cached for reuse) on the device.");
  cuda.def("empty_cache", &cuda::empty_cache, "Return every device's cached blocks to the driver.");
  m.def("_to_device", [](const Tensor& x, py::handle device) {
    const Device d = device_from_py(device);
    if (!d.is_cpu()) cuda::check_device(d.index);
    GilRelease gil(x.numel());
    return to_device(x, d);
  }, py::arg("x"), py::arg("device"), "x on the device: x itself when already there, else a contiguous copy.");
}
}  // namespace fusednn::bind
