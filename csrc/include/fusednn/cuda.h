// CUDA runtime queries. A build without CUDA answers them too (no_cuda.cpp), so callers never need #ifdefs.
#pragma once
#include <string>

namespace fusednn::cuda {

bool is_built();          // this build has CUDA kernels
int device_count();       // 0 when there is no driver or no GPU; never throws
std::string runtime_version();  // e.g. "13.0"; empty when not built

}  // namespace fusednn::cuda
