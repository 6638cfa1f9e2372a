// The per-ISA half of the optim family: one tensor's update loop for each algorithm, and the clipping
// loops. Defined in optim_loops.cpp, compiled once per ISA; the driver (optim.cpp) precomputes per-tensor
// scalars in double (bias corrections, schedules) so each loop is one branch-free pass per element.
#pragma once
#include <cstdint>

#include "fusednn/isa.h"
#include "fusednn/optim.h"

namespace fusednn::cpu {

// Scalars of one tensor's update at its current step. Every rule starts from
//   w = p * decay;  g = sign * grad + wd * w
// and then (Adam's names; the other rules reuse the fields as noted in optim.cpp):
//   m += one_minus_b1 * (g - m);  v = b2 * v + one_minus_b2 * g * g;  p = w - lr * m / (sqrt(v) * inv_bc2 + eps)
// Bias corrections come as reciprocals: divisions and square roots share one slow unit, which bounds
// the loop once the data is in cache.
struct StepCoef {
  double decay, sign, wd;
  double lr, lr2;                 // lr2: NAdam's factor of the momentum term
  double b1, one_minus_b1, b2, one_minus_b2;
  double inv_bc2, eps;
  bool first;                     // SGD: the momentum buffer starts as the gradient
};

// Elements [begin, end) of one slot.
using StepLoop = void (*)(OptimAlgo algo, const OptimHyper& h, const StepCoef& c, const OptimSlot& s,
                          int64_t begin, int64_t end);

// Norm pieces of a block: sum |x|^p (p = 1, 2 or general) or max |x| (p = inf), and the NaN count.
struct NormPart {
  double value;
  double nans;
};

struct OptimKernels {
  StepLoop step;
  NormPart (*norm)(DType dtype, const void* x, int64_t n, double p);
  void (*scale)(DType dtype, void* x, int64_t n, double factor);
  void (*clamp)(DType dtype, void* x, int64_t n, double lo, double hi);
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(OptimKernels, optim_kernels)
