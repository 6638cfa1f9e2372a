// Activation functions with their gradients, softmax / log_softmax along any axis, and the fused Linear
// backward helper (activation gradient + bias-gradient reduction in one pass).
//   relu max(x, 0); leaky_relu x > 0 ? x : a x; elu x > 0 ? x : a (e^x - 1); gelu x Phi(x) = x erfc(-x/sqrt2) / 2;
//   gelu_tanh x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) (= x (1 + tanh u) / 2); silu x sigmoid(x);
//   softplus (max(bx, 0) + log1p(e^-|bx|)) / b, or x where bx > threshold (as torch)
//   softmax e^(x - m) / sum e^(x - m); log_softmax x - m - log sum e^(x - m), m the max along the axis
// Gradient kernels OVERWRITE dx (=), except the bias gradient of bias_act_backward, which ACCUMULATES (+=).
#pragma once
#include <cstdint>
#include <utility>

#include "fusednn/gemm.h"
#include "fusednn/tensor.h"

namespace fusednn {

enum class ActKind : uint8_t { Relu, LeakyRelu, Elu, Gelu, GeluTanh, Silu, Sigmoid, Tanh, Softplus, Count };

struct ActParams {
  double alpha = 0.01;      // leaky_relu's negative slope, elu's alpha
  double beta = 1.0;        // softplus
  double threshold = 20.0;  // softplus: x itself where beta x > threshold
};

// Whether the backward of `kind` reads the forward's output y (relu, sigmoid, tanh) rather than its input x.
bool act_backward_uses_output(ActKind kind);

// y = act(x) as a new C-contiguous tensor. float32/float64 stay; integers compute in float64, bool in float32.
Tensor activation(ActKind kind, const Tensor& x, const ActParams& params);
// dx = dy * act'(.) as a new tensor (overwrite), from `saved` = y or x as act_backward_uses_output says.
// dy must have saved's shape; the result has saved's dtype.
Tensor activation_backward(ActKind kind, const Tensor& dy, const Tensor& saved, const ActParams& params);

// softmax (log = false) or log_softmax (log = true) of x along `axis` (already normalised; 0-d x: axis 0).
Tensor softmax(const Tensor& x, int axis, bool log);
// dx (overwrite) from the forward's output y: softmax y (dy - sum(dy y)); log_softmax dy - e^y sum(dy).
Tensor softmax_backward(const Tensor& dy, const Tensor& y, int axis, bool log);

// Fused Linear backward for a C-contiguous (M, N) dy of the pre-activation z, with y = act(z):
//   dz[i, j] = dy[i, j] * act'(.) (OVERWRITE), and, when db is not null, db[j] += sum_i dz[i, j] (ACCUMULATE).
// `saved` is the output y for Relu, Tanh and Sigmoid, the pre-activation z for LeakyRelu, Gelu (exact erf
// form, as the GEMM epilogue) and Silu; it is not read for None. T is float or double.
template <class T>
void bias_act_backward(Activation act, int64_t M, int64_t N, const T* dy, const T* saved, T* dz, T* db, T leaky_slope);

// Tensor form: dy and saved 2-D float tensors of one shape and dtype. db: a contiguous tensor of length N
// and that dtype to accumulate into, or undefined for a fresh one (zeros + the sums). Returns (dz, db).
std::pair<Tensor, Tensor> bias_act_backward(Activation act, const Tensor& dy, const Tensor& saved, const Tensor& db,
                                            double leaky_slope);

// The scalar formulas the CUDA kernels run (core/activation_ops.h), evaluated on the host over a float CPU
// tensor: act(x) when dy is undefined, else dy * act'(saved). For tests: holds them to the CPU kernels' results.
Tensor activation_reference(ActKind kind, const Tensor& x_or_saved, const Tensor& dy, const ActParams& params);

// The family on CUDA devices (cuda/activation.cu). Operands are on one device, in one float dtype; outputs are
// new C-contiguous tensors of the inputs' shape, written (never accumulated) unless noted.
namespace cuda {
// y = act(x); x any strides.
void activation(ActKind kind, const Tensor& y, const Tensor& x, const ActParams& params);
// dx = dy * act'(saved) (OVERWRITE); dy and saved of dx's shape, any strides.
void activation_backward(ActKind kind, const Tensor& dx, const Tensor& dy, const Tensor& saved,
                         const ActParams& params);
// softmax / log_softmax of a C-contiguous x viewed as (outer, C, inner), along C, into y.
void softmax(const Tensor& y, const Tensor& x, int64_t outer, int64_t C, int64_t inner, bool log);
// dx (OVERWRITE) from C-contiguous dy and y viewed as (outer, C, inner), as softmax_backward above.
void softmax_backward(const Tensor& dx, const Tensor& dy, const Tensor& y, int64_t outer, int64_t C, int64_t inner,
                      bool log);
// dz = dy * act'(saved) (OVERWRITE) and, when db is defined, db[j] += sum_i dz[i, j] (ACCUMULATE); dy, saved, dz:
// C-contiguous (M, N) on one device, db contiguous (N,). saved is not read for None. The sums are deterministic.
void bias_act_backward(Activation act, const Tensor& dy, const Tensor& saved, const Tensor& dz, const Tensor& db,
                       double leaky_slope);
}  // namespace cuda

}  // namespace fusednn
