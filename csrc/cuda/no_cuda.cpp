// The CUDA entry points of a build without the CUDA backend: no device is ever seen, and anything that
// would touch one says how to get a CUDA build.
#include "fusednn/cuda.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"

namespace fusednn::cuda {
namespace {
[[noreturn]] void not_built() {
  throw RuntimeError(
      "fusednn was built without CUDA: reinstall on a machine with nvcc (the CUDA toolkit) on PATH, or force it "
      "with pip install . -C cmake.define.FUSEDNN_CUDA=ON");
}
}  // namespace

bool is_built() { return false; }
int device_count() { return 0; }
std::string runtime_version() { return ""; }
void check_device(int) { not_built(); }
void* allocate(size_t, int, size_t*) { not_built(); }
void release(void*, size_t, int) {}  // nothing can have been allocated
MemoryStats memory_stats(int) { return {0, 0}; }
void empty_cache() {}
void* stream(int) { not_built(); }
void synchronize(int) { not_built(); }
void copy_host_to_device(void*, const void*, size_t, int) { not_built(); }
void copy_device_to_host(void*, const void*, size_t, int) { not_built(); }
void copy_device_to_device(void*, int, const void*, int, size_t) { not_built(); }
void cast_into(const Tensor&, const Tensor&) { not_built(); }
void unary(UnaryOp, const Tensor&, const Tensor&, const void*) { not_built(); }
bool binary(BinaryOp, const Tensor&, const Tensor&, const Tensor&) { not_built(); }
void where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { not_built(); }
void clip(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { not_built(); }

}  // namespace fusednn::cuda
