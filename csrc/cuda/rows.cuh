// Row-wise device kernels for the activation and loss families: each row (C elements at base + c * stride)
// is handled by one warp (short contiguous rows), one block (long contiguous rows) or one thread (strided
// rows: adjacent threads take adjacent rows, so their loads coalesce). Reductions over a row's threads run
// in a fixed order, so results are deterministic, and every thread of the row receives the same value.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda/check.cuh"
#include "fusednn/cuda.h"

namespace fusednn::cuda {

constexpr int kWarp = 32;
constexpr int kRowThreads = 256;         // threads per block of every row kernel
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest
constexpr int64_t kWarpRowMax = 1024;    // contiguous rows up to this length go one per warp

struct SumOp {
  template <class T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {  // NaN in b is skipped (the running max never becomes NaN); callers let NaN poison a sum instead
  template <class T> __device__ T operator()(T a, T b) const { return b > a ? b : a; }
};

// A butterfly: each step combines the same two operands on both lanes (in either order, which IEEE
// addition and max do not mind), so every lane ends with the same bits.
template <class T, class Op> __device__ inline T warp_reduce(T v, Op op) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Who works on a row: thread `lane` of `lanes`, and the reduction over them.
struct OneThread {
  static constexpr int lane = 0, lanes = 1;
  template <class T, class Op> __device__ T reduce(T v, Op) const { return v; }
};
struct OneWarp {
  int lane;
  static constexpr int lanes = kWarp;
  template <class T, class Op> __device__ T reduce(T v, Op op) const { return warp_reduce(v, op); }
};
struct OneBlock {
  int lane, lanes;
  double* shared;  // one slot per warp; float values pass through double exactly
  // Every thread of the block must call this (it synchronises).
  template <class T, class Op> __device__ T reduce(T v, Op op) const {
    v = warp_reduce(v, op);
    if (lane % kWarp == 0) shared[lane / kWarp] = static_cast<double>(v);
    __syncthreads();
    T r = static_cast<T>(shared[0]);
    for (int w = 1; w < lanes / kWarp; ++w) r = op(r, static_cast<T>(shared[w]));
    __syncthreads();  // the slots are free again for the next reduction
    return r;
  }
};

template <class Row> __global__ void thread_rows_kernel(Row row, int64_t rows) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step)
    row(r, OneThread{});
}
template <class Row> __global__ void warp_rows_kernel(Row row, int64_t rows) {
  const int64_t per_block = blockDim.x / kWarp, step = static_cast<int64_t>(gridDim.x) * per_block;
  const OneWarp group{static_cast<int>(threadIdx.x % kWarp)};
  // r is the same on every lane of a warp, so whole warps enter and leave the loop together.
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * per_block + threadIdx.x / kWarp; r < rows; r += step)
    row(r, group);
}
template <class Row> __global__ void block_rows_kernel(Row row, int64_t rows) {
  __shared__ double shared[kRowThreads / kWarp];
  const OneBlock group{static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), shared};
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) row(r, group);  // r is uniform over the block
}

inline unsigned grid_for(int64_t items, int64_t per_block) {
  return static_cast<unsigned>(std::min((items + per_block - 1) / per_block, kMaxBlocks));
}

// Calls row(r, group) on `device` for every r in [0, rows): rows of C elements, contiguous (one warp or
// one block each, by length) or strided (one thread each). Queued on the device's stream.
template <class Row>
void for_each_row(const Row& row, int64_t rows, int64_t C, bool contiguous, int device, const char* what) {
  if (rows == 0) return;
  DeviceGuard guard(device);
  const cudaStream_t s = as_stream(stream(device));
  if (!contiguous) thread_rows_kernel<<<grid_for(rows, kRowThreads), kRowThreads, 0, s>>>(row, rows);
  else if (C <= kWarpRowMax) warp_rows_kernel<<<grid_for(rows, kRowThreads / kWarp), kRowThreads, 0, s>>>(row, rows);
  else block_rows_kernel<<<grid_for(rows, 1), kRowThreads, 0, s>>>(row, rows);
  check(cudaGetLastError(), what);
}

}  // namespace fusednn::cuda
