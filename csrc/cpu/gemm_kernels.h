// The per-ISA half of the GEMM: block sizes, packing and the macro-kernel (a loop of MR x NR register tiles)
// that gemm.cpp's driver calls through one table per ISA. Defined in gemm_loops.cpp, compiled once per ISA.
#pragma once
#include <cstdint>

#include "fusednn/gemm.h"
#include "fusednn/isa.h"

namespace fusednn::cpu {

// Where the micro-kernel reads an operand. A: element (i, k) of strip s at p[s * strip + i + k * ks]
// (rows contiguous: they are the vector direction; strips hold MR rows). B: element (k, j) of strip t at
// p[t * strip + k * ks + j * js] (strips hold NR columns). Packed panels have ks = MR (A) or NR (B), js = 1.
template <class T>
struct Panel {
  const T* p;
  int64_t ks, js, strip;
  bool packed;
};

// One call of the macro-kernel: C[m x n] = alpha * A[m x k] * B[k x n] + beta * C, where A and B are one
// KC slice. `last` marks the final K slice, after which the epilogue runs on each tile still in registers;
// row_bias / col_bias then point at this block's first bias element (or are null).
template <class T>
struct GemmBlock {
  int64_t m, n, k;
  Panel<T> a, b;
  T alpha, beta;
  T* c;
  int64_t c_rs, c_cs;
  bool last;
  const T* row_bias;
  const T* col_bias;
  Activation activation;
  T leaky_slope;
  T* edge_scratch;  // MR * k elements: the zero-padded last strip when A is read unpacked
};

template <class T>
struct GemmKernel {
  int mr, nr;  // register tile
  int kc, mc;  // largest cache blocks (the driver splits evenly): KC x NR of B in L1, MC x KC of A in L2
  // Packs rows [0, m) x cols [0, k) of a strided matrix (element (i, k) at a[i * rs + k * cs]) into MR-row
  // strips (zero padded), or columns [0, n) of B into NR-column strips.
  void (*pack_a)(int64_t m, int64_t k, const T* a, int64_t rs, int64_t cs, T* out);
  void (*pack_b)(int64_t k, int64_t n, const T* b, int64_t rs, int64_t cs, T* out);
  void (*macro)(const GemmBlock<T>& block);
};

struct GemmKernels {
  GemmKernel<float> f32;
  GemmKernel<double> f64;
  double (*fma_probe)(int64_t steps);  // independent float FMA chains, to measure the machine's peak
  int64_t fma_probe_flops;             // flops per step of fma_probe
  const GemmKernel<float>& get(float) const { return f32; }
  const GemmKernel<double>& get(double) const { return f64; }
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(GemmKernels, gemm_kernels)
