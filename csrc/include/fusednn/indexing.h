// NumPy indexing of tensors: basic indices (ints, slices, None, Ellipsis) give views; advanced
// indices (integer and boolean arrays) gather into a new tensor or scatter into an existing one:
//   out[pre, b, post] = x[pre, idx_1[b], ..., idx_k[b], post]   (b runs over the indices' broadcast shape)
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "fusednn/tensor.h"

namespace fusednn {

// One entry of an index tuple. Slice bounds are stored as Python's PySlice_Unpack leaves them
// (omitted bounds as kSliceMax/kSliceMin) and resolved against the axis length here.
struct IndexItem {
  enum class Kind : uint8_t { Int, Slice, NewAxis, Ellipsis, Array };
  static constexpr int64_t kSliceMax = std::numeric_limits<int64_t>::max();
  static constexpr int64_t kSliceMin = std::numeric_limits<int64_t>::min();
  Kind kind = Kind::NewAxis;
  int64_t start = 0, stop = 0, step = 1;  // Int: start is the index
  Tensor array;                           // Array: an int32/int64 or bool tensor

  static IndexItem integer(int64_t i) { IndexItem it; it.kind = Kind::Int; it.start = i; return it; }
  static IndexItem slice(int64_t start, int64_t stop, int64_t step) {
    IndexItem it; it.kind = Kind::Slice; it.start = start; it.stop = stop; it.step = step; return it;
  }
  static IndexItem of(Kind kind) { IndexItem it; it.kind = kind; return it; }
  static IndexItem of_array(Tensor t) { IndexItem it; it.kind = Kind::Array; it.array = std::move(t); return it; }
};

// Clamps Python slice bounds to an axis of length len (PySlice_AdjustIndices); ValueError for step 0.
void resolve_slice(int64_t len, int64_t* start, int64_t* stop, int64_t step);

// x[items]: a view for basic indices, a new C-contiguous tensor when any item is an array.
// IndexError for out-of-range indices (checked before anything is written), too many indices,
// mismatched boolean shapes and index arrays that do not broadcast.
Tensor index_get(const Tensor& x, const std::vector<IndexItem>& items);
// x[items] = value: value broadcast to the indexed shape and cast to x's dtype. With repeated
// indices the last write wins, as in NumPy. x must be writable.
void index_set(const Tensor& x, const std::vector<IndexItem>& items, const Tensor& value);
// x[items] += value, where repeated indices accumulate (x[[0, 0]] += 1 adds 2 to x[0]): the
// backward of a gather. value broadcasts to the indexed shape; x must be writable.
void index_add(const Tensor& x, const std::vector<IndexItem>& items, const Tensor& value);

// Indices of the nonzero (true) elements: one int64 tensor per axis (a 0-d x counts as 1-d).
std::vector<Tensor> nonzero(const Tensor& x);
// The same as an (count, ndim) int64 tensor.
Tensor argwhere(const Tensor& x);

// out[i] = src[idx[i]] for each row i: rows of a C-contiguous src (n, ...) copied into the C-contiguous,
// writable out (len(idx), ...) of the same dtype, with idx a 1-d int64 tensor (checked in range).
// The batch gather of fit(): one copy per batch into a buffer it reuses.
void take_rows(const Tensor& src, const Tensor& idx, const Tensor& out);

// Where the elements an advanced index selects lie in the indexed view: its dims before and after the
// broadcast index dims (sizes, byte strides), and the byte offset of each b, indices wrapped and checked.
// The result (or scattered value) has shape pre + bshape + post.
struct IndexPlan {
  Dims pre_shape, pre_strides;
  Dims post_shape, post_strides;
  Dims bshape;     // broadcast shape of the index arrays
  Tensor offsets;  // int64, bshape.product() entries, on the view's device
  Dims result_shape() const;
};
// Gather: other = view[plan]; Set: view[plan] = other, the last of repeated indices winning; Add:
// view[plan] += other, repeated indices accumulating.
enum class IndexMove : uint8_t { Gather, Set, Add };

// The CUDA kernels of the family (cuda/indexing.cu); view, other and offsets are on one device.
namespace cuda {
// offsets[b] = (first ? 0 : offsets[b]) + wrap(idx[b]) * stride for idx (int32/int64, expanded to offsets'
// shape). An index outside [-size, size) adds nothing; the smallest such b is folded into *first_bad (a
// device int64 the caller set to offsets.numel() or more) for the caller to report.
void index_offsets(const Tensor& offsets, const Tensor& idx, int64_t size, int64_t stride, bool first,
                   int64_t* first_bad);
// The move between view[plan] and other (shape plan.result_shape(), same dtype). Add uses atomics, so
// float sums over repeated indices may round differently from run to run.
void index_move(IndexMove move, const IndexPlan& plan, const Tensor& view, const Tensor& other);
}  // namespace cuda

}  // namespace fusednn
