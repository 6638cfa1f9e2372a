// The normalization family on CUDA devices: layer norm one block per row, batch norm and the parameter
// gradients through a two-stage column reduction, dropout on the random family's Philox stream. Statistics
// accumulate in double as on the CPU (cpu/normalization_loops.cpp), in a fixed order (no atomics):
//   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = xhat * w + b
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w;  dw = sum dy * xhat;  db = sum dy
#include <algorithm>
#include <cstdint>

#include "core/philox.h"
#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"
#include "fusednn/normalization.h"

namespace fusednn::cuda {
namespace {

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kRowLanes = 8;         // rows a column-reduction block reads side by side
constexpr int64_t kMaxGrid = 65535;  // blocks of a grid-stride launch (any more just loop)

// Threads for a block that loops over `items`: a multiple of the warp, at most 256.
int block_threads(int64_t items) {
  return static_cast<int>(std::min<int64_t>(256, std::max<int64_t>(kWarp, (items + kWarp - 1) / kWarp * kWarp)));
}

// Sums K doubles over the block (blockDim.x a multiple of 32) and hands the totals to every thread, in an
// order fixed by blockDim alone. scratch: K * 32 doubles of shared memory. Every thread must call it.
template <int K>
__device__ void block_sum(double (&v)[K], double* scratch) {
  for (int k = 0; k < K; ++k)
    for (int offset = kWarp / 2; offset > 0; offset /= 2) v[k] += __shfl_down_sync(kFullMask, v[k], offset);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  __syncthreads();  // readers of the previous call are done with scratch
  if (lane == 0)
    for (int k = 0; k < K; ++k) scratch[k * kWarp + warp] = v[k];
  __syncthreads();
  for (int k = 0; k < K; ++k) {
    double total = 0;
    for (int i = 0; i < warps; ++i) total += scratch[k * kWarp + i];
    v[k] = total;
  }
}

template <class F>
__global__ void index_kernel(int64_t n, F f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) f(i);
}

// f(i) for i in [0, n) on `device`'s stream.
template <class F>
void for_each_index(int device, int64_t n, const F& f) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxGrid);
  DeviceGuard guard(device);
  index_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream(device))>>>(n, f);
  check(cudaGetLastError(), "a normalization kernel launch");
}

// ---- column reduction: sums[k][g] = sum over rows r and columns g*L .. g*L+L-1 of term k of f(r, col) ----

// Stage 1: block (tile of 32 columns, segment s of the rows) writes partial[k][s][col].
template <int K, class F>
__global__ void column_partials_kernel(int64_t rows, int64_t cols, int64_t rows_per_segment, F f, double* partial) {
  __shared__ double tile[K][kRowLanes][kWarp];
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kWarp + threadIdx.x;
  const int64_t segment = blockIdx.y;
  const int64_t r0 = segment * rows_per_segment, r1 = std::min(rows, r0 + rows_per_segment);
  double s[K] = {};
  if (col < cols)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) f(r, col, s);
  for (int k = 0; k < K; ++k) tile[k][threadIdx.y][threadIdx.x] = s[k];
  __syncthreads();
  if (threadIdx.y != 0 || col >= cols) return;
  for (int k = 0; k < K; ++k) {
    double total = 0;
    for (int i = 0; i < kRowLanes; ++i) total += tile[k][i][threadIdx.x];
    partial[(k * gridDim.y + segment) * cols + col] = total;
  }
}

// Stage 2: one block per group sums its segments x L partials.
template <int K>
__global__ void group_sums_kernel(const double* partial, int64_t segments, int64_t groups, int64_t L, double* sums) {
  __shared__ double scratch[K * kWarp];
  const int64_t cols = groups * L, items = segments * L;
  for (int64_t g = blockIdx.x; g < groups; g += gridDim.x) {
    double s[K] = {};
    for (int64_t i = threadIdx.x; i < items; i += blockDim.x) {
      const int64_t segment = i / L, col = g * L + i % L;
      for (int k = 0; k < K; ++k) s[k] += partial[(k * segments + segment) * cols + col];
    }
    block_sum(s, scratch);
    if (threadIdx.x == 0)
      for (int k = 0; k < K; ++k) sums[k * groups + g] = s[k];
  }
}

