// Reductions over axes: sum, prod, max, min, all, any, mean, var, std (NumPy's dtype rules), argmax and
// argmin, plus the per-ISA kernel table they run on. var = sum((x - mean)^2) / (n - ddof), two passes.
#pragma once
#include <cstdint>
#include <optional>

#include "fusednn/isa.h"
#include "fusednn/tensor.h"

namespace fusednn {

enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, All, Any, Mean, Var, Std };

// The dtype op produces for input dtype x and the dtype= argument (NumPy 2: sum/prod of bool and int32 give
// int64, mean/var/std of integers give float64, max/min keep x, all/any give bool).
DType reduce_result_dtype(ReduceOp op, DType x, std::optional<DType> dtype);

// Reduces x over `axes` (normalised, distinct). keepdims keeps them as size 1. ddof only for Var/Std.
// Max/Min over zero elements raise ValueError; Sum gives 0, Prod 1, All true, Any false, Mean/Var nan.
// Results are bitwise the same for any thread count: work is cut into blocks fixed by the shape alone.
Tensor reduce(ReduceOp op, const Tensor& x, const Dims& axes, bool keepdims = false,
              std::optional<DType> dtype = std::nullopt, double ddof = 0);

// Index of the first largest (smallest) element along axis, or in the C-order flattened tensor when axis
// is empty. NaN counts as the extreme: the first NaN wins, as in NumPy. Result dtype int64.
Tensor argmax(const Tensor& x, std::optional<int> axis, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int> axis, bool keepdims = false);

namespace cpu {

// The combining operations of the kernels. Bool accumulators use Any/All (logical or/and); SqDev sums
// (x - center)^2 in double. Every kernel accumulates into a "wide" value: double for float sums (lanes
// of the accumulator type are flushed into it every few thousand elements), the accumulator type otherwise.
enum class KernelOp : uint8_t { Sum, Prod, Max, Min, Any, All, SqDev, Count };
constexpr int kKernelOps = static_cast<int>(KernelOp::Count);

// The (op, input dtype, accumulator dtype) combinations that have kernels: Any/All take a bool accumulator,
// Max/Min the input dtype, SqDev float64.
constexpr bool has_kernel(KernelOp op, DType in, DType acc) {
  switch (op) {
    case KernelOp::Sum:
    case KernelOp::Prod: return acc != DType::Bool;
    case KernelOp::Max:
    case KernelOp::Min: return acc == in && in != DType::Bool;
    case KernelOp::Any:
    case KernelOp::All: return acc == DType::Bool;
    default: return acc == DType::Float64;
  }
}

inline DType wide_dtype(KernelOp op, DType acc) {
  if (op == KernelOp::SqDev || (op == KernelOp::Sum && is_floating(acc))) return DType::Float64;
  return acc;
}

// wide op= reduce(x[0], x[s], ..., x[(n-1)s]) with x of the input dtype converted to the accumulator dtype.
// stride s in bytes. center: the mean for SqDev (else unused).
using RowFn = void (*)(const char* x, int64_t stride, int64_t n, void* wide, const double* center);
// wide[j] op= reduce over i < nrows of x[i * row_stride + j] for j < ncols (columns contiguous).
// center[j]: the column means for SqDev.
using ColsFn = void (*)(const char* x, int64_t row_stride, int64_t nrows, int64_t ncols, void* wide,
                        const double* center);
// Index of the first largest / smallest of x[0], x[s], ... (n >= 1), NaN first.
using ArgFn = int64_t (*)(const char* x, int64_t stride, int64_t n);

// Column tile of the cols kernels: they keep this many accumulator lanes in a local array.
constexpr int64_t kColTile = 4096;

struct ReduceKernels {
  // [op][input dtype][accumulator dtype]; null where has_kernel is false.
  RowFn row[kKernelOps][kNumDTypes][kNumDTypes];
  ColsFn cols[kKernelOps][kNumDTypes][kNumDTypes];
  ArgFn arg[2][kNumDTypes];  // [0] argmax, [1] argmin
};

}  // namespace cpu

// The last step of a reduction: out = wide, or wide / divisor (then sqrt when root), cast to the result dtype.
struct ReduceFinish {
  bool divide = false, root = false;
  double divisor = 1;
};

// The CUDA kernels of the family (cuda/reduce.cu), called by the driver once dtypes and layout are settled:
// x is C-contiguous on the device, viewed as (rows, n) with the reduced axes last; out is C-contiguous on the
// same device with `rows` elements.
namespace cuda {
// out[r] = finish(op over x[r, :] in accumulator dtype acc), op and acc as the CPU driver picks them. centered
// (var/std): op must be Sum with acc Float64; a second pass then sums (x - sum / n)^2 before finishing.
void reduce(cpu::KernelOp op, DType acc, bool centered, const ReduceFinish& finish, const Tensor& x, int64_t rows,
            int64_t n, const Tensor& out);
// out[r] (int64) = index of the first largest (smallest) of x[r, :], the first NaN winning; n >= 1.
void arg_reduce(bool is_max, const Tensor& x, int64_t rows, int64_t n, const Tensor& out);
}  // namespace cuda

}  // namespace fusednn

FUSEDNN_DECLARE_PER_ISA(fusednn::cpu::ReduceKernels, reduce_kernels)
