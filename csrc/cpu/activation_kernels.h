// The activation family's per-ISA function table (defined in activation_loops.cpp, once per ISA): one set
// of kernels per float type.
#pragma once
#include <cstdint>

#include "core/loop.h"
#include "fusednn/activation.h"
#include "fusednn/isa.h"

namespace fusednn::cpu {

constexpr int kNumActKinds = static_cast<int>(ActKind::Count);
constexpr int kNumGemmActivations = 7;  // gemm.h's Activation: None .. Silu

template <class T> struct ActivationTable {
  InnerLoop forward[kNumActKinds];   // operands (y, x), ctx = const ActParams*
  InnerLoop backward[kNumActKinds];  // operands (dx, dy, saved): dx = dy * act'(saved), ctx = const ActParams*
  // One outer slice of a C-contiguous (C, inner) block: lanes [j0, j1) of softmax_forward[log], the
  // rows along C; inner == 1 is the contiguous-row fast path (j0 = 0, j1 = 1).
  void (*softmax_forward[2])(const T* x, T* y, int64_t C, int64_t inner, int64_t j0, int64_t j1);
  void (*softmax_backward[2])(const T* dy, const T* y, T* dx, int64_t C, int64_t inner, int64_t j0, int64_t j1);
  // Columns [j0, j1) of the (M, N) bias_act_backward (see activation.h); db may be null.
  void (*bias_act_backward[kNumGemmActivations])(const T* dy, const T* saved, T* dz, T* db, int64_t M, int64_t N,
                                                 int64_t j0, int64_t j1, T slope);
};

struct ActivationKernels {
  ActivationTable<float> f32;
  ActivationTable<double> f64;
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(ActivationKernels, activation_kernels)
