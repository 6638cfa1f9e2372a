// The random family on CUDA devices: one thread per Philox block, writing the block's E elements with
// core/philox.h's values in the CPU loops' element order, so a draw equals the CPU's for the same key and
// counter (the driver, cpu/random.cpp, reserves the blocks for both).
#include <algorithm>
#include <cstdint>

#include "core/philox.h"
#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"
#include "fusednn/random.h"

namespace fusednn::cuda {
namespace {

// Each distribution maps one block's words w to its per_block values v, in element order (as
// cpu/random_loops.cpp: element i of a draw is value i % per_block of block i / per_block).
template <class T> struct Uniform;
template <> struct Uniform<float> {
  using value_type = float;
  static constexpr int per_block = 4;
  float low, scale, ceiling;
  FUSEDNN_HD void operator()(const uint32_t* w, float* v) const {
    for (int j = 0; j < 4; ++j) v[j] = philox::uniform_f32(w[j], low, scale, ceiling);
  }
};
template <> struct Uniform<double> {
  using value_type = double;
  static constexpr int per_block = 2;
  double low, scale, ceiling;
  FUSEDNN_HD void operator()(const uint32_t* w, double* v) const {
    for (int j = 0; j < 2; ++j) v[j] = philox::uniform_f64(w[2 * j], w[2 * j + 1], low, scale, ceiling);
  }
};

template <class T> struct Normal;
template <> struct Normal<float> {  // two pairs: words (0, 1) give elements 0, 1; words (2, 3) give 2, 3
  using value_type = float;
  static constexpr int per_block = 4;
  float loc, scale;
  FUSEDNN_HD void operator()(const uint32_t* w, float* v) const {
    philox::normal_pair_f32(w[0], w[1], loc, scale, &v[0], &v[1]);
    philox::normal_pair_f32(w[2], w[3], loc, scale, &v[2], &v[3]);
  }
};
template <> struct Normal<double> {  // one pair from the whole block
  using value_type = double;
  static constexpr int per_block = 2;
  double loc, scale;
  FUSEDNN_HD void operator()(const uint32_t* w, double* v) const {
    philox::normal_pair_f64(w[0], w[1], w[2], w[3], loc, scale, &v[0], &v[1]);
  }
};

template <class T> struct Integers {  // words (0, 1) give element 0, words (2, 3) element 1
  using value_type = T;
  static constexpr int per_block = 2;
  int64_t low;
  uint64_t range;
  FUSEDNN_HD void operator()(const uint32_t* w, T* v) const {
    for (int j = 0; j < 2; ++j) v[j] = static_cast<T>(philox::integer(w[2 * j], w[2 * j + 1], low, range));
  }
};

template <class Dist>
__global__ void draw_kernel(typename Dist::value_type* out, int64_t n, uint64_t key, uint64_t counter, Dist dist) {
  using T = typename Dist::value_type;
  constexpr int E = Dist::per_block;
  const int64_t blocks = (n + E - 1) / E;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks; b += step) {
    uint32_t w[4];
    philox::block(counter + static_cast<uint64_t>(b), key, w);
    T v[E];
    dist(w, v);
    const int64_t first = b * E;
    for (int j = 0; j < E && first + j < n; ++j) out[first + j] = v[j];
  }
}

// Fills the C-contiguous device tensor `out` from blocks counter, counter + 1, ... of key's stream.
template <class Dist>
void launch(const Tensor& out, uint64_t key, uint64_t counter, const Dist& dist) {
  const int64_t n = out.numel();
  if (n == 0) return;
  constexpr int kThreads = 256;
  const int64_t blocks = (n + Dist::per_block - 1) / Dist::per_block;
  const int64_t grid = std::min<int64_t>((blocks + kThreads - 1) / kThreads, int64_t{1} << 16);
  const int device = out.device().index;
  DeviceGuard guard(device);
  draw_kernel<Dist><<<static_cast<unsigned>(grid), kThreads, 0, as_stream(stream(device))>>>(
      out.data_as<typename Dist::value_type>(), n, key, counter, dist);
  check(cudaGetLastError(), "a random-number kernel launch");
}

[[noreturn]] void bad_dtype(const char* op, DType dtype) {
  throw TypeError(cat(op, ": unsupported dtype ", dtype_name(dtype)));
}

}  // namespace

void uniform_(const Tensor& out, uint64_t key, uint64_t counter, double low, double scale, double ceiling) {
  if (out.dtype() == DType::Float32)
    launch(out, key, counter,
           Uniform<float>{static_cast<float>(low), static_cast<float>(scale), static_cast<float>(ceiling)});
  else if (out.dtype() == DType::Float64) launch(out, key, counter, Uniform<double>{low, scale, ceiling});
  else bad_dtype("uniform", out.dtype());
}

void normal_(const Tensor& out, uint64_t key, uint64_t counter, double loc, double scale) {
  if (out.dtype() == DType::Float32)
    launch(out, key, counter, Normal<float>{static_cast<float>(loc), static_cast<float>(scale)});
  else if (out.dtype() == DType::Float64) launch(out, key, counter, Normal<double>{loc, scale});
  else bad_dtype("normal", out.dtype());
}

void integers_(const Tensor& out, uint64_t key, uint64_t counter, int64_t low, uint64_t range) {
  switch (out.dtype()) {
    case DType::Bool: return launch(out, key, counter, Integers<bool>{low, range});
    case DType::Int32: return launch(out, key, counter, Integers<int32_t>{low, range});
    case DType::Int64: return launch(out, key, counter, Integers<int64_t>{low, range});
    default: bad_dtype("integers", out.dtype());
  }
}

}  // namespace fusednn::cuda