// (K, groups) float64 sums on `device` of the terms f(r, col, s) adds to s[0..K) over a (rows, groups * L)
// layout. About 2048 stage-1 blocks, so short and tall shapes both fill the device.
template <int K, class F>
Tensor column_group_sums(int device, int64_t rows, int64_t groups, int64_t L, const F& f) {
  const Device where = Device::cuda(device);
  Tensor sums = Tensor::empty({K * groups}, DType::Float64, where);
  if (groups == 0) return sums;
  const int64_t cols = groups * L, tiles = (cols + kWarp - 1) / kWarp;
  int64_t segments = std::min<int64_t>(std::max<int64_t>(1, 2048 / std::max<int64_t>(tiles, 1)), 1024);
  segments = std::min(segments, std::max<int64_t>(1, (rows + 4 * kRowLanes - 1) / (4 * kRowLanes)));
  const int64_t rows_per_segment = (rows + segments - 1) / segments;
  const Tensor partial = Tensor::empty({K * segments * cols}, DType::Float64, where);
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream(device));
  if (cols > 0) {  // tiles < 2^31: a device tensor of 2^36 elements does not fit in memory
    column_partials_kernel<K><<<dim3(static_cast<unsigned>(tiles), static_cast<unsigned>(segments)),
                                dim3(kWarp, kRowLanes), 0, s>>>(rows, cols, rows_per_segment, f,
                                                                partial.data_as<double>());
    check(cudaGetLastError(), "a column-reduction kernel launch");
  }
  const int64_t blocks = std::min(groups, kMaxGrid);
  group_sums_kernel<K><<<static_cast<unsigned>(blocks), block_threads(segments * L), 0, s>>>(
      partial.data_as<double>(), segments, groups, L, sums.data_as<double>());
  check(cudaGetLastError(), "a group-sum kernel launch");
  return sums;
}

// ---- layer norm: one block per row ----

template <class T>
__global__ void ln_forward_kernel(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t rows,
                                  int64_t D, double eps) {
  __shared__ double scratch[kWarp];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    double s[1] = {0};
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s[0] += xr[j];
    block_sum(s, scratch);
    const double mu = s[0] / D;
    double v[1] = {0};
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) v[0] += (xr[j] - mu) * (xr[j] - mu);
    block_sum(v, scratch);
    const double rs = 1 / sqrt(v[0] / D + eps);
    const T m = T(mu), q = T(rs);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) yr[j] = (xr[j] - m) * q * w[j] + b[j];
    if (threadIdx.x == 0) {
      mean[r] = m;
      rstd[r] = q;
    }
  }
}

template <class T>
__global__ void ln_backward_dx_kernel(const T* dy, const T* x, const T* w, const T* mean, const T* rstd, T* dx,
                                      int64_t rows, int64_t D) {
  __shared__ double scratch[2 * kWarp];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* dyr = dy + r * D;
    const T* xr = x + r * D;
    const T m = mean[r], q = rstd[r];
    double s[2] = {0, 0};  // sum g, sum g * xhat
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const T g = dyr[j] * w[j];
      s[0] += g;
      s[1] += g * ((xr[j] - m) * q);
    }
    block_sum(s, scratch);
    const T a = T(s[0] / D), c = T(s[1] / D);
    T* dxr = dx + r * D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) dxr[j] = q * (dyr[j] * w[j] - a - (xr[j] - m) * q * c);
  }
}

// Terms of dw[j] = sum_r dy * xhat and db[j] = sum_r dy.
template <class T>
struct LnParamTerms {
  const T *dy, *x, *mean, *rstd;
  int64_t D;
  __device__ void operator()(int64_t r, int64_t j, double* s) const {
    const int64_t i = r * D + j;
    s[0] += dy[i] * ((x[i] - mean[r]) * rstd[r]);
    s[1] += dy[i];
  }
};

// out[i] = T(sums[i]) for the n values of one row of sums.
template <class T>
struct CastSums {
  const double* sums;
  T* out;
  __device__ void operator()(int64_t i) const { out[i] = T(sums[i]); }
};

// ---- batch norm over the (N, C * L) layout: channel c owns columns c*L .. c*L+L-1 ----

template <class T>
struct ChannelSum {
  const T* x;
  int64_t cols;
  __device__ void operator()(int64_t n, int64_t col, double* s) const { s[0] += x[n * cols + col]; }
};

template <class T>
struct ChannelCenteredSquares {  // (x - mu)^2 with mu = sum / M in double, as the CPU's two passes
  const T* x;
  const double* sum;
  double M;
  int64_t cols, L;
  __device__ void operator()(int64_t n, int64_t col, double* s) const {
    const double d = x[n * cols + col] - sum[col / L] / M;
    s[0] += d * d;
  }
};

