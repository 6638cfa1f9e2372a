// Tensor construction and the view operations (transpose, permute, slice, expand, view-reshape).
#include "fusednn/tensor.h"

#include <algorithm>

#include "fusednn/errors.h"

namespace fusednn {

Dims contiguous_strides(const Dims& shape) {
  Dims strides(shape.size());
  int64_t s = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

int64_t checked_numel(const Dims& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ValueError(cat("negative dimensions are not allowed, got shape ", shape));
    if (__builtin_mul_overflow(n, d, &n))
      throw ValueError(cat("array is too big: shape ", shape, " has more elements than fit in 64 bits"));
  }
  return n;
}

int normalize_axis(int64_t axis, int ndim) {
  if (axis < -ndim || axis >= ndim)
    throw AxisError(cat("axis ", axis, " is out of bounds for array of dimension ", ndim));
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Dims shape, Dims strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)), shape_(shape), strides_(strides), offset_(offset),
      numel_(shape.product()), dtype_(dtype) {}

Tensor Tensor::empty(const Dims& shape, DType dtype, Device device) {
  const int64_t n = checked_numel(shape);
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(n), fusednn::itemsize(dtype), &nbytes))
    throw MemoryError(cat("fusednn: cannot allocate a ", dtype_name(dtype), " tensor of shape ", shape));
  return Tensor(Storage::allocate(nbytes, device), shape, contiguous_strides(shape), 0, dtype);
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return numel_ == 0;
    expected *= shape_[i];
  }
  return true;
}

void Tensor::prepare_write(const char* what) const {
  if (!writable()) throw ValueError(cat(what, " is read-only"));
  storage_->bump_version();
}

std::pair<int64_t, int64_t> Tensor::extent() const {
  if (numel_ == 0) return {0, 0};
  int64_t first = 0, last = 0;
  for (int i = 0; i < ndim(); ++i) {
    const int64_t span = (shape_[i] - 1) * strides_[i];
    (span < 0 ? first : last) += span;
  }
  return {first, last + 1};
}

bool Tensor::may_overlap(const Tensor& other) const {
  if (numel_ == 0 || other.numel_ == 0) return false;
  // Absolute addresses: two borrowed storages (views of one NumPy buffer) can share memory.
  auto bytes = [](const Tensor& t) {
    const auto [first, last] = t.extent();
    const intptr_t base = reinterpret_cast<intptr_t>(t.data()), size = static_cast<intptr_t>(t.itemsize());
    return std::pair<intptr_t, intptr_t>{base + first * size, base + last * size};
  };
  const auto [a0, a1] = bytes(*this);
  const auto [b0, b1] = bytes(other);
  return a0 < b1 && b0 < a1;
}

Tensor Tensor::as_strided(const Dims& shape, const Dims& strides, int64_t offset) const {
  return Tensor(storage_, shape, strides, offset, dtype_);
}

Tensor Tensor::transpose(int axis0, int axis1) const {
  Dims shape = shape_, strides = strides_;
  std::swap(shape[axis0], shape[axis1]);
  std::swap(strides[axis0], strides[axis1]);
  return as_strided(shape, strides, offset_);
}

Tensor Tensor::permute(const Dims& axes) const {
  if (axes.size() != ndim()) throw ValueError(cat("axes ", axes, " don't match array of dimension ", ndim()));
  Dims shape(ndim()), strides(ndim());
  bool seen[kMaxDims] = {};
  for (int i = 0; i < ndim(); ++i) {
    const int a = normalize_axis(axes[i], ndim());
    if (seen[a]) throw ValueError(cat("repeated axis in transpose: ", axes));
    seen[a] = true;
    shape[i] = shape_[a];
    strides[i] = strides_[a];
  }
  return as_strided(shape, strides, offset_);
}

Tensor Tensor::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  Dims shape = shape_, strides = strides_;
  const int64_t len = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                               : (start > stop ? (start - stop - step - 1) / -step : 0);
  shape[axis] = len;
  strides[axis] = strides_[axis] * step;
  return as_strided(shape, strides, len > 0 ? offset_ + start * strides_[axis] : offset_);
}

Tensor Tensor::select(int axis, int64_t index) const {
  Dims shape = shape_, strides = strides_;
  shape.erase(axis);
  strides.erase(axis);
  return as_strided(shape, strides, offset_ + index * strides_[axis]);
}

Tensor Tensor::unsqueeze(int axis) const {
  Dims shape = shape_, strides = strides_;
  const int64_t stride = axis < ndim() ? strides_[axis] * shape_[axis] : 1;
  shape.insert(axis, 1);
  strides.insert(axis, stride);
  return as_strided(shape, strides, offset_);
}

Tensor Tensor::squeeze(int axis) const {
  if (shape_[axis] != 1)
    throw ValueError(cat("cannot select an axis to squeeze out which has size not equal to one (axis ", axis,
                         " of shape ", shape_, ")"));
  return select(axis, 0);
}

Tensor Tensor::expand(const Dims& shape) const {
  const int n = shape.size(), lead = n - ndim();
  auto fail = [&] {
    return ValueError(cat("operands could not be broadcast together with remapped shapes [original->remapped]: ",
                          shape_, " and requested shape ", shape));
  };
  if (lead < 0) throw fail();
  Dims strides(n);
  for (int i = 0; i < n; ++i) {
    if (i < lead) continue;  // new leading axes get stride 0
    const int64_t have = shape_[i - lead];
    if (have == shape[i]) strides[i] = strides_[i - lead];
    else if (have == 1) strides[i] = 0;
    else throw fail();
  }
  return as_strided(shape, strides, offset_);
}

Tensor Tensor::view(const Dims& shape) const {
  // Walk both shapes from the back, matching runs of old axes that are contiguous among themselves to
  // runs of new axes with the same element count (the rule NumPy and PyTorch use to reshape without copy).
  if (shape.product() != numel_) return {};
  if (numel_ == 0 || is_contiguous()) return as_strided(shape, contiguous_strides(shape), offset_);
  Dims strides(shape.size());
  int old_i = ndim() - 1, new_i = shape.size() - 1;
  while (new_i >= 0 || old_i >= 0) {
    // skip size-1 axes on either side
    if (new_i >= 0 && shape[new_i] == 1) {
      strides[new_i] = 1;
      --new_i;
      continue;
    }
    if (old_i >= 0 && shape_[old_i] == 1) {
      --old_i;
      continue;
    }
    if (old_i < 0 || new_i < 0) return {};
    // grow an old chunk [old_lo, old_i] that is contiguous within itself
    int64_t old_count = shape_[old_i], base_stride = strides_[old_i];
    int old_lo = old_i;
    int64_t new_count = shape[new_i];
    int new_lo = new_i;
    while (old_count != new_count) {
      if (old_count < new_count) {
        --old_lo;
        while (old_lo >= 0 && shape_[old_lo] == 1) --old_lo;
        if (old_lo < 0) return {};
        // the axis must continue the chunk: its stride equals (count so far) * base stride
        if (strides_[old_lo] != old_count * base_stride) return {};
        old_count *= shape_[old_lo];
      } else {
        --new_lo;
        if (new_lo < 0) return {};
        new_count *= shape[new_lo];
      }
    }
    int64_t s = base_stride;
    for (int j = new_i; j >= new_lo; --j) {
      strides[j] = s;
      s *= shape[j];
    }
    old_i = old_lo - 1;
    new_i = new_lo - 1;
  }
  return as_strided(shape, strides, offset_);
}

}  // namespace fusednn
