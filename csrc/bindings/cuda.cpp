// Python bindings of the CUDA runtime queries (fusednn.cuda): answered by every build.
#include "bindings/convert.h"
#include "fusednn/cuda.h"

namespace fusednn::bind {
void init_cuda(py::module_& m) {
  py::module_ cuda = m.def_submodule("_cuda", "CUDA runtime queries.");
  cuda.def("is_built", &cuda::is_built, "Whether this build of fusednn has CUDA kernels.");
  cuda.def("device_count", &cuda::device_count, "Number of CUDA devices visible (0 without a driver or GPU).");
  cuda.def("runtime_version", &cuda::runtime_version);
}
}  // namespace fusednn::bind
