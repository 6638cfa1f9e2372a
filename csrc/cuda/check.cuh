// Helpers shared by the CUDA sources: turning a cudaError_t into a Python-facing exception, making a
// device current for a scope, and the stream handle as its CUDA type.
#pragma once
#include <cuda_runtime.h>

#include "fusednn/errors.h"

namespace fusednn::cuda {

// Throws RuntimeError "CUDA error during <what>: <the runtime's message>" unless err is cudaSuccess.
inline void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw RuntimeError(cat("CUDA error during ", what, ": ", cudaGetErrorString(err)));
}

// Makes `device` current for the scope and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice"), changed_ = true;
  }
  ~DeviceGuard() {
    if (changed_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace fusednn::cuda
