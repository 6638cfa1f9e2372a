// The reduce family on CUDA devices. Rows of a C-contiguous (rows, n) tensor are cut into chunks of kChunk
// elements; one block reduces a chunk (each thread a strided share, then warp shuffles and a shared-memory
// step in a fixed tree), a second pass of the same kernel folds a row's chunk results, and a last kernel
// finishes them. The tree depends on the shape alone, so results are deterministic. The combining and
// finishing formulas are the CPU's (core/reduce_ops.h).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/reduce_ops.h"
#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"
#include "fusednn/reduce.h"

namespace fusednn::cuda {
namespace {

using cpu::KernelOp;

struct DeviceTag {};
using Ops = ReduceOps<DeviceTag>;

constexpr int kMaxThreads = 256;            // threads per block (a multiple of 32)
constexpr int kWarps = kMaxThreads / 32;
constexpr int64_t kChunk = int64_t{1} << 14;  // elements one block reduces: 64 per thread
constexpr int64_t kMaxBlocks = int64_t{1} << 16;

// Threads for rows of n elements: a whole number of warps, no more than the row needs.
int threads_for(int64_t n) { return static_cast<int>(std::clamp<int64_t>((n + 31) / 32 * 32, 32, kMaxThreads)); }

template <class T>
__device__ T shuffle_down(T v, int offset) {
  if constexpr (std::is_same_v<T, bool>) return __shfl_down_sync(0xffffffffu, static_cast<int>(v), offset) != 0;
  else return __shfl_down_sync(0xffffffffu, v, offset);
}

// The combination of every thread's v, valid in thread 0. Every thread of the block must call it (it
// synchronises); `shared` holds kWarps values.
template <class R, class V>
__device__ V block_reduce(const R& r, V v, V* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int offset = 16; offset > 0; offset >>= 1) v = r.combine(v, R::shuffle(v, offset));
  __syncthreads();  // the previous unit's readers of `shared` are done
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? shared[lane] : r.identity();
    for (int offset = 16; offset > 0; offset >>= 1) v = r.combine(v, R::shuffle(v, offset));
  }
  return v;
}

// partial[u] = r's reduction of elements [c * chunk, min(n, (c + 1) * chunk)) of row `row`, for each unit
// u = row * chunks + c. R supplies V, identity(), combine(a, b), load(row, i) and shuffle(v, offset).
template <class R>
__global__ void chunks_kernel(R r, int64_t rows, int64_t n, int64_t chunks, typename R::V* partial) {
  using V = typename R::V;
  __shared__ V shared[kWarps];
  const int64_t units = rows * chunks;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {  // uniform in the block: every thread syncs
    const int64_t row = u / chunks, begin = u % chunks * kChunk, end = n - begin < kChunk ? n : begin + kChunk;
    V acc = r.identity();
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) acc = r.combine(acc, r.load(row, i));
    acc = block_reduce(r, acc, shared);
    if (threadIdx.x == 0) partial[u] = acc;
  }
}

int64_t chunks_of(int64_t n) { return std::max<int64_t>(1, (n + kChunk - 1) / kChunk); }

template <class R>
void launch_chunks(const R& r, int64_t rows, int64_t n, typename R::V* partial, int device) {
  const int64_t units = rows * chunks_of(n);
  if (units == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min(units, kMaxBlocks));
  DeviceGuard guard(device);
  chunks_kernel<<<blocks, threads_for(std::min(n, kChunk)), 0, as_stream(stream(device))>>>(r, rows, n, chunks_of(n),
                                                                                             partial);
  check(cudaGetLastError(), "a reduction kernel launch");
}

// Scratch device memory for `count` values of V (uninitialised; freed with the tensor).
template <class V>
Tensor scratch(int64_t count, int device) {
  const int64_t words = (count * static_cast<int64_t>(sizeof(V)) + 7) / 8;
  return Tensor::empty(Dims{words}, DType::Int64, Device::cuda(device));
}
template <class V>
V* as(const Tensor& t) { return static_cast<V*>(t.data()); }

// Loads the chunk results of each row (a (rows, chunks) table) to combine them with C's combine.
template <class C>
struct Fold : C {
  const typename C::V* partial;
  int64_t chunks;
  __device__ typename C::V load(int64_t row, int64_t c) const { return partial[row * chunks + c]; }
};

