// Element types of fusednn tensors, their sizes and names, and NumPy's promotion rules between them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "fusednn/errors.h"

namespace fusednn {

enum class DType : uint8_t { Bool = 0, Int32, Int64, Float32, Float64 };
constexpr int kNumDTypes = 5;

size_t itemsize(DType dtype);
const char* dtype_name(DType dtype);
inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integer(DType d) { return d == DType::Int32 || d == DType::Int64; }

// NumPy's result_type for two arrays of these dtypes (bool < int32 < int64 < float32 < float64, except
// int32/int64 with float32 gives float64, as in NumPy).
DType promote_types(DType a, DType b);

// The kind of a Python scalar operand. NumPy 2 (NEP 50) treats Python scalars as "weak": they take the
// array's dtype when their kind allows (float32 + 1.5 -> float32) and only lift the kind otherwise.
enum class ScalarKind : uint8_t { Bool, Int, Float };
DType promote_with_scalar(DType array_dtype, ScalarKind scalar);

template <class T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };

// Calls f(T{}) for the C++ type T of every dtype, in DType order (to fill per-dtype tables).
template <class F>
void for_each_dtype(F&& f) {
  f(bool{});
  f(int32_t{});
  f(int64_t{});
  f(float{});
  f(double{});
}

// Calls f(T{}) with T the C++ type of dtype: the one place a runtime dtype becomes a template argument.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: return f(bool{});
    case DType::Int32: return f(int32_t{});
    case DType::Int64: return f(int64_t{});
    case DType::Float32: return f(float{});
    default: return f(double{});
  }
}

// f(float{}) for float32, f(double{}) for float64: for kernels that run in the float types only (their
// drivers settle the dtype first; anything else is a TypeError, never a misread buffer).
template <class F>
decltype(auto) visit_float(DType dtype, F&& f) {
  if (dtype != DType::Float32 && dtype != DType::Float64)
    throw TypeError(cat("expected a float32 or float64 tensor, got ", dtype_name(dtype)));
  return dtype == DType::Float32 ? f(float{}) : f(double{});
}

}  // namespace fusednn
