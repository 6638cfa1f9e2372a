// CUDA runtime queries. The runtime is linked statically, so with no driver or no GPU the calls fail
// cleanly and report zero devices instead of failing the import.
#include <cuda_runtime.h>

#include "fusednn/cuda.h"

namespace fusednn::cuda {

bool is_built() { return true; }

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return 0;
  }
  return count;
}

std::string runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace fusednn::cuda