template <class T>
struct StatsFinish {
  const double *sum, *squares;
  double M;
  T *mean, *var;
  __device__ void operator()(int64_t c) const {
    mean[c] = T(sum[c] / M);
    var[c] = T(squares[c] / M);
  }
};

template <class T>
struct Rstd {
  const T* var;
  T* rstd;
  double eps;
  __device__ void operator()(int64_t c) const { rstd[c] = T(1 / sqrt(double(var[c]) + eps)); }
};

template <class T>
struct BnApply {
  const T *x, *mean, *rstd, *w, *b;
  T* y;
  int64_t C, L;
  __device__ void operator()(int64_t i) const {
    const int64_t c = i / L % C;
    const T scale = rstd[c] * w[c], shift = b[c] - mean[c] * rstd[c] * w[c];
    y[i] = x[i] * scale + shift;
  }
};

template <class T>
struct BnGradTerms {  // s[0] += dy, s[1] += dy * xhat
  const T *dy, *x, *mean, *rstd;
  int64_t cols, L;
  __device__ void operator()(int64_t n, int64_t col, double* s) const {
    const int64_t i = n * cols + col, c = col / L;
    s[0] += dy[i];
    s[1] += dy[i] * ((x[i] - mean[c]) * rstd[c]);
  }
};

template <class T>
struct BnParamGrads {
  const double* sums;  // (2, C): sum dy, sum dy * xhat
  T *dw, *db;          // either may be null
  int64_t C;
  __device__ void operator()(int64_t c) const {
    if (dw) dw[c] = T(sums[C + c]);
    if (db) db[c] = T(sums[c]);
  }
};

template <class T>
struct BnDx {
  const T *dy, *x, *mean, *rstd, *w;
  const double* sums;  // training only
  T* dx;
  double M;
  int64_t C, L;
  __device__ void operator()(int64_t i) const {
    const int64_t c = i / L % C;
    const T m = mean[c], q = rstd[c], k = q * w[c];
    const T a = sums ? T(sums[c] / M) : T(0), s = sums ? T(sums[C + c] / M) : T(0);
    dx[i] = k * (dy[i] - a - (x[i] - m) * q * s);
  }
};

// ---- dropout: one thread per Philox block of 4 elements ----

template <class T>
__global__ void dropout_kernel(const T* x, T* y, T* mask, int64_t n, uint64_t key, uint64_t counter, float p,
                               T scale) {
  constexpr float kBelowOne = 0x1.fffffep-1f;  // the CPU draw's ceiling, nextafter(1, 0): u never reaches it
  const int64_t blocks = (n + 3) / 4;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks; b += step) {
    uint32_t w[4];
    philox::block(counter + static_cast<uint64_t>(b), key, w);
    for (int j = 0; j < 4; ++j) {
      const int64_t i = 4 * b + j;
      if (i >= n) break;
      const T m = philox::uniform_f32(w[j], 0.0f, 1.0f, kBelowOne) >= p ? scale : T(0);
      mask[i] = m;
      y[i] = x[i] * m;
    }
  }
}

// Calls f(T{}) for x's float dtype (the driver has checked it is float32 or float64).
template <class F>
void visit_float(const Tensor& x, const F& f) {
  if (x.dtype() == DType::Float32) f(float{});
  else if (x.dtype() == DType::Float64) f(double{});
  else throw TypeError(cat("normalization: expected a float32 or float64 tensor, got ", dtype_name(x.dtype())));
}

template <class T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_as<T>() : nullptr;
}

}  // namespace

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Tensor& mean,
                const Tensor& rstd, int64_t D, double eps) {
  const int64_t rows = x.numel() / D;
  if (rows == 0) return;
  const int device = x.device().index;
  visit_float(x, [&](auto zero) {
    using T = decltype(zero);
    DeviceGuard guard(device);
    ln_forward_kernel<T><<<static_cast<unsigned>(std::min(rows, kMaxGrid)), block_threads(D), 0,
                           as_stream(stream(device))>>>(x.data_as<T>(), w.data_as<T>(), b.data_as<T>(),
                                                        y.data_as<T>(), mean.data_as<T>(), rstd.data_as<T>(), rows,
                                                        D, eps);
    check(cudaGetLastError(), "a layer_norm kernel launch");
  });
}

