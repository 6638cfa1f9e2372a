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

// Updates every slot's parameter and state in place: one pass over each element, threads over the
// concatenation of all slots (results do not depend on the thread count).
void optim_step(OptimAlgo algo, const std::vector<OptimHyper>& groups, const std::vector<OptimSlot>& slots);

// (sum over all elements of all tensors of |x|^p)^(1/p), max |x| for p = inf; accumulated in double in a
// fixed order (the same result for any thread count). NaN when any element is NaN.
double global_norm(const std::vector<Tensor>& tensors, double p);
// x *= factor, in place, for each distinct tensor (a tensor listed twice is scaled once).
void scale_(const std::vector<Tensor>& tensors, double factor);
// x = min(max(x, lo), hi), in place (NaN stays NaN).
void clamp_(const std::vector<Tensor>& tensors, double lo, double hi);

}  // namespace fusednn
