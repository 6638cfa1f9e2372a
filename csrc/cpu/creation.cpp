// Creation kernels and their drivers: out[i] = f(i) fills for arange and linspace (one rounding from
// float64, as NumPy), the identity-like eye, and full. Compiled with baseline flags only, so no FMA
// contraction changes a value against NumPy's start + i * step.
#include "fusednn/creation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {
namespace {

// Stores value(i) cast to the tensor's dtype at every i of a new contiguous tensor (threads above the grain).
template <class Value>
Tensor indexed_fill(int64_t n, DType dtype, const Value& value) {
  Tensor out = Tensor::empty(Dims{n}, dtype);
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.data_as<T>();
    parallel_for(n, 1, [&](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) p[i] = static_cast<T>(value(i));
    });
  });
  return out;
}

void check_dims(int64_t n, const char* what) {
  if (n < 0) throw ValueError(cat("negative dimensions are not allowed, got ", what, "=", n));
}

}  // namespace

Tensor full(const Dims& shape, DType dtype, double value, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  fill(out, value);
  return out;
}

int64_t arange_length(double start, double stop, double step) {
  if (step == 0) throw ValueError("arange: step must not be zero");
  const double length = std::ceil((stop - start) / step);
  if (std::isnan(length)) throw ValueError(cat("arange: cannot compute the length of [", start, ", ", stop, ") with step ", step));
  if (length <= 0) return 0;
  if (length >= 0x1p63) throw ValueError(cat("arange: maximum allowed size exceeded (", length, " elements)"));
  return static_cast<int64_t>(length);
}

int64_t arange_length(int64_t start, int64_t stop, int64_t step) {
  if (step == 0) throw ValueError("arange: step must not be zero");
  const __int128 diff = static_cast<__int128>(stop) - start;
  if (step > 0 ? diff <= 0 : diff >= 0) return 0;
  return static_cast<int64_t>((diff + (step > 0 ? step - 1 : step + 1)) / step);  // ceil(diff / step)
}

Tensor arange(double start, double stop, double step, DType dtype) {
  if (dtype == DType::Bool) throw TypeError("arange: no bool ranges (use int or float dtypes)");
  const int64_t n = arange_length(start, stop, step);
  const double delta = (start + step) - start;
  return indexed_fill(n, dtype, [start, delta](int64_t i) { return start + static_cast<double>(i) * delta; });
}

Tensor arange(int64_t start, int64_t stop, int64_t step, DType dtype) {
  if (dtype == DType::Bool) throw TypeError("arange: no bool ranges (use int or float dtypes)");
  const int64_t n = arange_length(start, stop, step);
  // Wrapping unsigned arithmetic: every value start + i * step lies between start and stop, so it is exact.
  const uint64_t s = static_cast<uint64_t>(start), d = static_cast<uint64_t>(step);
  return indexed_fill(n, dtype, [s, d](int64_t i) { return static_cast<int64_t>(s + static_cast<uint64_t>(i) * d); });
}

Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dtype, double* step_out) {
  if (num < 0) throw ValueError(cat("Number of samples, ", num, ", must be non-negative."));
  const int64_t div = endpoint ? num - 1 : num;
  const double delta = stop - start;
  const double step = div > 0 ? delta / static_cast<double>(div) : std::numeric_limits<double>::quiet_NaN();
  if (step_out) *step_out = step;
  const bool exact_end = endpoint && num > 1;
  const bool floor = is_integer(dtype);
  const double d = static_cast<double>(div);
  auto sample = [=](int64_t i) {
    const double x = static_cast<double>(i);
    double y = div > 0 && step != 0 ? x * step + start : (div > 0 ? x / d : x) * delta + start;
    if (exact_end && i == num - 1) y = stop;
    return floor ? std::floor(y) : y;
  };
  return indexed_fill(num, dtype, sample);
}

Tensor eye(int64_t n, int64_t m, int64_t k, DType dtype) {
  check_dims(n, "N");
  check_dims(m, "M");
  Tensor out = Tensor::empty(Dims{n, m}, dtype);
  k = std::clamp<int64_t>(k, -n - 1, m + 1);  // a diagonal outside the matrix: all zeros, no overflow below
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.data_as<T>();
    parallel_for(n, m, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        T* row = p + i * m;
        const int64_t diagonal = i + k;  // the column holding the one, possibly outside [0, m)
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) row[j] = static_cast<T>(j == diagonal);
      }
    });
  });
  return out;
}

}  // namespace fusednn
