// Shape ops: reshape/transpose/squeeze/broadcast as views of the input (copies only where the
// strides do not allow a view), concatenate/stack/pad into new tensors through copy_into. Views and
// copies work on any device; results live on their inputs' device.
#include "fusednn/shape.h"

#include <algorithm>
#include <numeric>

#include "core/loop.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/indexing.h"

namespace fusednn {

Dims infer_shape(const Dims& shape, int64_t numel) {
  Dims out = shape;
  int unknown = -1;
  int64_t known = 1;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (unknown >= 0) throw ValueError("can only specify one unknown dimension");
      unknown = i;
    } else if (shape[i] < 0) {
      throw ValueError(cat("negative dimensions not allowed, got shape ", shape));
    } else {
      known *= shape[i];
    }
  }
  if (unknown >= 0 && known != 0 && numel % known == 0) out[unknown] = numel / known;
  if (unknown >= 0 ? (known == 0 || numel % known != 0) : known != numel)
    throw ValueError(cat("cannot reshape array of size ", numel, " into shape ", shape));
  return out;
}

Tensor reshape(const Tensor& x, const Dims& shape) {
  const Dims resolved = infer_shape(shape, x.numel());
  Tensor v = x.view(resolved);
  return v.defined() ? v : contiguous(x).view(resolved);
}

Tensor ravel(const Tensor& x) { return reshape(x, Dims{x.numel()}); }

Tensor flatten(const Tensor& x) {
  Tensor out = Tensor::empty(Dims{x.numel()}, x.dtype(), x.device());
  copy_into(out.view(x.shape()), x);
  return out;
}

Tensor transpose(const Tensor& x, const Dims& axes) {
  if (!axes.empty() || x.ndim() == 0) return x.permute(axes);
  Dims reversed(x.ndim());
  for (int i = 0; i < x.ndim(); ++i) reversed[i] = x.ndim() - 1 - i;
  return x.permute(reversed);
}

namespace {
// The device the tensors to join share, with common_device's rule (a host 0-d tensor joins any device);
// ValueError naming both devices on a mix.
Device joined_device(const char* op, const std::vector<Tensor>& xs) {
  const Tensor* placed = nullptr;  // the first tensor that fixes the device
  for (const Tensor& t : xs) {
    common_device(op, {placed, &t});
    if (placed == nullptr && !(t.device().is_cpu() && t.ndim() == 0)) placed = &t;
  }
  return placed ? placed->device() : Device::cpu();
}

// Normalised axes, with NumPy's message for a repeat naming the argument.
Dims unique_axes(const Dims& axes, int ndim, const char* what) {
  Dims out;
  for (int64_t a : axes) {
    const int n = normalize_axis(a, ndim);
    if (std::find(out.begin(), out.end(), n) != out.end()) throw ValueError(cat("repeated axis in `", what, "` argument"));
    out.push_back(n);
  }
  return out;
}
}  // namespace

Tensor moveaxis(const Tensor& x, const Dims& source, const Dims& destination) {
  const Dims src = unique_axes(source, x.ndim(), "source");
  const Dims dst = unique_axes(destination, x.ndim(), "destination");
  if (src.size() != dst.size())
    throw ValueError("`source` and `destination` arguments must have the same number of elements");
  Dims order;
  for (int a = 0; a < x.ndim(); ++a)
    if (std::find(src.begin(), src.end(), a) == src.end()) order.push_back(a);
  // insert each moved axis at its destination, lowest destination first
  std::vector<int> by_dst(src.size());
  std::iota(by_dst.begin(), by_dst.end(), 0);
  std::sort(by_dst.begin(), by_dst.end(), [&](int i, int j) { return dst[i] < dst[j]; });
  for (int i : by_dst) order.insert(static_cast<int>(dst[i]), src[i]);
  return x.permute(order);
}

Tensor expand_dims(const Tensor& x, const Dims& axes) {
  Dims sorted = unique_axes(axes, x.ndim() + axes.size(), "axis");
  std::sort(sorted.begin(), sorted.end());
  Tensor out = x;
  for (int64_t a : sorted) out = out.unsqueeze(static_cast<int>(a));
  return out;
}

Tensor squeeze(const Tensor& x, const Dims& axes) {
  Dims sorted = unique_axes(axes, x.ndim(), "axis");
  std::sort(sorted.begin(), sorted.end());
  for (int64_t a : sorted)
    if (x.shape(static_cast<int>(a)) != 1)
      throw ValueError(cat("cannot select an axis to squeeze out which has size not equal to one (axis ", a,
                           " of shape ", x.shape(), ")"));
  Tensor out = x;
  for (int i = sorted.size() - 1; i >= 0; --i) out = out.squeeze(static_cast<int>(sorted[i]));
  return out;
}

Tensor squeeze_all(const Tensor& x) {
  Dims ones;
  for (int a = 0; a < x.ndim(); ++a)
    if (x.shape(a) == 1) ones.push_back(a);
  return squeeze(x, ones);
}

Tensor broadcast_to(const Tensor& x, const Dims& shape) {
  for (int64_t d : shape)
    if (d < 0) throw ValueError(cat("all elements of broadcast shape must be non-negative, got ", shape));
  return x.expand(shape);
}

