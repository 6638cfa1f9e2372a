// The per-ISA half of the optim family: one tensor's update loop for each algorithm, and the clipping
// loops. Defined in optim_loops.cpp, compiled once per ISA; the driver (optim.cpp) precomputes per-tensor
// scalars in double (StepCoef: bias corrections, schedules) so each loop is one branch-free pass per element.
#pragma once
#include <cstdint>

#include "fusednn/isa.h"
#include "fusednn/optim.h"

namespace fusednn::cpu {

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
