// GEMM entry point used by matmul, Linear layers and every later kernel that multiplies matrices:
//   C = alpha * A * B + beta * C, then an optional epilogue C = act(C + bias),
//   bias per row (length M) or per column (length N).
// Operands are strided views (strides in elements): element (i, j) is data[i * rs + j * cs]. A transposed
// operand is the same memory with rs and cs swapped (MatView::t()), packed from its strides, never copied.
// beta = 0 overwrites C (its old contents are never read, so NaN there does not leak); beta = 1
// accumulates, as parameter gradients do.
#pragma once
#include <cstdint>

namespace fusednn {

enum class Activation : uint8_t { None = 0, Relu, LeakyRelu, Gelu, Tanh, Sigmoid, Silu };
enum class BiasMode : uint8_t { None = 0, PerRow, PerColumn };

struct Epilogue {
  BiasMode bias_mode = BiasMode::None;
  const void* bias = nullptr;  // same dtype as C, contiguous, length M (PerRow) or N (PerColumn)
  Activation activation = Activation::None;
  double leaky_slope = 0.01;  // for LeakyRelu
};

template <class T>
struct MatView {
  T* data;
  int64_t rs;  // row stride
  int64_t cs;  // column stride
  MatView t() const { return {data, cs, rs}; }
};

// T is float or double. A is M x K, B is K x N, C is M x N. Threads split M and N, never K, so the
// result is bitwise the same for any thread count.
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, MatView<const T> A, MatView<const T> B, T beta, MatView<T> C,
          const Epilogue& epilogue = {});

// C = A * B for bool, int32 and int64 (NumPy's integer matmul: wrapping arithmetic; for bool, C[i, j] is
// whether any A[i, k] and B[k, j] are both true). A plain loop: integer matmul is never a hot path here.
template <class T>
void gemm_integer(int64_t M, int64_t N, int64_t K, MatView<const T> A, MatView<const T> B, MatView<T> C);

// The machine's measured float32 FMA throughput (GFLOP/s) with the active ISA's vectors: independent FMA
// chains on `threads` threads for about `seconds`. The ceiling GEMM efficiency is reported against.
double fma_peak_gflops(int threads, double seconds);

// Whether float32 products on CUDA devices may use TF32 tensor cores (inputs rounded to 10 mantissa bits,
// float32 accumulation). Off by default; a process-wide switch, like torch.backends.cuda.matmul.allow_tf32.
// The CPU never uses TF32.
void set_allow_tf32(bool allow);
bool allow_tf32();

// The CUDA GEMM (cuda/gemm.cu): the same product and epilogue as gemm() above, with every operand, the bias
// and C in `device`'s memory, queued on its stream; C must not overlap A or B. Batch b (0 <= b < batch.count)
// multiplies the operands at A.data + b * batch.a, B.data + b * batch.b into C.data + b * batch.c (strides in
// elements, 0 to reuse an operand).
namespace cuda {
struct Batch {
  int64_t count = 1;
  int64_t a = 0, b = 0, c = 0;
};
// T is float or double; float products use TF32 tensor cores when allow_tf32() and the device has them.
template <class T>
void gemm(int device, int64_t M, int64_t N, int64_t K, T alpha, MatView<const T> A, MatView<const T> B, T beta,
          MatView<T> C, const Epilogue& epilogue = {}, const Batch& batch = {});
}  // namespace cuda

}  // namespace fusednn
