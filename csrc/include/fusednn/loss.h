// Loss functions with their gradients, reductions 'none' | 'mean' | 'sum' (as torch):
//   mse (x - t)^2; l1 |x - t|; huber |d| < delta ? d^2 / 2 : delta (|d| - delta / 2), d = x - t;
//   bce -w (t max(log p, -100) + (1 - t) max(log1p(-p), -100)), p in [0, 1];
//   bce_with_logits w (pw t softplus(-x) + (1 - t) softplus(x)), softplus(z) = max(z, 0) + log1p(e^-|z|);
//   cross_entropy (fused log-softmax + NLL per row, lse = m + log sum e^(x - m)), eps = label smoothing:
//     int labels:  (1 - eps) w_t (lse - x_t) + eps / C sum_c w_c (lse - x_c), mean over sum of w_t;
//     probs:       -sum_c w_c t'_c (x_c - lse), t' = (1 - eps) t + eps / C, mean over N;
//   nll -w_t lp[t], mean over sum of w_t. Rows whose label is ignore_index count nowhere.
// Gradient kernels OVERWRITE dx (=).
#pragma once
#include <cstdint>
#include <utility>

#include "fusednn/tensor.h"

namespace fusednn {

enum class Reduction : uint8_t { None, Mean, Sum };
enum class PointwiseLoss : uint8_t { Mse, L1, Huber, Bce, BceLogits, Count };

// input and target of one shape (ValueError otherwise); input float32/float64, target cast to its dtype.
// weight and pos_weight (only bce / bce_with_logits; undefined for none) broadcast to input's shape.
// Returns a 0-d tensor for mean/sum, an input-shaped one for none. bce raises ValueError for p outside [0, 1].
Tensor pointwise_loss(PointwiseLoss kind, const Tensor& input, const Tensor& target, const Tensor& weight,
                      const Tensor& pos_weight, Reduction reduction, double delta);
// d loss / d input (a new tensor). dy is 0-d for mean/sum and input-shaped for none.
Tensor pointwise_loss_backward(PointwiseLoss kind, const Tensor& dy, const Tensor& input, const Tensor& target,
                               const Tensor& weight, const Tensor& pos_weight, Reduction reduction, double delta);

struct ClassLossOptions {
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;   // int labels only
  double label_smoothing = 0.0;  // cross_entropy only, in [0, 1]
};

// logits (N, C) float; target int32/int64 labels (N,) in [0, C) or ignore_index, or float probabilities
// (N, C); weight undefined or (C,). Returns (loss, lse) with lse the (N,) row log-sum-exps backward reads.
std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const ClassLossOptions& options);
Tensor cross_entropy_backward(const Tensor& dy, const Tensor& logits, const Tensor& target, const Tensor& weight,
                              const Tensor& lse, const ClassLossOptions& options);
// log_probs (N, C), int labels (N,).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, const ClassLossOptions& options);
Tensor nll_loss_backward(const Tensor& dy, const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                         const ClassLossOptions& options);

// The family on CUDA devices (cuda/loss.cu). Every operand is C-contiguous, on one device, in the input's
// float dtype (labels int64); weight / pos_weight / labels / probs may be undefined. Outputs are written
// (OVERWRITE). Sums and means are taken in double in a fixed order (deterministic).
namespace cuda {
// out (input-shaped for none, 0-d otherwise) = the losses of x against t, reduced. Returns whether a bce
// probability lay outside [0, 1] (then a synchronising read; false at once for the other losses).
bool pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& weight,
                    const Tensor& pos_weight, Reduction reduction, double delta);
// dx = dy (/ n for mean) * d loss / dx; dy is x-shaped for none, one element otherwise.
void pointwise_loss_backward(PointwiseLoss kind, const Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& t,
                             const Tensor& weight, const Tensor& pos_weight, Reduction reduction, double delta);
// Whether some label is neither in [0, C) nor ignore_index: then *index and *label name the first (synchronises).
bool find_bad_label(const Tensor& labels, int64_t C, int64_t ignore_index, int64_t* index, int64_t* label);
// Fused cross-entropy of (N, C) logits x against labels (N,) or probs (N, C): lse (N,) and loss ((N,) for
// none, 0-d otherwise), as the CPU's. Labels must have passed find_bad_label.
void cross_entropy(const Tensor& loss, const Tensor& lse, const Tensor& x, const Tensor& labels, const Tensor& probs,
                   const Tensor& weight, const ClassLossOptions& options);
// dx (N, C) = scale_r (softmax - smoothed target) from the saved lse; dy is (N,) for none, one element otherwise.
void cross_entropy_backward(const Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& labels,
                            const Tensor& probs, const Tensor& weight, const Tensor& lse,
                            const ClassLossOptions& options);
// loss ((N,) for none, 0-d otherwise) = -w_t log_probs[r, t], reduced.
void nll_loss(const Tensor& loss, const Tensor& log_probs, const Tensor& labels, const Tensor& weight,
              const ClassLossOptions& options);
// dx (N, C): -scale_r w_t at each counted label, 0 elsewhere.
void nll_loss_backward(const Tensor& dx, const Tensor& dy, const Tensor& labels, const Tensor& weight,
                       const ClassLossOptions& options);
}  // namespace cuda

}  // namespace fusednn
