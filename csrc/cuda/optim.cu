// The optim family on CUDA devices: an optimizer step as ONE launch over every parameter (the update rules
// of core/optim_ops.h, shared with the CPU loops), and the clipping passes over a list of gradients: the
// global norm as two launches in double (per-chunk partials, then one block combining them in a fixed
// order: the same bits on every run), in-place scaling and clamping.
//
// Multi-tensor launches: the host cuts every tensor into chunks of kChunk elements and ships a table of the
// tensors (pointers, sizes, first chunk, per-tensor scalars) with the launch; each block takes chunks
// blockIdx.x, blockIdx.x + gridDim.x, ... and finds a chunk's tensor by binary search over the first-chunk
// column. A chunk never spans two tensors, so dtype and rule are uniform within a block.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/optim_ops.h"
#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/optim.h"

namespace fusednn::cuda {
namespace {

struct DeviceMath {
  template <class T> FUSEDNN_HD static T sqrt(T x) { return ::sqrt(x); }
  template <class T> FUSEDNN_HD static T abs(T x) { return ::fabs(x); }
};
using Ops = OptimOps<DeviceMath>;

constexpr int kThreads = 256;                  // a power of two: the block reductions halve it
constexpr int64_t kChunk = 32 * kThreads;      // elements per chunk: 32 per thread
constexpr int64_t kMaxBlocks = 65535;

// One parameter's share of a step, as the kernel reads it.
struct Slot {
  void* param;
  const void* grad;
  void* state[3];
  int64_t numel, first_chunk;
  StepCoef coef;
  Ops::Variant variant;
  DType dtype;
};

// One tensor of a clipping pass.
struct Piece {
  void* data;
  int64_t numel, first_chunk;
  DType dtype;
};

// Numbers the chunks of every entry (none may be empty); returns the total.
template <class Entry>
int64_t number_chunks(std::vector<Entry>& table) {
  int64_t chunks = 0;
  for (Entry& e : table) {
    e.first_chunk = chunks;
    chunks += (e.numel + kChunk - 1) / kChunk;
  }
  return chunks;
}

// The entry holding `chunk`: the last one whose first chunk is <= chunk (table[0].first_chunk is 0).
template <class Entry>
__device__ const Entry& entry_of(const Entry* table, int n, int64_t chunk) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (table[mid].first_chunk <= chunk) lo = mid;
    else hi = mid - 1;
  }
  return table[lo];
}

// Element range [begin, end) of `chunk` within its entry.
template <class Entry>
__device__ void chunk_range(const Entry& e, int64_t chunk, int64_t& begin, int64_t& end) {
  begin = (chunk - e.first_chunk) * kChunk;
  end = begin + kChunk < e.numel ? begin + kChunk : e.numel;
}

unsigned grid_for(int64_t chunks) { return static_cast<unsigned>(std::min(chunks, kMaxBlocks)); }

// Device memory for one launch's table or results. Released at scope exit without waiting: a later
// allocation that reuses the block is ordered after this launch on the device's one stream.
class DeviceBuffer {
 public:
  DeviceBuffer(size_t nbytes, int device) : device_(device), ptr_(allocate(nbytes, device, &capacity_)) {}
  // A copy of host memory (taken before the constructor returns, so the host side may go at once).
  DeviceBuffer(const void* host, size_t nbytes, int device) : DeviceBuffer(nbytes, device) {
    copy_host_to_device(ptr_, host, nbytes, device);
  }
  ~DeviceBuffer() { release(ptr_, capacity_, device_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T> T* as() const { return static_cast<T*>(ptr_); }

 private:
  int device_;
  size_t capacity_ = 0;
  void* ptr_;
};

// ---- the optimizer step ----

template <class T, OptimAlgo A>
__device__ void update_chunk(const Slot& s, int64_t begin, int64_t end) {
  const Ops::Coef<T> k(s.coef);
  Ops::with_rule<T, A>(s.variant, k, s.coef.first, static_cast<T*>(s.param), static_cast<const T*>(s.grad),
                       static_cast<T*>(s.state[0]), static_cast<T*>(s.state[1]), static_cast<T*>(s.state[2]),
                       [begin, end](const auto& rule) {
                         for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) rule(i);
                       });
}

template <OptimAlgo A>
__global__ void step_kernel(const Slot* slots, int n, int64_t chunks) {
  for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    const Slot& s = entry_of(slots, n, c);
    int64_t begin, end;
    chunk_range(s, c, begin, end);
    if (s.dtype == DType::Float32) update_chunk<float, A>(s, begin, end);
    else update_chunk<double, A>(s, begin, end);
  }
}

