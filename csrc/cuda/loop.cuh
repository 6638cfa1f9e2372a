// The device side of the elementwise loop engine: one thread per element of a coalesced LoopPlan (the
// plan the CPU engine uses), operand addresses from the flat index. A plan of one dimension (every
// operand contiguous, or a scalar broadcast) costs one multiply per operand.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <initializer_list>

#include "core/loop.h"
#include "cuda/check.cuh"
#include "fusednn/cuda.h"

namespace fusednn::cuda {

template <int N>
struct Addresses {
  char* at[N];
};

// The N operand addresses of flat element i.
template <int N>
__device__ inline Addresses<N> addresses(const LoopPlan& p, int64_t i) {
  Addresses<N> a;
  for (int k = 0; k < N; ++k) a.at[k] = p.base[k];
  for (int d = p.ndim - 1; d >= 0; --d) {
    const int64_t extent = p.shape[d];
    const int64_t index = d == 0 ? i : i % extent;
    i = d == 0 ? 0 : i / extent;
    for (int k = 0; k < N; ++k) a.at[k] += index * p.strides[k][d];
  }
  return a;
}

template <int N, class F>
__global__ void for_each_kernel(LoopPlan p, int64_t total, F f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step)
    f(addresses<N>(p, i).at);
}

// Calls f(char* const* at) on the device for every element of `shape`; operand 0 is the output, every
// operand has exactly `shape` (expand first) and lives on `device`. Queued on the device's stream.
template <int N, class F>
void for_each_element(const Dims& shape, std::initializer_list<const Tensor*> operands, int device, F f) {
  const int64_t total = shape.product();
  if (total == 0) return;
  const LoopPlan plan = plan_loop(shape, operands);
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, int64_t{1} << 16);
  DeviceGuard guard(device);
  for_each_kernel<N><<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream(device))>>>(plan, total, f);
  check(cudaGetLastError(), "an elementwise kernel launch");
}

}  // namespace fusednn::cuda
