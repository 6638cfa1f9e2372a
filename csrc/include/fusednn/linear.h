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

// A 2-D tensor as the GEMM's strided matrix view.
template <class T>
MatView<T> mat(const Tensor& t) {
  return {t.data_as<T>(), t.stride(0), t.stride(1)};
}

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

// The products on a CUDA device (cuda/linear.cu), called by the drivers above once shapes, dtypes and the
// device are settled: every tensor on one device, 2-D, of one float dtype; outputs are written (=).
namespace cuda {
// y = act(x W^T + b), one GEMM with the bias (contiguous, or undefined for none) + activation epilogue.
void linear_forward(const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act,
                    double leaky_slope);
// y = act(y) in place: the z path's second step, with the forward's epilogue code.
void linear_activation(const Tensor& y, Activation act, double leaky_slope);
// dx = dz W and dweight = dz^T x, each when defined: two GEMMs with transposed views.
void linear_backward(const Tensor& dz, const Tensor& x, const Tensor& weight, const Tensor& dx, const Tensor& dweight);
}  // namespace cuda

}  // namespace fusednn
