// Creation ops: filled tensors, ranges, evenly spaced values and identity-like matrices, NumPy's rules.
#pragma once
#include <cstdint>

#include "fusednn/tensor.h"

namespace fusednn {

// A new C-contiguous tensor with every element `value` (cast to dtype).
Tensor full(const Dims& shape, DType dtype, double value, Device device = Device::cpu());

// NumPy's arange length, ceil((stop - start) / step) and at least 0; ValueError for step 0 or a length
// that is not finite or does not fit int64. The integer overload is exact for every int64 argument.
int64_t arange_length(double start, double stop, double step);
int64_t arange_length(int64_t start, int64_t stop, int64_t step);
// out[i] = start + i * delta with delta = (start + step) - start, in float64, rounded once to dtype
// (NumPy's fill rule); the integer overload computes start + i * step exactly in int64.
Tensor arange(double start, double stop, double step, DType dtype);
Tensor arange(int64_t start, int64_t stop, int64_t step, DType dtype);

// NumPy's linspace in float64: step = (stop - start) / div with div = num - 1 (endpoint) or num,
// out[i] = start + i * step (or start + (i / div) * (stop - start) when step underflows to 0), the last
// sample exactly stop when endpoint; floored before an integer cast. *step_out receives step (NaN when
// div is 0).
Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dtype, double* step_out = nullptr);

// N x M with ones on diagonal k (k > 0 above the main diagonal) and zeros elsewhere.
Tensor eye(int64_t n, int64_t m, int64_t k, DType dtype);

}  // namespace fusednn
