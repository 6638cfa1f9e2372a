// The CUDA entry points of a build without the CUDA backend: no device is ever seen, and anything that
// would touch one says how to get a CUDA build.
#include "fusednn/activation.h"
#include "fusednn/cuda.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/gemm.h"
#include "fusednn/indexing.h"
#include "fusednn/linear.h"
#include "fusednn/loss.h"
#include "fusednn/normalization.h"
#include "fusednn/optim.h"
#include "fusednn/random.h"
#include "fusednn/reduce.h"

namespace fusednn::cuda {
namespace {
[[noreturn]] void not_built() {
  throw RuntimeError(
      "fusednn was built without CUDA: reinstall on a machine with nvcc (the CUDA toolkit) on PATH, or force it "
      "with pip install . -C cmake.define.FUSEDNN_CUDA=ON");
}
}  // namespace

bool is_built() { return false; }
int device_count() { return 0; }
std::string runtime_version() { return ""; }
void check_device(int) { not_built(); }
void* allocate(size_t, int, size_t*) { not_built(); }
void release(void*, size_t, int) {}  // nothing can have been allocated
MemoryStats memory_stats(int) { return {0, 0}; }
void empty_cache() {}
void* stream(int) { not_built(); }
void synchronize(int) { not_built(); }
void copy_host_to_device(void*, const void*, size_t, int) { not_built(); }
void copy_device_to_host(void*, const void*, size_t, int) { not_built(); }
void copy_device_to_device(void*, int, const void*, int, size_t) { not_built(); }
void cast_into(const Tensor&, const Tensor&) { not_built(); }
void unary(UnaryOp, const Tensor&, const Tensor&, const void*) { not_built(); }
bool binary(BinaryOp, const Tensor&, const Tensor&, const Tensor&) { not_built(); }
void where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { not_built(); }
void clip(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { not_built(); }

// reduce
void reduce(cpu::KernelOp, DType, bool, const ReduceFinish&, const Tensor&, int64_t, int64_t, const Tensor&) { not_built(); }
void arg_reduce(bool, const Tensor&, int64_t, int64_t, const Tensor&) { not_built(); }

// indexing
void index_offsets(const Tensor&, const Tensor&, int64_t, int64_t, bool, int64_t*) { not_built(); }
void index_move(IndexMove, const IndexPlan&, const Tensor&, const Tensor&) { not_built(); }

// activation
void activation(ActKind, const Tensor&, const Tensor&, const ActParams&) { not_built(); }
void activation_backward(ActKind, const Tensor&, const Tensor&, const Tensor&, const ActParams&) { not_built(); }
void softmax(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool) { not_built(); }
void softmax_backward(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool) { not_built(); }
void bias_act_backward(Activation, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double) { not_built(); }

// loss
bool pointwise_loss(PointwiseLoss, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, Reduction,
                    double) { not_built(); }
void pointwise_loss_backward(PointwiseLoss, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                             const Tensor&, Reduction, double) { not_built(); }
bool find_bad_label(const Tensor&, int64_t, int64_t, int64_t*, int64_t*) { not_built(); }
void cross_entropy(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                   const ClassLossOptions&) { not_built(); }
void cross_entropy_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                            const Tensor&, const ClassLossOptions&) { not_built(); }
void nll_loss(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const ClassLossOptions&) { not_built(); }
void nll_loss_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const ClassLossOptions&) { not_built(); }

// optim
void optim_step(OptimAlgo, const std::vector<OptimHyper>&, const std::vector<StepCoef>&, const std::vector<OptimSlot>&,
                int) { not_built(); }
void norm_parts(const std::vector<Tensor>&, double, double[2]) { not_built(); }
void scale_(const std::vector<Tensor>&, double) { not_built(); }
void clamp_(const std::vector<Tensor>&, double, double) { not_built(); }

// gemm
template <class T>
void gemm(int, int64_t, int64_t, int64_t, T, MatView<const T>, MatView<const T>, T, MatView<T>, const Epilogue&,
          const Batch&) { not_built(); }
template void gemm<float>(int, int64_t, int64_t, int64_t, float, MatView<const float>, MatView<const float>, float,
                          MatView<float>, const Epilogue&, const Batch&);
template void gemm<double>(int, int64_t, int64_t, int64_t, double, MatView<const double>, MatView<const double>,
                           double, MatView<double>, const Epilogue&, const Batch&);

// random
void uniform_(const Tensor&, uint64_t, uint64_t, double, double, double) { not_built(); }
void normal_(const Tensor&, uint64_t, uint64_t, double, double) { not_built(); }
void integers_(const Tensor&, uint64_t, uint64_t, int64_t, uint64_t) { not_built(); }

// normalization
void layer_norm(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t,
                double) { not_built(); }
void layer_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t,
                         const Tensor&, const Tensor&, const Tensor&) { not_built(); }
void batch_norm_stats(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t) { not_built(); }
void batch_norm_apply(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                      const Tensor&, int64_t, int64_t, int64_t, double) { not_built(); }
void batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                         const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool) { not_built(); }
void dropout(const Tensor&, const Tensor&, const Tensor&, uint64_t, uint64_t, float, double) { not_built(); }

// linear
void linear_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, Activation, double) { not_built(); }
void linear_activation(const Tensor&, Activation, double) { not_built(); }
void linear_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) { not_built(); }

}  // namespace fusednn::cuda
