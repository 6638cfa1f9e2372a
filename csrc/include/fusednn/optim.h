// Fused optimizer steps (torch.optim's update rules) over a list of parameter tensors in one pass each,
// and the gradient-clipping passes (global norm reduction, scaling, clamping) over a list of gradients.
#pragma once
#include <cstdint>
#include <vector>

#include "fusednn/dtype.h"
#include "fusednn/tensor.h"

namespace fusednn {

enum class OptimAlgo : uint8_t { SGD, Adam, RMSprop, Adagrad, Adamax, NAdam };

// Hyperparameters of one parameter group, with torch.optim's names; each algorithm reads its own.
struct OptimHyper {
  double lr = 0, weight_decay = 0, eps = 0;
  double beta1 = 0, beta2 = 0;         // Adam(W), Adamax, NAdam
  double momentum = 0, dampening = 0;  // SGD, RMSprop (momentum)
  double alpha = 0;                    // RMSprop
  double lr_decay = 0;                 // Adagrad
  double momentum_decay = 0;           // NAdam
  bool maximize = false, nesterov = false, amsgrad = false, centered = false;
  bool decoupled = false;              // AdamW / NAdam(decoupled_weight_decay): p *= 1 - lr * wd
};

// One parameter tensor's share of a step. Every pointer addresses `numel` contiguous elements of `dtype`;
// state[k] is the algorithm's k-th state buffer (nullptr when the group's options need none):
//   SGD [momentum_buffer]                  Adam [exp_avg, exp_avg_sq, max_exp_avg_sq]
//   RMSprop [square_avg, momentum_buffer, grad_avg]   Adagrad [sum]
//   Adamax [exp_avg, exp_inf]              NAdam [exp_avg, exp_avg_sq]
// scalars[0] is the tensor's step count (incremented by the step, before use, as torch does) and
// scalars[1] NAdam's running product of momentum coefficients (starts at 1).
struct OptimSlot {
  void* param;
  const void* grad;
  void* state[3];
  double* scalars;
  int64_t numel;
  DType dtype;
  int group;  // index into the hyperparameter list
};

// Scalars of one tensor's update at its current step, computed by the driver in double from the group's
// options and the tensor's step count. Every rule starts from
//   w = p * decay;  g = sign * grad + wd * w
// and then (Adam's names; the other rules reuse the fields as noted in cpu/optim.cpp):
//   m += one_minus_b1 * (g - m);  v = b2 * v + one_minus_b2 * g * g;  p = w - lr * m / (sqrt(v) * inv_bc2 + eps)
// Bias corrections come as reciprocals: divisions and square roots share one slow unit, which bounds
// the CPU loop once the data is in cache.
struct StepCoef {
  double decay, sign, wd;
  double lr, lr2;                 // lr2: NAdam's factor of the momentum term
  double b1, one_minus_b1, b2, one_minus_b2;
  double inv_bc2, eps;
  bool first;                     // SGD: the momentum buffer starts as the gradient
};

// Updates every slot's parameter and state in place: one pass over each element, threads over the
// concatenation of all slots (results do not depend on the thread count). Every slot's memory is on
// `device`; the step counts (slot.scalars) are host memory on every device.
void optim_step(OptimAlgo algo, const std::vector<OptimHyper>& groups, const std::vector<OptimSlot>& slots,
                Device device = Device::cpu());

// The clipping passes take tensors that all live on one device (ValueError naming two devices otherwise).
// (sum over all elements of all tensors of |x|^p)^(1/p), max |x| for p = inf; accumulated in double in a
// fixed order (the same result for any thread count). NaN when any element is NaN.
double global_norm(const std::vector<Tensor>& tensors, double p);
// x *= factor, in place, for each distinct tensor (a tensor listed twice is scaled once).
void scale_(const std::vector<Tensor>& tensors, double factor);
// x = min(max(x, lo), hi), in place (NaN stays NaN).
void clamp_(const std::vector<Tensor>& tensors, double lo, double hi);

namespace cuda {
// One multi-tensor launch updating every slot (device memory on `device`); coefs[i] are slot i's scalars,
// already advanced on the host by the driver (the step counts never leave the host).
void optim_step(OptimAlgo algo, const std::vector<OptimHyper>& groups, const std::vector<StepCoef>& coefs,
                const std::vector<OptimSlot>& slots, int device);
// Per-block partial sums (or maxima) and NaN counts in double, combined in a fixed order by a second launch;
// returns {sum |x|^p or max |x|, NaN count} for the driver to finish. Tensors: contiguous, float, one device.
void norm_parts(const std::vector<Tensor>& tensors, double p, double out[2]);
// x *= factor and x = min(max(x, lo), hi) over distinct contiguous tensors, one launch each.
void scale_(const std::vector<Tensor>& tensors, double factor);
void clamp_(const std::vector<Tensor>& tensors, double lo, double hi);
}  // namespace cuda

}  // namespace fusednn
