// The Linear layer's products on CUDA devices, all of them the CUDA GEMM's (cuda/gemm.cu):
//   forward   y = act(x W^T + b)       one GEMM, the bias and the activation in its epilogue
//   backward  dx = dz W,  dW = dz^T x  two GEMMs; W^T and dz^T are strided views, never copies
// (dz = dy * act'(.) and the bias gradient come fused from cuda::bias_act_backward, called by the driver).
#include "fusednn/gemm.h"
#include "fusednn/linear.h"

namespace fusednn::cuda {

void linear_forward(const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act,
                    double leaky_slope) {
  const int64_t M = x.shape(0), K = x.shape(1), N = weight.shape(0);
  const Epilogue epilogue{bias.defined() ? BiasMode::PerColumn : BiasMode::None,
                          bias.defined() ? bias.data() : nullptr, act, leaky_slope};
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    gemm<T>(y.device().index, M, N, K, T(1), mat<const T>(x), mat<const T>(weight).t(), T(0), mat<T>(y), epilogue);
  });
}

void linear_activation(const Tensor& y, Activation act, double leaky_slope) {
  // The epilogue of a K = 0 product with beta = 1: act(0 + y), the bits the fused forward gives (y + 0 is y).
  const Epilogue epilogue{BiasMode::None, nullptr, act, leaky_slope};
  visit_float(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const MatView<const T> none{nullptr, 0, 0};  // K = 0: never read
    gemm<T>(y.device().index, y.shape(0), y.shape(1), 0, T(1), none, none, T(1), mat<T>(y), epilogue);
  });
}

void linear_backward(const Tensor& dz, const Tensor& x, const Tensor& weight, const Tensor& dx, const Tensor& dweight) {
  const int64_t M = x.shape(0), K = x.shape(1), N = weight.shape(0);
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const int device = dz.device().index;
    if (dx.defined()) gemm<T>(device, M, K, N, T(1), mat<const T>(dz), mat<const T>(weight), T(0), mat<T>(dx));
    if (dweight.defined())
      gemm<T>(device, N, K, M, T(1), mat<const T>(dz).t(), mat<const T>(x), T(0), mat<T>(dweight));
  });
}

}  // namespace fusednn::cuda
