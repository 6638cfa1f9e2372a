// Shape manipulation with NumPy semantics: reshape, transpose, squeeze/expand_dims, broadcasting,
// concatenate/stack/split and pad. Views share storage wherever the strides allow; the rest copy.
#pragma once
#include <cstdint>
#include <vector>

#include "fusednn/tensor.h"

namespace fusednn {

// Resolves one -1 entry against numel; ValueError "cannot reshape array of size 6 into shape (4,)".
Dims infer_shape(const Dims& shape, int64_t numel);
Tensor reshape(const Tensor& x, const Dims& shape);      // a view when the strides allow, else a copy
Tensor ravel(const Tensor& x);                           // 1-d; a view when possible
Tensor flatten(const Tensor& x);                         // 1-d; always a new tensor
Tensor transpose(const Tensor& x, const Dims& axes);     // axes empty -> reversed
Tensor moveaxis(const Tensor& x, const Dims& source, const Dims& destination);
Tensor expand_dims(const Tensor& x, const Dims& axes);   // axes index the result
Tensor squeeze(const Tensor& x, const Dims& axes);       // axes of x
Tensor squeeze_all(const Tensor& x);                     // every size-1 axis
Tensor broadcast_to(const Tensor& x, const Dims& shape); // a view with stride-0 axes
std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& xs);

// Joins along an existing axis; the result dtype is the promotion of every input's dtype.
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis);  // joins along a new axis
// Views of x between consecutive boundaries along axis (boundaries clamp to the axis as NumPy's do).
std::vector<Tensor> split_at(const Tensor& x, const std::vector<int64_t>& boundaries, int64_t axis);
// NumPy's array_split: `sections` pieces, the first (size % sections) one element longer.
std::vector<Tensor> array_split(const Tensor& x, int64_t sections, int64_t axis);

enum class PadMode : uint8_t { Constant, Edge, Reflect };
// widths: (before, after) per axis; values: (before, after) per axis for Constant. Axes are padded
// in order, each over the already padded extent of the earlier axes (so corners take the last axis's
// values, as in NumPy). Reflect mirrors without repeating the edge: [1 2 3] -> [3 2 | 1 2 3 | 2 1].
Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& widths, PadMode mode,
           const std::vector<std::pair<double, double>>& values);

}  // namespace fusednn
