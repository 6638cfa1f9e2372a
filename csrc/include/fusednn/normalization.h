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

}  // namespace fusednn