template <OptimAlgo A>
void launch_step(const Slot* slots, int n, int64_t chunks, int device) {
  step_kernel<A><<<grid_for(chunks), kThreads, 0, as_stream(stream(device))>>>(slots, n, chunks);
}

// ---- clipping ----

std::vector<Piece> pieces_of(const std::vector<Tensor>& tensors) {
  std::vector<Piece> table;
  for (const Tensor& t : tensors)
    if (t.numel() > 0) table.push_back(Piece{t.data(), t.numel(), 0, t.dtype()});
  return table;
}

// Sums this thread's elements of the chunk in order: |x|^p (max |x| when is_max) and the NaN count.
template <class T>
__device__ void thread_norm(const T* x, int64_t begin, int64_t end, double p, bool is_max, double& value,
                            double& nans) {
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const double a = ::fabs(double(x[i]));
    if (is_max) value = a > value ? a : value;
    else value += p == 2 ? a * a : p == 1 ? a : ::pow(a, p);
    nans += a != a ? 1.0 : 0.0;
  }
}

// Combines the block's (value, nans) pairs in a fixed tree order; thread 0 ends with the total. Every thread
// of the block must call it.
__device__ void block_combine(double* value, double* nans, bool is_max) {
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const double other = value[threadIdx.x + half];
      value[threadIdx.x] = is_max ? (other > value[threadIdx.x] ? other : value[threadIdx.x])
                                  : value[threadIdx.x] + other;
      nans[threadIdx.x] += nans[threadIdx.x + half];
    }
    __syncthreads();
  }
}

// parts[2c], parts[2c + 1]: chunk c's (sum |x|^p or max |x|, NaN count).
__global__ void norm_parts_kernel(const Piece* pieces, int n, int64_t chunks, double p, double* parts) {
  __shared__ double value[kThreads], nans[kThreads];
  const bool is_max = isinf(p);
  for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {  // the same c for every thread of the block
    const Piece& t = entry_of(pieces, n, c);
    int64_t begin, end;
    chunk_range(t, c, begin, end);
    double v = 0, nn = 0;
    if (t.dtype == DType::Float32) thread_norm(static_cast<const float*>(t.data), begin, end, p, is_max, v, nn);
    else thread_norm(static_cast<const double*>(t.data), begin, end, p, is_max, v, nn);
    value[threadIdx.x] = v;
    nans[threadIdx.x] = nn;
    block_combine(value, nans, is_max);
    if (threadIdx.x == 0) parts[2 * c] = value[0], parts[2 * c + 1] = nans[0];
    __syncthreads();  // the shared arrays are refilled for the next chunk
  }
}

// One block: out[0], out[1] = the combination of all chunks' parts, each thread taking every kThreads-th
// part in order, then the tree.
__global__ void norm_combine_kernel(const double* parts, int64_t chunks, bool is_max, double* out) {
  __shared__ double value[kThreads], nans[kThreads];
  double v = 0, nn = 0;
  for (int64_t c = threadIdx.x; c < chunks; c += kThreads) {
    const double x = parts[2 * c];
    v = is_max ? (x > v ? x : v) : v + x;
    nn += parts[2 * c + 1];
  }
  value[threadIdx.x] = v;
  nans[threadIdx.x] = nn;
  block_combine(value, nans, is_max);
  if (threadIdx.x == 0) out[0] = value[0], out[1] = nans[0];
}

struct Scale {
  double factor;
  template <class T> __device__ T operator()(T x) const { return x * T(factor); }
};
struct Clamp {
  double lo, hi;
  template <class T> __device__ T operator()(T x) const { return Ops::clamp(x, T(lo), T(hi)); }
};

