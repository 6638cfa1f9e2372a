// Tensor: a strided view (shape, strides in elements, offset) of a Storage, with a dtype and a device.
// Copying a Tensor copies the view, never the data. View operations live here; ops that compute are
// in ops.h.
#pragma once
#include <cstdint>
#include <memory>
#include <utility>

#include "fusednn/dims.h"
#include "fusednn/dtype.h"
#include "fusednn/storage.h"

namespace fusednn {

// C-contiguous strides (in elements) for a shape.
Dims contiguous_strides(const Dims& shape);
// Number of elements of a shape, checking for negative sizes and overflow.
int64_t checked_numel(const Dims& shape);
// Maps a possibly negative axis into [0, ndim); throws an IndexError-like AxisError naming axis and ndim.
int normalize_axis(int64_t axis, int ndim);

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, Dims shape, Dims strides, int64_t offset, DType dtype);

  // Uninitialised memory from the caching allocator; C-contiguous.
  static Tensor empty(const Dims& shape, DType dtype, Device device = Device::cpu());

  bool defined() const { return storage_ != nullptr; }
  const Dims& shape() const { return shape_; }
  const Dims& strides() const { return strides_; }
  int64_t shape(int axis) const { return shape_[axis]; }
  int64_t stride(int axis) const { return strides_[axis]; }
  int ndim() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  size_t itemsize() const { return fusednn::itemsize(dtype_); }
  Device device() const { return storage_->device(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool writable() const { return storage_->writable(); }

  // Address of element [0, 0, ...].
  void* data() const { return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(itemsize()); }
  template <class T>
  T* data_as() const { return static_cast<T*>(data()); }

  bool is_contiguous() const;
  // Every in-place write starts here: it refuses read-only memory (ValueError "<what> is read-only")
  // and bumps the storage's version, which autograd checks on the tensors it saved.
  void prepare_write(const char* what = "assignment destination") const;
  // The elements [first, last) the view touches, as offsets from data() (first <= 0 with negative
  // strides); {0, 0} when empty.
  std::pair<int64_t, int64_t> extent() const;
  // Whether two tensors may touch the same bytes (a conservative check on storage and extent).
  bool may_overlap(const Tensor& other) const;

  // ---- views: share storage, never copy ----
  Tensor as_strided(const Dims& shape, const Dims& strides, int64_t offset) const;
  Tensor transpose(int axis0, int axis1) const;
  Tensor permute(const Dims& axes) const;         // axes: a permutation of 0..ndim-1
  Tensor slice(int axis, int64_t start, int64_t stop, int64_t step) const;  // bounds already resolved
  Tensor select(int axis, int64_t index) const;   // drops the axis; index already in range
  Tensor unsqueeze(int axis) const;
  Tensor squeeze(int axis) const;                 // axis must have size 1
  Tensor expand(const Dims& shape) const;         // broadcast_to, with stride 0 on new/size-1 axes
  // A view with a new shape when the strides allow it; an undefined Tensor when they do not.
  Tensor view(const Dims& shape) const;

 private:
  std::shared_ptr<Storage> storage_;
  Dims shape_;
  Dims strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
};

}  // namespace fusednn
