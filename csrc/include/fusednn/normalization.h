// Normalization layers' kernels (layer norm over the trailing D elements of each row, batch norm per
// channel of (N, C, L)) and inverted dropout. Forward passes save mean and rstd for the backward.
//   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  var biased (divided by the count),  y = xhat * w + b
//   backward (g = dy * w, averages over the normalized set of M elements):
//     dx = rstd * (g - mean(g) - xhat * mean(g * xhat))      [statistics of the batch: training]
//     dx = rstd * g                                          [fixed statistics: batch norm in eval]
//     dw = sum dy * xhat,  db = sum dy                       [returned fresh, not accumulated]
//   dropout: y = x * m, m = keep / (1 - p) with keep = (u >= p), u uniform on [0, 1) from Philox.
#pragma once
#include <cstdint>

#include "fusednn/random.h"
#include "fusednn/tensor.h"

namespace fusednn {

struct NormForward {
  Tensor y, mean, rstd, var;  // var: batch norm's biased batch variance (training only)
};
struct NormGrads {
  Tensor dx, dweight, dbias;  // undefined where not requested
};

// x (..., D) normalized over its last D elements (D = product of the normalized dims); weight/bias:
// D elements each, or undefined for no affine. mean, rstd: x's leading shape.
NormForward layer_norm(const Tensor& x, int64_t D, const Tensor& weight, const Tensor& bias, double eps);
NormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                              const Tensor& weight, int64_t D, bool need_dx, bool need_dweight, bool need_dbias);

// x (N, C) or (N, C, L). training: statistics of the batch (mean, biased var, returned); otherwise the
// given running_mean/running_var (C each). weight/bias: C each or undefined.
NormForward batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double eps);
NormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                              const Tensor& weight, bool training, bool need_dx, bool need_dweight, bool need_dbias);

// Inverted dropout in one pass: draws the keep mask from `gen` and writes y and the mask (0 or 1 / (1 - p),
// x's dtype; backward is dy * mask). 0 <= p <= 1; p = 1 gives zeros.
struct DropoutResult {
  Tensor y, mask;
};
DropoutResult dropout(Generator& gen, const Tensor& x, double p);

// The CUDA kernels of the family (cuda/normalization.cu), called by the driver once arguments are checked:
// every tensor is C-contiguous, on x's device and in x's dtype (float32 or float64); w and b always hold
// D (or C) values (ones and zeros for no affine). Undefined outputs are not computed.
namespace cuda {
// Layer norm of the (rows, D) x: y, and mean and rstd per row.
void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Tensor& mean,
                const Tensor& rstd, int64_t D, double eps);
// dx (rows, D); dw, db (D): sums over the rows, overwritten.
void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                         int64_t D, const Tensor& dx, const Tensor& dw, const Tensor& db);
// Mean and biased variance of each channel of the (N, C, L) x.
void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var, int64_t N, int64_t C, int64_t L);
// rstd = 1 / sqrt(var + eps), then y = (x - mean) * rstd * w + b.
void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& w, const Tensor& b,
                      const Tensor& rstd, const Tensor& y, int64_t N, int64_t C, int64_t L, double eps);
// dx (training: the batch-statistics formula, else rstd * w * dy); dw, db (C), overwritten.
void batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& w,
                         const Tensor& dx, const Tensor& dw, const Tensor& db, int64_t N, int64_t C, int64_t L,
                         bool training);
// y = x * m, mask = m, m = (u >= p) * scale with u the float32 uniforms of blocks counter.. of key's stream
// (element i: word i % 4 of block counter + i / 4), the CPU's mask bit for bit.
void dropout(const Tensor& x, const Tensor& y, const Tensor& mask, uint64_t key, uint64_t counter, float p,
             double scale);
}  // namespace cuda

}  // namespace fusednn
