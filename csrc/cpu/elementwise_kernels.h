// The elementwise family's per-ISA function table (defined in elementwise_loops.cpp, once per ISA) and the
// parameter blocks its loops read through `ctx`. Entries are null where NumPy defines no loop.
#pragma once
#include <atomic>

#include "core/loop.h"
#include "fusednn/dtype.h"
#include "fusednn/elementwise.h"
#include "fusednn/isa.h"

namespace fusednn::cpu {

constexpr int kNumUnary = static_cast<int>(UnaryOp::Count);
constexpr int kNumBinary = static_cast<int>(BinaryOp::Count);

// Whether a unary op yields bool whatever its input (predicates and logical_not).
inline bool unary_gives_bool(UnaryOp op) {
  return op == UnaryOp::LogicalNot || op == UnaryOp::IsNan || op == UnaryOp::IsInf || op == UnaryOp::IsFinite;
}
// Whether a binary op yields bool whatever its inputs (comparisons and logical ops).
inline bool binary_gives_bool(BinaryOp op) {
  return op >= BinaryOp::Eq && op <= BinaryOp::LogicalXor;
}

// Integer power sets `negative_exponent` instead of throwing inside a (possibly threaded) loop.
struct PowParams { mutable std::atomic<bool> negative_exponent{false}; };

struct ElementwiseKernels {
  // cast[to][from]: operand 1 converted to operand 0's dtype (float -> int out of range gives INT_MIN, as NumPy on x86).
  InnerLoop cast[kNumDTypes][kNumDTypes];
  // unary[op][T]: T -> T, or T -> bool for unary_gives_bool ops. Round reads its decimals (an int).
  InnerLoop unary[kNumUnary][kNumDTypes];
  // binary[op][T]: (T, T) -> T, or -> bool for binary_gives_bool ops. Integer Pow reads PowParams.
  InnerLoop binary[kNumBinary][kNumDTypes];
  InnerLoop where[kNumDTypes];  // (bool, T, T) -> T
  InnerLoop clip[kNumDTypes];   // (T, lo, hi) -> T: minimum(maximum(x, lo), hi), NaN propagating
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(ElementwiseKernels, elementwise_kernels)
