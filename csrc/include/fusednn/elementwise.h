// Elementwise ops on tensors: unary math, binary arithmetic/comparison/logic with NumPy broadcasting
// and promotion, where, clip, casts and copies. Results are new C-contiguous tensors unless noted.
#pragma once
#include <cstdint>

#include "fusednn/tensor.h"

namespace fusednn {

enum class UnaryOp : uint8_t {
  Neg, Abs, Sign, Square, Sqrt, Reciprocal, Exp, Expm1, Log, Log1p, Sin, Cos, Tanh, Sigmoid,
  Floor, Ceil, Round, LogicalNot, IsNan, IsInf, IsFinite, Invert, Count
};
enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor, BitAnd, BitOr, BitXor, Count
};

// The dtype a unary/binary op produces for the given input dtype(s) (NumPy's rules; TypeError if none).
DType unary_result_dtype(UnaryOp op, DType x);
DType binary_result_dtype(BinaryOp op, DType a, DType b);

Tensor unary(UnaryOp op, const Tensor& x);
// NumPy's round(x, decimals): half to even on x * 10^decimals (integers: only negative decimals change them).
Tensor round(const Tensor& x, int decimals);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// a = a op b in place: b broadcasts to a's shape, the result is cast to a's dtype under NumPy's
// same_kind rule (TypeError otherwise). a must be writable.
void binary_inplace(BinaryOp op, const Tensor& a, const Tensor& b);

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
// clip(x, lo, hi): either bound may be undefined (Tensor{}) for "no bound". NaN propagates like NumPy.
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi);

Tensor astype(const Tensor& x, DType dtype);   // always a new C-contiguous tensor
Tensor contiguous(const Tensor& x);            // x itself when already C-contiguous
// dst[...] = src, with src broadcast to dst's shape and cast to dst's dtype (unsafe casting, like
// NumPy item assignment). dst must be writable; overlapping src is copied through a temporary.
void copy_into(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);     // value cast to dst's dtype

// The CUDA kernels of the family (cuda/elementwise.cu), called by the driver once dtypes, shapes and
// devices are settled: every operand is on out's device, in the compute dtype and expanded to out's
// shape. ctx is what the CPU loops read (Round: its decimals).
namespace cuda {
void cast_into(const Tensor& dst, const Tensor& src);
void unary(UnaryOp op, const Tensor& out, const Tensor& x, const void* ctx);
// Returns whether an integer power met a negative exponent (the driver raises NumPy's error).
bool binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);
void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi);
}  // namespace cuda

}  // namespace fusednn
