// The activation family on CUDA devices: every activation's forward and backward (one thread per element,
// the formulas of core/activation_ops.h), softmax / log_softmax and their gradients along any axis (rows.cuh:
// max-subtracted, y = e^(x - m) / sum or x - m - log sum), and the fused bias + activation backward
// dz = dy act'(saved), db += column sums of dz in a fixed order (per row-chunk partials, then one pass).
#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/activation_ops.h"
#include "cuda/loop.cuh"
#include "cuda/rows.cuh"
#include "fusednn/activation.h"
#include "fusednn/errors.h"

namespace fusednn::cuda {
namespace {

template <class T> __device__ inline T& at(char* p) { return *reinterpret_cast<T*>(p); }

template <class T, class A> struct Forward {
  A f;
  __device__ void operator()(char* const* p) const { at<T>(p[0]) = f.fwd(at<T>(p[1])); }
};
template <class T, class A> struct Backward {
  A f;
  __device__ void operator()(char* const* p) const { at<T>(p[0]) = f.bwd(at<T>(p[1]), at<T>(p[2])); }
};

// ---- softmax rows: row r of a C-contiguous (outer, C, inner) block starts at (r / inner) C inner + r % inner
// and steps by inner ----

struct RowLayout {
  int64_t C, inner;
  __device__ int64_t base(int64_t r) const { return (r / inner) * C * inner + r % inner; }
};

template <class T, bool Log> struct SoftmaxRow {
  const T* x;
  T* y;
  RowLayout layout;
  template <class G> __device__ void operator()(int64_t r, const G& g) const {
    const int64_t C = layout.C, st = layout.inner, b = layout.base(r);
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t c = g.lane; c < C; c += g.lanes) m = MaxOp()(m, x[b + c * st]);
    m = g.reduce(m, MaxOp());
    T s = 0;
    for (int64_t c = g.lane; c < C; c += g.lanes) s += act::exp_(x[b + c * st] - m);  // NaN poisons s
    s = g.reduce(s, SumOp());
    if constexpr (Log) {
      const T lse = m + act::log_(s);
      for (int64_t c = g.lane; c < C; c += g.lanes) y[b + c * st] = x[b + c * st] - lse;
    } else {
      const T inv = T(1) / s;
      for (int64_t c = g.lane; c < C; c += g.lanes) y[b + c * st] = act::exp_(x[b + c * st] - m) * inv;
    }
  }
};

// softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - e^y sum(dy).
template <class T, bool Log> struct SoftmaxBackwardRow {
  const T* dy;
  const T* y;
  T* dx;
  RowLayout layout;
  template <class G> __device__ void operator()(int64_t r, const G& g) const {
    const int64_t C = layout.C, st = layout.inner, b = layout.base(r);
    T s = 0;
    for (int64_t c = g.lane; c < C; c += g.lanes) {
      const int64_t i = b + c * st;
      s += Log ? dy[i] : dy[i] * y[i];
    }
    s = g.reduce(s, SumOp());
    for (int64_t c = g.lane; c < C; c += g.lanes) {
      const int64_t i = b + c * st;
      dx[i] = Log ? dy[i] - act::exp_(y[i]) * s : y[i] * (dy[i] - s);
    }
  }
};

// ---- fused bias + activation backward ----

// A block covers kCols columns and one chunk of rows; its threads step through the chunk kRowsPer apart.
constexpr int kCols = 32, kRowsPer = 8;
constexpr int64_t kChunkRows = 256;  // rows per chunk (more when the chunks would exceed the grid's y limit)

// dz = dy act'(saved) over rows [chunk * rows_per_chunk, ...) of columns [blockIdx.x * kCols, ...); with
// partial, partial[chunk, j] = the chunk's column sum of dz, in a fixed order.
template <class T, class A>
__global__ void bias_act_chunk_kernel(A f, const T* dy, const T* saved, T* dz, T* partial, int64_t M, int64_t N,
                                      int64_t rows_per_chunk) {
  __shared__ T sums[kRowsPer][kCols];
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kCols + threadIdx.x;
  const int64_t r0 = blockIdx.y * rows_per_chunk, r1 = r0 + rows_per_chunk < M ? r0 + rows_per_chunk : M;
  T sum = 0;
  if (j < N) {
    for (int64_t i = r0 + threadIdx.y; i < r1; i += kRowsPer) {
      const int64_t k = i * N + j;
      const T v = f.bwd(dy[k], saved ? saved[k] : dy[k]);  // None reads no saved tensor
      dz[k] = v;
      sum += v;
    }
  }
  if (partial == nullptr) return;  // uniform over the grid: no thread waits below
  sums[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && j < N) {
    T s = sums[0][threadIdx.x];
    for (int k = 1; k < kRowsPer; ++k) s += sums[k][threadIdx.x];
    partial[blockIdx.y * N + j] = s;
  }
}

// db[j] += sum over chunks of partial[chunk, j], chunks in order.
template <class T> __global__ void column_sum_kernel(const T* partial, T* db, int64_t chunks, int64_t N) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < N; j += step) {
    T s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += partial[c * N + j];
    db[j] += s;
  }
}

