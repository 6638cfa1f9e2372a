// The indexing family on CUDA devices: offset tables from index arrays (bounds checked into a device value
// the driver reads back before anything is written), and one thread per element of the moves
//   other[pre, b, post] <-> view[pre, offsets[b], post]
// for gather, scatter (the last of repeated indices wins: a stable sort of the offsets keeps only the last
// b of each run) and scatter-add (atomics: repeated indices accumulate).
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cstdint>

#include "cuda/loop.cuh"
#include "fusednn/errors.h"
#include "fusednn/indexing.h"

namespace fusednn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t{1} << 16;

unsigned blocks_for(int64_t total) {
  return static_cast<unsigned>(std::min((total + kThreads - 1) / kThreads, kMaxBlocks));
}

template <class T>
struct OffsetOf {
  const char* table;  // offsets' first element: an element's b is its distance from here
  int64_t size, stride;
  bool first;
  unsigned long long* first_bad;
  __device__ void operator()(char* const* p) const {
    int64_t& offset = *reinterpret_cast<int64_t*>(p[0]);
    const int64_t i = static_cast<int64_t>(*reinterpret_cast<const T*>(p[1]));
    int64_t bytes = 0;
    if (i < -size || i >= size)
      atomicMin(first_bad, static_cast<unsigned long long>((p[0] - table) / sizeof(int64_t)));
    else
      bytes = (i < 0 ? i + size : i) * stride;
    offset = first ? bytes : offset + bytes;
  }
};

// Sizes and byte strides of the three parts of a move, flattened for the kernel.
struct Geometry {
  char* view;
  char* other;
  const int64_t* offsets;  // view byte offset per position j (Set: sorted)
  const int64_t* order;    // Set: the b of each sorted position; else null (b = j)
  int64_t nb, npost;
  int npre_dims, npost_dims, nother_dims;
  int64_t pre_shape[kMaxDims], pre_strides[kMaxDims];
  int64_t post_shape[kMaxDims], post_strides[kMaxDims];
  int64_t other_shape[kMaxDims], other_strides[kMaxDims];
};

void set_dims(int64_t* shape, int64_t* strides, int* n, const Dims& s, const Dims& st, int64_t scale) {
  *n = s.size();
  for (int d = 0; d < s.size(); ++d) shape[d] = s[d], strides[d] = st[d] * scale;
}

// Byte offset of C-order flat index `flat` over (shape, strides).
__device__ int64_t offset_of(int64_t flat, const int64_t* shape, const int64_t* strides, int n) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    off += flat % shape[d] * strides[d];
    flat /= shape[d];
  }
  return off;
}

__device__ void atomic_add(bool* p, bool v) { if (v) *p = true; }  // logical or: every writer stores true
__device__ void atomic_add(int32_t* p, int32_t v) { atomicAdd(reinterpret_cast<int*>(p), static_cast<int>(v)); }
__device__ void atomic_add(int64_t* p, int64_t v) {  // two's complement: the unsigned sum wraps the same way
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}
__device__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ void atomic_add(double* p, double v) { atomicAdd(p, v); }

// Element i = (pre, j, post) of the move, pre outermost.
template <class T, IndexMove Move>
__global__ void move_kernel(Geometry g, int64_t total) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int64_t post = i % g.npost, rest = i / g.npost, j = rest % g.nb, pre = rest / g.nb;
    if (Move == IndexMove::Set && j + 1 < g.nb && g.offsets[j + 1] == g.offsets[j]) continue;  // a later b wins
    const int64_t b = Move == IndexMove::Set ? g.order[j] : j;
    T* v = reinterpret_cast<T*>(g.view + offset_of(pre, g.pre_shape, g.pre_strides, g.npre_dims) + g.offsets[j] +
                                offset_of(post, g.post_shape, g.post_strides, g.npost_dims));
    T* o = reinterpret_cast<T*>(g.other + offset_of((pre * g.nb + b) * g.npost + post, g.other_shape,
                                                    g.other_strides, g.nother_dims));
    if constexpr (Move == IndexMove::Gather) *o = *v;
    else if constexpr (Move == IndexMove::Set) *v = *o;
    else atomic_add(v, *o);
  }
}

__global__ void iota_kernel(int64_t* out, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) out[i] = i;
}

