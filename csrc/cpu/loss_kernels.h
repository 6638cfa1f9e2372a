// The loss family's per-ISA function table (defined in loss_loops.cpp, once per ISA) and the argument
// blocks its kernels read; one set per float type.
#pragma once
#include <cstdint>

#include "fusednn/isa.h"
#include "fusednn/loss.h"

namespace fusednn::cpu {

constexpr int kNumPointwiseLosses = static_cast<int>(PointwiseLoss::Count);

// Contiguous operands of one length; w and pw may be null (1).
template <class T> struct PointwiseArgs {
  const T* x;
  const T* t;
  const T* w;
  const T* pw;
  T delta;
};

// Rows of a contiguous (N, C) logits block. Exactly one of labels / probs is set; weight may be null.
template <class T> struct ClassRows {
  const T* x;
  int64_t C;
  const int64_t* labels;  // already validated: in [0, C) or ignore_index
  const T* probs;
  const T* weight;
  T weight_sum;  // sum_c w_c (C without weights)
  T smoothing;
  int64_t ignore_index;
};

template <class T> struct LossTable {
  // Elements [i0, i1): writes each loss to out (when not null) and returns their sum; sets *bad when a
  // bce probability lies outside [0, 1].
  double (*forward[kNumPointwiseLosses])(const PointwiseArgs<T>& a, int64_t i0, int64_t i1, T* out, bool* bad);
  // dx[i] = scale * (dy ? dy[i] : 1) * dloss_i/dx_i for i in [i0, i1) (overwrite).
  void (*backward[kNumPointwiseLosses])(const PointwiseArgs<T>& a, int64_t i0, int64_t i1, const T* dy, T scale, T* dx);
  // Rows [r0, r1): loss[r] (0 for ignored rows) and lse[r].
  void (*cross_entropy_forward)(const ClassRows<T>& a, int64_t r0, int64_t r1, T* loss, T* lse);
  // Rows [r0, r1): dx = scale[r] * dloss_r/dx (overwrite; zero rows for ignored labels).
  void (*cross_entropy_backward)(const ClassRows<T>& a, const T* lse, const T* scale, int64_t r0, int64_t r1, T* dx);
};

struct LossKernels {
  LossTable<float> f32;
  LossTable<double> f64;
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(LossKernels, loss_kernels)