template <class T, class A>
void launch_bias_act(const A& f, const Tensor& dy, const Tensor& saved, const Tensor& dz, const Tensor& db) {
  const int64_t M = dy.shape(0), N = dy.shape(1);
  if (M == 0 || N == 0) return;
  const int device = dy.device().index;
  const int64_t rows_per_chunk = std::max(kChunkRows, (M + 65534) / 65535);  // gridDim.y <= 65535
  const int64_t chunks = (M + rows_per_chunk - 1) / rows_per_chunk, col_blocks = (N + kCols - 1) / kCols;
  if (col_blocks > std::numeric_limits<int>::max())
    throw ValueError(cat("bias_act_backward: too many columns (", N, ")"));
  Tensor partial = db.defined() ? Tensor::empty(Dims{chunks, N}, dy.dtype(), dy.device()) : Tensor{};
  DeviceGuard guard(device);
  const cudaStream_t s = as_stream(stream(device));
  const dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(chunks)), block(kCols, kRowsPer);
  bias_act_chunk_kernel<T><<<grid, block, 0, s>>>(f, dy.data_as<T>(), saved.defined() ? saved.data_as<T>() : nullptr,
                                                  dz.data_as<T>(), partial.defined() ? partial.data_as<T>() : nullptr,
                                                  M, N, rows_per_chunk);
  check(cudaGetLastError(), "the bias_act_backward kernel launch");
  if (!db.defined()) return;
  const unsigned blocks = grid_for(N, kRowThreads);
  column_sum_kernel<T><<<blocks, kRowThreads, 0, s>>>(partial.data_as<T>(), db.data_as<T>(), chunks, N);
  check(cudaGetLastError(), "the bias gradient kernel launch");
}

}  // namespace

void activation(ActKind kind, const Tensor& y, const Tensor& x, const ActParams& params) {
  visit_float(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    act::visit_kind<T>(kind, params, [&](auto f) {
      for_each_element<2>(y.shape(), {&y, &x}, y.device().index, Forward<T, decltype(f)>{f});
    });
  });
}

void activation_backward(ActKind kind, const Tensor& dx, const Tensor& dy, const Tensor& saved,
                         const ActParams& params) {
  visit_float(dx.dtype(), [&](auto zero) {
    using T = decltype(zero);
    act::visit_kind<T>(kind, params, [&](auto f) {
      for_each_element<3>(dx.shape(), {&dx, &dy, &saved}, dx.device().index, Backward<T, decltype(f)>{f});
    });
  });
}

void softmax(const Tensor& y, const Tensor& x, int64_t outer, int64_t C, int64_t inner, bool log) {
  visit_float(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const RowLayout layout{C, inner};
    const auto run = [&](const auto& row) {
      for_each_row(row, outer * inner, C, inner == 1, y.device().index, "a softmax kernel launch");
    };
    if (log) run(SoftmaxRow<T, true>{x.data_as<T>(), y.data_as<T>(), layout});
    else run(SoftmaxRow<T, false>{x.data_as<T>(), y.data_as<T>(), layout});
  });
}

void softmax_backward(const Tensor& dx, const Tensor& dy, const Tensor& y, int64_t outer, int64_t C, int64_t inner,
                      bool log) {
  visit_float(dx.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const RowLayout layout{C, inner};
    const auto run = [&](const auto& row) {
      for_each_row(row, outer * inner, C, inner == 1, dx.device().index, "a softmax backward kernel launch");
    };
    if (log) run(SoftmaxBackwardRow<T, true>{dy.data_as<T>(), y.data_as<T>(), dx.data_as<T>(), layout});
    else run(SoftmaxBackwardRow<T, false>{dy.data_as<T>(), y.data_as<T>(), dx.data_as<T>(), layout});
  });
}

void bias_act_backward(Activation act, const Tensor& dy, const Tensor& saved, const Tensor& dz, const Tensor& db,
                       double leaky_slope) {
  visit_float(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    act::visit_activation<T>(act, leaky_slope, [&](auto f) { launch_bias_act<T>(f, dy, saved, dz, db); });
  });
}

}  // namespace fusednn::cuda
