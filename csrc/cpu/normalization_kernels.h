// The per-ISA half of the normalization family: row/channel loops over contiguous data, defined in
// normalization_loops.cpp (compiled once per ISA). Statistics accumulate in double.
#pragma once
#include <cstdint>

#include "fusednn/isa.h"

namespace fusednn::cpu {

// Layer norm rows [r0, r1) of a contiguous (rows, D) x; batch norm channels [c0, c1) of a contiguous (N, C, L)
// x. w and b always point at D (or C) values (the driver passes ones/zeros when there is no affine).
template <class T>
struct NormLoops {
  void (*ln_forward)(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t r0, int64_t r1, int64_t D,
                     double eps);
  void (*ln_backward_dx)(const T* dy, const T* x, const T* w, const T* mean, const T* rstd, T* dx, int64_t r0,
                         int64_t r1, int64_t D);
  // dw[j] = sum_r dy * xhat, db[j] = sum_r dy for columns [c0, c1), overwritten.
  void (*ln_backward_params)(const T* dy, const T* x, const T* mean, const T* rstd, T* dw, T* db, int64_t rows,
                             int64_t D, int64_t c0, int64_t c1);
  void (*bn_stats)(const T* x, T* mean, T* var, int64_t N, int64_t C, int64_t L, int64_t c0, int64_t c1);
  void (*bn_apply)(const T* x, const T* mean, const T* rstd, const T* w, const T* b, T* y, int64_t N, int64_t C,
                   int64_t L, int64_t c0, int64_t c1);
  // dw, db overwritten; dx written when non-null (training: batch-statistics formula, else rstd * g).
  void (*bn_backward)(const T* dy, const T* x, const T* mean, const T* rstd, const T* w, T* dx, T* dw, T* db,
                      int64_t N, int64_t C, int64_t L, int64_t c0, int64_t c1, bool training);
  // y[i] = x[i] * m[i], m[i] = u[i] >= p ? scale : 0 for n elements.
  void (*dropout_apply)(const T* x, const float* u, T* y, T* mask, int64_t n, float p, T scale);
};

struct NormKernels {
  NormLoops<float> f32;
  NormLoops<double> f64;
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(NormKernels, norm_kernels)