// keys = offsets sorted, order = the b each came from; stable, so each run of equal keys lists its b in
// increasing order and the run's last entry is the b whose write NumPy keeps.
void sort_offsets(const Tensor& offsets, const Tensor& keys, const Tensor& order, int device) {
  const int64_t nb = offsets.numel();
  const Device dev = Device::cuda(device);
  const Tensor positions = Tensor::empty(Dims{nb}, DType::Int64, dev);
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream(device));
  iota_kernel<<<blocks_for(nb), kThreads, 0, s>>>(positions.data_as<int64_t>(), nb);
  check(cudaGetLastError(), "an index kernel launch");
  size_t bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, bytes, offsets.data_as<int64_t>(), keys.data_as<int64_t>(),
                                        positions.data_as<int64_t>(), order.data_as<int64_t>(), nb, 0, 64, s),
        "sorting scatter indices");
  const Tensor temp = Tensor::empty(Dims{static_cast<int64_t>(bytes / 8 + 1)}, DType::Int64, dev);
  check(cub::DeviceRadixSort::SortPairs(temp.data(), bytes, offsets.data_as<int64_t>(), keys.data_as<int64_t>(),
                                        positions.data_as<int64_t>(), order.data_as<int64_t>(), nb, 0, 64, s),
        "sorting scatter indices");
}

template <class T>
void launch_move(IndexMove move, const Geometry& g, int64_t total, int device) {
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream(device));
  switch (move) {
    case IndexMove::Gather: move_kernel<T, IndexMove::Gather><<<blocks_for(total), kThreads, 0, s>>>(g, total); break;
    case IndexMove::Set: move_kernel<T, IndexMove::Set><<<blocks_for(total), kThreads, 0, s>>>(g, total); break;
    case IndexMove::Add: move_kernel<T, IndexMove::Add><<<blocks_for(total), kThreads, 0, s>>>(g, total); break;
  }
  check(cudaGetLastError(), "an index kernel launch");
}

}  // namespace

void index_offsets(const Tensor& offsets, const Tensor& idx, int64_t size, int64_t stride, bool first,
                   int64_t* first_bad) {
  const Tensor table = offsets.view(idx.shape());
  auto* bad = reinterpret_cast<unsigned long long*>(first_bad);
  const char* base = static_cast<const char*>(offsets.data());
  const int device = offsets.device().index;
  if (idx.dtype() == DType::Int32)
    for_each_element<2>(idx.shape(), {&table, &idx}, device, OffsetOf<int32_t>{base, size, stride, first, bad});
  else
    for_each_element<2>(idx.shape(), {&table, &idx}, device, OffsetOf<int64_t>{base, size, stride, first, bad});
}

void index_move(IndexMove move, const IndexPlan& plan, const Tensor& view, const Tensor& other) {
  const int64_t nb = plan.bshape.product(), npost = plan.post_shape.product();
  const int64_t total = plan.pre_shape.product() * nb * npost;
  if (total == 0) return;
  const int device = view.device().index;
  Geometry g{};
  g.view = static_cast<char*>(view.data());
  g.other = static_cast<char*>(other.data());
  g.offsets = plan.offsets.data_as<int64_t>();
  g.nb = nb;
  g.npost = npost;
  set_dims(g.pre_shape, g.pre_strides, &g.npre_dims, plan.pre_shape, plan.pre_strides, 1);
  set_dims(g.post_shape, g.post_strides, &g.npost_dims, plan.post_shape, plan.post_strides, 1);
  set_dims(g.other_shape, g.other_strides, &g.nother_dims, other.shape(), other.strides(),
       static_cast<int64_t>(other.itemsize()));
  Tensor keys, order;  // kept alive until the kernel is queued (the allocator orders reuse on the stream)
  if (move == IndexMove::Set) {
    keys = Tensor::empty(Dims{nb}, DType::Int64, view.device());
    order = Tensor::empty(Dims{nb}, DType::Int64, view.device());
    sort_offsets(plan.offsets, keys, order, device);
    g.offsets = keys.data_as<int64_t>();
    g.order = order.data_as<int64_t>();
  }
  visit_dtype(view.dtype(), [&](auto zero) { launch_move<decltype(zero)>(move, g, total, device); });
}

}  // namespace fusednn::cuda