std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& xs) {
  Dims shape;
  for (const Tensor& t : xs) shape = broadcast_shapes(shape, t.shape());
  std::vector<Tensor> out;
  for (const Tensor& t : xs) out.push_back(t.expand(shape));
  return out;
}

Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis_arg) {
  if (xs.empty()) throw ValueError("need at least one array to concatenate");
  const Tensor& first = xs[0];
  if (first.ndim() == 0) throw ValueError("zero-dimensional arrays cannot be concatenated");
  const int axis = normalize_axis(axis_arg, first.ndim());
  DType dtype = first.dtype();
  int64_t total = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Tensor& t = xs[k];
    if (t.ndim() != first.ndim())
      throw ValueError(cat("all the input arrays must have same number of dimensions, but the array at index 0 has ",
                           first.ndim(), " dimension(s) and the array at index ", k, " has ", t.ndim(),
                           " dimension(s)"));
    for (int d = 0; d < t.ndim(); ++d)
      if (d != axis && t.shape(d) != first.shape(d))
        throw ValueError(cat("all the input array dimensions except for the concatenation axis must match exactly, "
                             "but along dimension ", d, ", the array at index 0 has size ", first.shape(d),
                             " and the array at index ", k, " has size ", t.shape(d), " (shapes ", first.shape(),
                             " and ", t.shape(), ", concatenating along axis ", axis, ")"));
    dtype = promote_types(dtype, t.dtype());
    total += t.shape(axis);
  }
  Dims shape = first.shape();
  shape[axis] = total;
  Tensor out = Tensor::empty(shape, dtype, joined_device("concatenate", xs));
  int64_t at = 0;
  for (const Tensor& t : xs) {
    copy_into(out.slice(axis, at, at + t.shape(axis), 1), t);
    at += t.shape(axis);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis_arg) {
  if (xs.empty()) throw ValueError("need at least one array to stack");
  for (const Tensor& t : xs)
    if (t.shape() != xs[0].shape()) throw ValueError("all input arrays must have the same shape");
  const int axis = normalize_axis(axis_arg, xs[0].ndim() + 1);
  const Device device = joined_device("stack", xs);  // host scalars join first: 1-d, they would not
  std::vector<Tensor> expanded;
  for (const Tensor& t : xs) expanded.push_back(to_device(t, device).unsqueeze(axis));
  return concatenate(expanded, axis);
}

std::vector<Tensor> split_at(const Tensor& x, const std::vector<int64_t>& boundaries, int64_t axis_arg) {
  const int axis = normalize_axis(axis_arg, x.ndim());
  const int64_t n = x.shape(axis);
  std::vector<Tensor> out;
  int64_t start = 0;
  for (size_t k = 0; k <= boundaries.size(); ++k) {
    int64_t lo = start, hi = k < boundaries.size() ? boundaries[k] : n;
    start = hi;
    resolve_slice(n, &lo, &hi, 1);  // Python slicing: negative bounds wrap, large ones clamp
    out.push_back(x.slice(axis, lo, hi, 1));
  }
  return out;
}

std::vector<Tensor> array_split(const Tensor& x, int64_t sections, int64_t axis_arg) {
  if (sections <= 0) throw ValueError("number sections must be larger than 0.");
  const int64_t n = x.shape(normalize_axis(axis_arg, x.ndim()));
  const int64_t each = n / sections, extra = n % sections;
  std::vector<int64_t> boundaries;
  int64_t at = 0;
  for (int64_t k = 0; k + 1 < sections; ++k) {
    at += each + (k < extra);
    boundaries.push_back(at);
  }
  return split_at(x, boundaries, axis_arg);
}

namespace {
// Source position in [0, n) of padded position k (relative to the original start) under
// reflection without edge repeat: the periodic mirror extension with period 2(n-1).
int64_t reflect_index(int64_t k, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  const int64_t r = ((k % period) + period) % period;
  return r < n ? r : period - r;
}
}  // namespace

Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& widths, PadMode mode,
           const std::vector<std::pair<double, double>>& values) {
  const int nd = x.ndim();
  if (static_cast<int>(widths.size()) != nd)
    throw ValueError(cat("pad: expected ", nd, " (before, after) pairs of pad widths, got ", widths.size()));
  Dims shape = x.shape();
  for (int a = 0; a < nd; ++a) {
    if (widths[a].first < 0 || widths[a].second < 0) throw ValueError("index can't contain negative values");
    if (mode != PadMode::Constant && x.shape(a) == 0 && widths[a].first + widths[a].second > 0)
      throw ValueError(cat("can't extend empty axis ", a, " using modes other than 'constant' or 'empty'"));
    shape[a] += widths[a].first + widths[a].second;
  }
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  Tensor interior = out;
  for (int a = 0; a < nd; ++a) interior = interior.slice(a, widths[a].first, widths[a].first + x.shape(a), 1);
  copy_into(interior, x);
  // Axis a pads over the full extent of axes < a and the original extent of axes > a (NumPy's order).
  for (int a = 0; a < nd; ++a) {
    Tensor roi = out;
    for (int b = a + 1; b < nd; ++b) roi = roi.slice(b, widths[b].first, widths[b].first + x.shape(b), 1);
    const int64_t before = widths[a].first, after = widths[a].second, n = x.shape(a), end = before + n;
    auto region = [&](int64_t lo, int64_t hi) { return roi.slice(a, lo, hi, 1); };
    switch (mode) {
      case PadMode::Constant:
        if (before) fill(region(0, before), values[a].first);
        if (after) fill(region(end, end + after), values[a].second);
        break;
      case PadMode::Edge:
        if (before) copy_into(region(0, before), region(before, before + 1));
        if (after) copy_into(region(end, end + after), region(end - 1, end));
        break;
      case PadMode::Reflect:
        for (int64_t q = 0; q < before + n + after; ++q) {
          if (q >= before && q < end) continue;
          const int64_t src = before + reflect_index(q - before, n);
          copy_into(region(q, q + 1), region(src, src + 1));
        }
        break;
    }
  }
  return out;
}

}  // namespace fusednn