// The table of one value per row: r's chunk results, folded (with C) in the same tree until a row has one.
template <class C, class R>
Tensor reduce_rows(const R& r, int64_t rows, int64_t n, int device) {
  using V = typename R::V;
  int64_t chunks = chunks_of(n);
  Tensor partial = scratch<V>(rows * chunks, device);
  launch_chunks(r, rows, n, as<V>(partial), device);
  while (chunks > 1) {  // once unless a row has more than kChunk^2 elements
    const int64_t next = chunks_of(chunks);
    Tensor folded = scratch<V>(rows * next, device);
    launch_chunks(Fold<C>{{}, as<V>(partial), chunks}, rows, chunks, as<V>(folded), device);
    partial = folded;
    chunks = next;
  }
  return partial;
}

// ---- sum/prod/max/min/all/any/mean and the two passes of var/std ----

// The wide type a kernel op accumulates in: double for float sums and SqDev, bool for Any/All, else the
// accumulator (cpu::wide_dtype).
template <KernelOp Op, class Acc>
using Wide = std::conditional_t<Op == KernelOp::Any || Op == KernelOp::All, bool,
                                std::conditional_t<Op == KernelOp::SqDev ||
                                                       (Op == KernelOp::Sum && std::is_floating_point_v<Acc>),
                                                   double, Acc>>;

template <KernelOp Op, class W>
struct Combine {
  using V = W;
  __device__ static V identity() {
    using L = std::numeric_limits<V>;
    if constexpr (Op == KernelOp::Prod || Op == KernelOp::All) return V(1);
    else if constexpr (Op == KernelOp::Max) return L::has_infinity ? -L::infinity() : L::lowest();
    else if constexpr (Op == KernelOp::Min) return L::has_infinity ? L::infinity() : L::max();
    else return V(0);
  }
  __device__ static V combine(V a, V b) { return Ops::combine<Op>(a, b); }
  __device__ static V shuffle(V v, int offset) { return shuffle_down(v, offset); }
};

// Elements of x converted as the CPU's lanes are: to the accumulator type, then widened (Any/All: x != 0;
// SqDev: (x - mean)^2 in double, the mean from the row's sum).
template <KernelOp Op, class In, class Acc>
struct Load : Combine<Op, Wide<Op, Acc>> {
  using V = Wide<Op, Acc>;
  const In* x;
  int64_t n;
  const double* sums;  // SqDev: the row sums of the first pass
  __device__ V load(int64_t row, int64_t i) const {
    const In v = x[row * n + i];
    if constexpr (Op == KernelOp::Any || Op == KernelOp::All) {
      return v != In(0);
    } else if constexpr (Op == KernelOp::SqDev) {
      const double d = static_cast<double>(v) - sums[row] / static_cast<double>(n);
      return d * d;
    } else {
      return static_cast<V>(static_cast<Acc>(v));
    }
  }
};

template <class O, class W>
__global__ void finish_kernel(const W* wide, O* out, int64_t rows, ReduceFinish f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step)
    out[r] = Ops::finish<O>(wide[r], f);
}

// The wide value of each row for Op; chunk results add up for SqDev.
template <KernelOp Op, class In, class Acc>
Tensor wide_rows(const Load<Op, In, Acc>& load, int64_t rows, int64_t n, int device) {
  constexpr KernelOp fold = Op == KernelOp::SqDev ? KernelOp::Sum : Op;
  return reduce_rows<Combine<fold, Wide<Op, Acc>>>(load, rows, n, device);
}

template <class W>
void launch_finish(const Tensor& wide, const Tensor& out, int64_t rows, const ReduceFinish& f, int device) {
  visit_dtype(out.dtype(), [&](auto zero) {
    using O = decltype(zero);
    constexpr int threads = 256;
    const unsigned blocks = static_cast<unsigned>(std::min((rows + threads - 1) / threads, kMaxBlocks));
    DeviceGuard guard(device);
    finish_kernel<O, W><<<blocks, threads, 0, as_stream(stream(device))>>>(as<W>(wide), out.data_as<O>(), rows, f);
    check(cudaGetLastError(), "a reduction kernel launch");
  });
}

// The combinations the CPU kernels have, less SqDev: that only runs as var's second pass, inside run().
constexpr bool valid(KernelOp op, DType in, DType acc) { return op != KernelOp::SqDev && cpu::has_kernel(op, in, acc); }

template <KernelOp Op, class In, class Acc>
void run(bool centered, const ReduceFinish& f, const Tensor& x, int64_t rows, int64_t n, const Tensor& out) {
  const int device = x.device().index;
  const In* data = x.data_as<In>();
  Tensor wide = wide_rows(Load<Op, In, Acc>{{}, data, n, nullptr}, rows, n, device);
  if constexpr (Op == KernelOp::Sum && std::is_same_v<Acc, double>) {
    if (centered) wide = wide_rows(Load<KernelOp::SqDev, In, double>{{}, data, n, as<double>(wide)}, rows, n, device);
  }
  launch_finish<Wide<Op, Acc>>(wide, out, rows, f, device);
}

