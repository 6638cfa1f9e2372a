// Linear forward and backward drivers: validation, devices, output allocation and the GEMM / bias_act_backward
// calls of fusednn/linear.h (the kernels are gemm's and activation's; on two threads the two backward
// products run side by side, one per thread). Tensors on a CUDA device go to cuda/linear.cu's products.
#include "fusednn/linear.h"

#include <exception>

#include "fusednn/activation.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {
namespace {

// `what` names the entry point in messages.
void check_operands(const char* what, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (x.ndim() != 2 || weight.ndim() != 2)
    throw ValueError(cat(what, ": expected a 2-D input and weight, got shapes ", x.shape(), " and ", weight.shape()));
  if (!is_floating(x.dtype()) || x.dtype() != weight.dtype())
    throw TypeError(cat(what, ": input and weight must both be float32 or both float64, got ", dtype_name(x.dtype()),
                        " and ", dtype_name(weight.dtype())));
  if (x.shape(1) != weight.shape(1))
    throw ValueError(cat(what, ": input has ", x.shape(1), " features but weight has shape ", weight.shape(),
                         " (out_features, in_features)"));
  if (!bias.defined()) return;
  if (bias.ndim() != 1 || bias.shape(0) != weight.shape(0))
    throw ValueError(cat(what, ": bias has shape ", bias.shape(), ", expected (", weight.shape(0), ",)"));
  if (bias.dtype() != x.dtype())
    throw TypeError(cat(what, ": bias has dtype ", dtype_name(bias.dtype()), ", expected ", dtype_name(x.dtype())));
}

// Whether the two backward products (the same number of multiply-adds each) run side by side, one per
// thread, each on a single thread: that keeps each core on its own operands (no shared packed panels, no
// chunks to hand out) and is bitwise the same as running them one after the other. Two threads only: with
// more, each product is better split among several.
bool concurrent_pair(int64_t work_each) {
  return get_num_threads() == 2 && !in_parallel_region() && work_each >= (int64_t{1} << 20);
}

// Runs f and g on two threads; an exception from either is rethrown here.
template <class F, class G>
void run_pair(const F& f, const G& g) {
  std::exception_ptr error;
  auto guarded = [&error](const auto& fn) {
    try {
      fn();
    } catch (...) {
#pragma omp critical(fusednn_linear_error)
      error = std::current_exception();
    }
  };
#pragma omp parallel sections num_threads(2)
  {
#pragma omp section
    guarded(f);
#pragma omp section
    guarded(g);
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

Tensor linear_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act, double leaky_slope,
                      Tensor* z) {
  check_operands("linear_forward", x, weight, bias);
  const Device device = common_device("linear_forward", {&x, &weight, &bias});
  const int64_t M = x.shape(0), K = x.shape(1), N = weight.shape(0);
  const Tensor b = bias.defined() ? contiguous(bias) : Tensor{};
  Tensor y = Tensor::empty({M, N}, x.dtype(), device);
  if (!device.is_cpu()) {
    cuda::linear_forward(y, x, weight, b, z ? Activation::None : act, leaky_slope);
    if (z == nullptr) return y;
    *z = y;
    y = astype(*z, z->dtype());  // a copy, activated in place
    cuda::linear_activation(y, act, leaky_slope);
    return y;
  }
  const Epilogue epilogue{b.defined() ? BiasMode::PerColumn : BiasMode::None, b.defined() ? b.data() : nullptr,
                          z ? Activation::None : act, leaky_slope};
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    gemm<T>(M, N, K, T(1), mat<const T>(x), mat<const T>(weight).t(), T(0), mat<T>(y), epilogue);
  });
  if (z == nullptr) return y;
  // y = act(z) as the epilogue of the (M N x 1) by (1 x 1) product z * 1: the same code as the fused path.
  *z = y;
  y = Tensor::empty({M, N}, x.dtype());
  const Epilogue activation{BiasMode::None, nullptr, act, leaky_slope};
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T one(1);
    gemm<T>(M * N, 1, 1, T(1), {z->data_as<const T>(), 1, 1}, {&one, 1, 1}, T(0), {y.data_as<T>(), 1, 1},
            activation);
  });
  return y;
}

LinearGrads linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& saved,
                            Activation act, double leaky_slope, bool need_dx, bool need_dweight, bool need_dbias) {
  check_operands("linear_backward", x, weight, Tensor{});
  const Device device = common_device("linear_backward", {&dy, &x, &weight, &saved});
  const int64_t M = x.shape(0), K = x.shape(1), N = weight.shape(0);
  if (dy.ndim() != 2 || dy.shape(0) != M || dy.shape(1) != N)
    throw ValueError(cat("linear_backward: dy has shape ", dy.shape(), ", expected ", Dims{M, N}));
  if (dy.dtype() != x.dtype())
    throw TypeError(cat("linear_backward: dy has dtype ", dtype_name(dy.dtype()), ", expected ", dtype_name(x.dtype())));
  LinearGrads grads;
  Tensor dz = dy;  // without an activation or a bias gradient, dz is dy itself
  if (act != Activation::None || need_dbias) {
    auto [d, db] = bias_act_backward(act, dy, saved, Tensor{}, leaky_slope);
    dz = d;
    if (need_dbias) grads.dbias = db;
  }
  if (need_dx) grads.dx = Tensor::empty({M, K}, x.dtype(), device);
  if (need_dweight) grads.dweight = Tensor::empty({N, K}, x.dtype(), device);
  if (!device.is_cpu()) {
    cuda::linear_backward(dz, x, weight, grads.dx, grads.dweight);
    return grads;
  }
  visit_float(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto dx = [&] { gemm<T>(M, K, N, T(1), mat<const T>(dz), mat<const T>(weight), T(0), mat<T>(grads.dx)); };
    auto dweight = [&] {
      gemm<T>(N, K, M, T(1), mat<const T>(dz).t(), mat<const T>(x), T(0), mat<T>(grads.dweight));
    };
    if (need_dx && need_dweight && concurrent_pair(M * N * K)) {
      run_pair(dx, dweight);
      return;
    }
    if (need_dx) dx();
    if (need_dweight) dweight();
  });
  return grads;
}

}  // namespace fusednn
