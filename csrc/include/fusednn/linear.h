// The Linear layer's two directions, one call each (the nn.Linear hot path: a small layer costs a few
// microseconds, so per-call overhead matters as much as the kernels):
//   forward   y = act(z),  z = x W^T + b                 one GEMM with the bias + activation epilogue
//   backward  dz = dy * act'(.),  db = sum_rows dz,  dx = dz W,  dW = dz^T x
// x (M, K), W (N, K), b (N,) or undefined; W^T and dz^T are strided views, never copies. The gradients
// are new tensors (overwrite, nothing accumulates), undefined where not requested.
#pragma once
#include "fusednn/gemm.h"
#include "fusednn/tensor.h"

namespace fusednn {

// y = act(x W^T + b) for 2-D float x and weight of one dtype. With z != nullptr (activations whose
// gradient reads the pre-activation), *z receives x W^T + b and y = act(*z).
Tensor linear_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act, double leaky_slope,
                      Tensor* z = nullptr);

struct LinearGrads {
  Tensor dx, dweight, dbias;
};

// Gradients of linear_forward from dy (M, N); `saved` is what bias_act_backward reads for `act` (y, or z
// for gelu, silu and leaky_relu with a slope <= 0; ignored for Activation::None).
LinearGrads linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& saved,
                            Activation act, double leaky_slope, bool need_dx, bool need_dweight, bool need_dbias);

}  // namespace fusednn