template <KernelOp Op, class In>
void dispatch_acc(DType acc, bool centered, const ReduceFinish& f, const Tensor& x, int64_t rows, int64_t n,
                  const Tensor& out) {
  visit_dtype(acc, [&](auto zero) {
    using Acc = std::decay_t<decltype(zero)>;
    if constexpr (valid(Op, dtype_of<In>::value, dtype_of<Acc>::value)) run<Op, In, Acc>(centered, f, x, rows, n, out);
    else throw TypeError("reduce: no CUDA kernel for this op and dtype");  // the driver never asks
  });
}

template <KernelOp Op>
void dispatch(DType acc, bool centered, const ReduceFinish& f, const Tensor& x, int64_t rows, int64_t n,
              const Tensor& out) {
  visit_dtype(x.dtype(), [&](auto zero) {
    dispatch_acc<Op, std::decay_t<decltype(zero)>>(acc, centered, f, x, rows, n, out);
  });
}

// ---- argmax / argmin ----

template <class T>
struct Candidate {
  T value;
  int64_t index;  // -1: none yet
};

// Candidates ordered as NumPy's argmax/argmin want: a NaN beats any number, a better value beats a worse
// one, and between equals the smaller index wins. combine is then order-free, so the tree gives exactly
// the first NaN, else the first extreme.
template <bool IsMax, class T>
struct ArgCombine {
  using V = Candidate<T>;
  __device__ static V identity() { return {T(0), -1}; }
  __device__ static bool beats(const V& a, const V& b) {
    if (b.index < 0) return a.index >= 0;
    if (a.index < 0) return false;
    const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
    if (a_nan != b_nan) return a_nan;
    if (!a_nan && a.value != b.value) return IsMax ? a.value > b.value : a.value < b.value;
    return a.index < b.index;
  }
  __device__ static V combine(const V& a, const V& b) { return beats(b, a) ? b : a; }
  __device__ static V shuffle(const V& v, int offset) {
    return {shuffle_down(v.value, offset), shuffle_down(v.index, offset)};
  }
};

template <bool IsMax, class T>
struct ArgLoad : ArgCombine<IsMax, T> {
  const T* x;
  int64_t n;
  __device__ Candidate<T> load(int64_t row, int64_t i) const { return {x[row * n + i], i}; }
};

template <class T>
__global__ void index_kernel(const Candidate<T>* best, int64_t* out, int64_t rows) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step)
    out[r] = best[r].index;
}

template <bool IsMax, class T>
void run_arg(const Tensor& x, int64_t rows, int64_t n, const Tensor& out) {
  using V = Candidate<T>;
  const int device = x.device().index;
  const Tensor best = reduce_rows<ArgCombine<IsMax, T>>(ArgLoad<IsMax, T>{{}, x.data_as<T>(), n}, rows, n, device);
  constexpr int threads = 256;
  const unsigned blocks = static_cast<unsigned>(std::min((rows + threads - 1) / threads, kMaxBlocks));
  DeviceGuard guard(device);
  index_kernel<T><<<blocks, threads, 0, as_stream(stream(device))>>>(as<V>(best), out.data_as<int64_t>(), rows);
  check(cudaGetLastError(), "an argmax/argmin kernel launch");
}

}  // namespace

void reduce(KernelOp op, DType acc, bool centered, const ReduceFinish& finish, const Tensor& x, int64_t rows,
            int64_t n, const Tensor& out) {
  if (rows == 0) return;
  switch (op) {
    case KernelOp::Sum: return dispatch<KernelOp::Sum>(acc, centered, finish, x, rows, n, out);
    case KernelOp::Prod: return dispatch<KernelOp::Prod>(acc, centered, finish, x, rows, n, out);
    case KernelOp::Max: return dispatch<KernelOp::Max>(acc, centered, finish, x, rows, n, out);
    case KernelOp::Min: return dispatch<KernelOp::Min>(acc, centered, finish, x, rows, n, out);
    case KernelOp::Any: return dispatch<KernelOp::Any>(acc, centered, finish, x, rows, n, out);
    case KernelOp::All: return dispatch<KernelOp::All>(acc, centered, finish, x, rows, n, out);
    default: throw TypeError("reduce: no CUDA kernel for this op");
  }
}

void arg_reduce(bool is_max, const Tensor& x, int64_t rows, int64_t n, const Tensor& out) {
  if (rows == 0) return;
  visit_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if (is_max) run_arg<true, T>(x, rows, n, out);
    else run_arg<false, T>(x, rows, n, out);
  });
}

}  // namespace fusednn::cuda