template <class F>
__global__ void map_kernel(const Piece* pieces, int n, int64_t chunks, F f) {
  for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    const Piece& t = entry_of(pieces, n, c);
    int64_t begin, end;
    chunk_range(t, c, begin, end);
    if (t.dtype == DType::Float32) {
      float* x = static_cast<float*>(t.data);
      for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) x[i] = f(x[i]);
    } else {
      double* x = static_cast<double*>(t.data);
      for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) x[i] = f(x[i]);
    }
  }
}

// x = f(x) over every element of the tensors (all on one device), one launch.
template <class F>
void map_in_place(const std::vector<Tensor>& tensors, F f, const char* what) {
  std::vector<Piece> table = pieces_of(tensors);
  if (table.empty()) return;
  const int device = tensors[0].device().index;
  const int64_t chunks = number_chunks(table);
  const DeviceBuffer on_device(table.data(), table.size() * sizeof(Piece), device);
  DeviceGuard guard(device);
  map_kernel<<<grid_for(chunks), kThreads, 0, as_stream(stream(device))>>>(on_device.as<Piece>(),
                                                                          static_cast<int>(table.size()), chunks, f);
  check(cudaGetLastError(), what);
}

}  // namespace

void optim_step(OptimAlgo algo, const std::vector<OptimHyper>& groups, const std::vector<StepCoef>& coefs,
                const std::vector<OptimSlot>& slots, int device) {
  std::vector<Slot> table;
  for (size_t i = 0; i < slots.size(); ++i) {
    const OptimSlot& s = slots[i];
    if (s.numel == 0) continue;
    table.push_back(Slot{s.param, s.grad, {s.state[0], s.state[1], s.state[2]}, s.numel, 0, coefs[i],
                         Ops::variant(algo, groups[s.group]), s.dtype});
  }
  if (table.empty()) return;
  const int64_t chunks = number_chunks(table);
  const DeviceBuffer on_device(table.data(), table.size() * sizeof(Slot), device);
  const Slot* t = on_device.as<Slot>();
  const int n = static_cast<int>(table.size());
  DeviceGuard guard(device);
  switch (algo) {
    case OptimAlgo::SGD: launch_step<OptimAlgo::SGD>(t, n, chunks, device); break;
    case OptimAlgo::Adam: launch_step<OptimAlgo::Adam>(t, n, chunks, device); break;
    case OptimAlgo::RMSprop: launch_step<OptimAlgo::RMSprop>(t, n, chunks, device); break;
    case OptimAlgo::Adagrad: launch_step<OptimAlgo::Adagrad>(t, n, chunks, device); break;
    case OptimAlgo::Adamax: launch_step<OptimAlgo::Adamax>(t, n, chunks, device); break;
    case OptimAlgo::NAdam: launch_step<OptimAlgo::NAdam>(t, n, chunks, device); break;
  }
  check(cudaGetLastError(), "an optimizer step launch");
}

void norm_parts(const std::vector<Tensor>& tensors, double p, double out[2]) {
  out[0] = out[1] = 0;
  std::vector<Piece> table = pieces_of(tensors);
  if (table.empty()) return;
  const int device = tensors[0].device().index;
  const int64_t chunks = number_chunks(table);
  const DeviceBuffer on_device(table.data(), table.size() * sizeof(Piece), device);
  const DeviceBuffer parts((2 * chunks + 2) * sizeof(double), device);  // the last two: the total
  double* total = parts.as<double>() + 2 * chunks;
  {
    DeviceGuard guard(device);
    const cudaStream_t s = as_stream(stream(device));
    norm_parts_kernel<<<grid_for(chunks), kThreads, 0, s>>>(on_device.as<Piece>(), static_cast<int>(table.size()),
                                                             chunks, p, parts.as<double>());
    check(cudaGetLastError(), "a gradient norm launch");
    norm_combine_kernel<<<1, kThreads, 0, s>>>(parts.as<double>(), chunks, std::isinf(p), total);
    check(cudaGetLastError(), "a gradient norm launch");
  }
  copy_device_to_host(out, total, 2 * sizeof(double), device);
}

void scale_(const std::vector<Tensor>& tensors, double factor) {
  map_in_place(tensors, Scale{factor}, "a gradient scaling launch");
}

void clamp_(const std::vector<Tensor>& tensors, double lo, double hi) {
  map_in_place(tensors, Clamp{lo, hi}, "a gradient clamping launch");
}

}  // namespace fusednn::cuda
