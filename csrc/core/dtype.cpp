// dtype sizes, names and NumPy promotion rules for the five fusednn dtypes.
#include "fusednn/dtype.h"

namespace fusednn {

size_t itemsize(DType dtype) {
  static constexpr size_t sizes[kNumDTypes] = {1, 4, 8, 4, 8};
  return sizes[static_cast<int>(dtype)];
}

const char* dtype_name(DType dtype) {
  static constexpr const char* names[kNumDTypes] = {"bool", "int32", "int64", "float32", "float64"};
  return names[static_cast<int>(dtype)];
}

DType promote_types(DType a, DType b) {
  using D = DType;
  // NumPy: a 32-bit float cannot hold every int32/int64, so integer with float32 gives float64.
  static constexpr D table[kNumDTypes][kNumDTypes] = {
      /* bool    */ {D::Bool, D::Int32, D::Int64, D::Float32, D::Float64},
      /* int32   */ {D::Int32, D::Int32, D::Int64, D::Float64, D::Float64},
      /* int64   */ {D::Int64, D::Int64, D::Int64, D::Float64, D::Float64},
      /* float32 */ {D::Float32, D::Float64, D::Float64, D::Float32, D::Float64},
      /* float64 */ {D::Float64, D::Float64, D::Float64, D::Float64, D::Float64},
  };
  return table[static_cast<int>(a)][static_cast<int>(b)];
}

DType promote_with_scalar(DType array_dtype, ScalarKind scalar) {
  switch (scalar) {
    case ScalarKind::Bool: return array_dtype;
    case ScalarKind::Int: return array_dtype == DType::Bool ? DType::Int64 : array_dtype;
    default: return is_floating(array_dtype) ? array_dtype : DType::Float64;
  }
}

}  // namespace fusednn