void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                         int64_t D, const Tensor& dx, const Tensor& dw, const Tensor& db) {
  const int64_t rows = x.numel() / D;
  const int device = x.device().index;
  visit_float(x, [&](auto zero) {
    using T = decltype(zero);
    if (dx.defined() && rows > 0) {
      DeviceGuard guard(device);
      ln_backward_dx_kernel<T><<<static_cast<unsigned>(std::min(rows, kMaxGrid)), block_threads(D), 0,
                                 as_stream(stream(device))>>>(dy.data_as<T>(), x.data_as<T>(), w.data_as<T>(),
                                                              mean.data_as<T>(), rstd.data_as<T>(),
                                                              dx.data_as<T>(), rows, D);
      check(cudaGetLastError(), "a layer_norm backward kernel launch");
    }
    if (!dw.defined() && !db.defined()) return;
    const Tensor sums = column_group_sums<2>(
        device, rows, D, 1, LnParamTerms<T>{dy.data_as<T>(), x.data_as<T>(), mean.data_as<T>(), rstd.data_as<T>(), D});
    if (dw.defined()) for_each_index(device, D, CastSums<T>{sums.data_as<double>(), dw.data_as<T>()});
    if (db.defined()) for_each_index(device, D, CastSums<T>{sums.data_as<double>() + D, db.data_as<T>()});
  });
}

void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var, int64_t N, int64_t C, int64_t L) {
  const int device = x.device().index;
  const double M = double(N * L);
  visit_float(x, [&](auto zero) {
    using T = decltype(zero);
    const T* xs = x.data_as<T>();
    const Tensor sum = column_group_sums<1>(device, N, C, L, ChannelSum<T>{xs, C * L});
    const Tensor squares =
        column_group_sums<1>(device, N, C, L, ChannelCenteredSquares<T>{xs, sum.data_as<double>(), M, C * L, L});
    for_each_index(device, C,
                   StatsFinish<T>{sum.data_as<double>(), squares.data_as<double>(), M, mean.data_as<T>(),
                                  var.data_as<T>()});
  });
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& w, const Tensor& b,
                      const Tensor& rstd, const Tensor& y, int64_t N, int64_t C, int64_t L, double eps) {
  const int device = x.device().index;
  visit_float(x, [&](auto zero) {
    using T = decltype(zero);
    for_each_index(device, C, Rstd<T>{var.data_as<T>(), rstd.data_as<T>(), eps});
    for_each_index(device, N * C * L,
                   BnApply<T>{x.data_as<T>(), mean.data_as<T>(), rstd.data_as<T>(), w.data_as<T>(), b.data_as<T>(),
                              y.data_as<T>(), C, L});
  });
}

void batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& w,
                         const Tensor& dx, const Tensor& dw, const Tensor& db, int64_t N, int64_t C, int64_t L,
                         bool training) {
  const int device = x.device().index;
  visit_float(x, [&](auto zero) {
    using T = decltype(zero);
    const bool need_sums = dw.defined() || db.defined() || (dx.defined() && training);
    Tensor sums;
    if (need_sums)
      sums = column_group_sums<2>(device, N, C, L,
                                  BnGradTerms<T>{dy.data_as<T>(), x.data_as<T>(), mean.data_as<T>(),
                                                 rstd.data_as<T>(), C * L, L});
    if (dw.defined() || db.defined())
      for_each_index(device, C, BnParamGrads<T>{sums.data_as<double>(), data_or_null<T>(dw), data_or_null<T>(db), C});
    if (dx.defined())
      for_each_index(device, N * C * L,
                     BnDx<T>{dy.data_as<T>(), x.data_as<T>(), mean.data_as<T>(), rstd.data_as<T>(), w.data_as<T>(),
                             training ? sums.data_as<double>() : nullptr, dx.data_as<T>(), double(N * L), C, L});
  });
}

void dropout(const Tensor& x, const Tensor& y, const Tensor& mask, uint64_t key, uint64_t counter, float p,
             double scale) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const int device = x.device().index;
  visit_float(x, [&](auto zero) {
    using T = decltype(zero);
    constexpr int kThreads = 256;
    const int64_t blocks = std::min<int64_t>(((n + 3) / 4 + kThreads - 1) / kThreads, kMaxGrid);
    DeviceGuard guard(device);
    dropout_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream(device))>>>(
        x.data_as<T>(), y.data_as<T>(), mask.data_as<T>(), n, key, counter, p, T(scale));
    check(cudaGetLastError(), "a dropout kernel launch");
  });
}

}  // namespace fusednn::cuda
