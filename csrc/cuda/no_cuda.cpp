// The CUDA queries of a build without the CUDA backend: nothing is built and no device is seen.
#include "fusednn/cuda.h"

namespace fusednn::cuda {
bool is_built() { return false; }
int device_count() { return 0; }
std::string runtime_version() { return ""; }
}  // namespace fusednn::cuda
