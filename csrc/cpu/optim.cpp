// Driver of the optim family: per-tensor step scalars (torch.optim's bias corrections and schedules,
// computed in double on the host for every device), threading over the concatenation of all tensors of a
// step or a clipping pass, and the hand-off to the CUDA kernels (cuda/optim.cu) for device tensors.
#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "cpu/optim_kernels.h"
#include "fusednn/device.h"
#include "fusednn/errors.h"
#include "fusednn/optim.h"
#include "fusednn/parallel.h"

namespace fusednn {
namespace {

const cpu::OptimKernels& kernels() {
  return select_isa(cpu::ref::optim_kernels, cpu::avx2::optim_kernels, cpu::avx512::optim_kernels);
}

// Elements per unit of threading: chunk bounds, hence results, do not depend on the thread count.
constexpr int64_t kBlock = 4096;
// Streaming passes below this many elements stay on the calling thread: they take a few microseconds,
// less than waking a team (and far less when the cores are shared), and small models step often.
constexpr int64_t kSerialBelow = int64_t{1} << 16;

// parallel_for over blocks [0, blocks) of a pass over `elements` elements.
template <class Body>
void parallel_blocks(int64_t blocks, int64_t elements, const Body& body) {
  if (elements < kSerialBelow) {
    if (blocks > 0) body(int64_t{0}, blocks);
    return;
  }
  parallel_for(blocks, kParallelGrain, body);
}

// Advances the tensor's step counter and returns the scalars of its update (see StepCoef).
StepCoef coefficients(OptimAlgo algo, const OptimHyper& h, double* scalars) {
  const double t = scalars[0] += 1;
  StepCoef c{};
  c.decay = 1;
  c.sign = h.maximize ? -1 : 1;
  c.wd = h.weight_decay;
  c.lr = h.lr;
  c.eps = h.eps;
  c.b1 = h.beta1, c.one_minus_b1 = 1 - h.beta1;
  c.b2 = h.beta2, c.one_minus_b2 = 1 - h.beta2;
  if (h.decoupled) c.decay = 1 - h.lr * h.weight_decay, c.wd = 0;
  switch (algo) {
    case OptimAlgo::SGD:
      c.b1 = h.momentum, c.one_minus_b1 = 1 - h.dampening;
      c.first = t == 1;
      break;
    case OptimAlgo::Adam:
      c.lr = h.lr / (1 - std::pow(h.beta1, t));
      c.inv_bc2 = 1 / std::sqrt(1 - std::pow(h.beta2, t));
      break;
    case OptimAlgo::RMSprop:
      c.b1 = h.momentum;
      c.b2 = h.alpha, c.one_minus_b2 = 1 - h.alpha;
      break;
    case OptimAlgo::Adagrad:
      c.lr = h.lr / (1 + (t - 1) * h.lr_decay);
      break;
    case OptimAlgo::Adamax:
      c.lr = h.lr / (1 - std::pow(h.beta1, t));
      break;
    case OptimAlgo::NAdam: {
      const double mu = h.beta1 * (1 - 0.5 * std::pow(0.96, t * h.momentum_decay));
      const double mu_next = h.beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * h.momentum_decay));
      const double product = scalars[1] *= mu;
      c.inv_bc2 = 1 / std::sqrt(1 - std::pow(h.beta2, t));
      c.lr = h.lr * (1 - mu) / (1 - product);
      c.lr2 = h.lr * mu_next / (1 - product * mu_next);
      break;
    }
  }
  return c;
}

// Calls body(i, begin, end) for the pieces of tensor i inside elements [lo, hi) of the concatenation
// whose prefix offsets are `start` (start[i] = first element of tensor i, start.back() = total).
template <class Body>
void for_pieces(const std::vector<int64_t>& start, int64_t lo, int64_t hi, const Body& body) {
  size_t i = std::upper_bound(start.begin(), start.end(), lo) - start.begin() - 1;
  while (lo < hi) {
    const int64_t end = std::min(hi, start[i + 1]);
    if (end > lo) body(i, lo - start[i], end - start[i]);
    lo = end;
    ++i;
  }
}

template <class Body>
void over_blocks(const std::vector<int64_t>& start, const Body& body) {
  const int64_t total = start.back();
  parallel_blocks((total + kBlock - 1) / kBlock, total, [&](int64_t b0, int64_t b1) {
    for_pieces(start, b0 * kBlock, std::min(b1 * kBlock, total), body);
  });
}

// The device the gradients share (the CPU for an empty list).
Device check_gradients(const std::vector<Tensor>& tensors, const char* what) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!is_floating(t.dtype()))
      throw TypeError(cat(what, ": gradient ", i, " has dtype ", dtype_name(t.dtype()), "; expected float32 or float64"));
    if (t.device() != tensors[0].device())
      throw ValueError(cat(what, ": expected all gradients on one device, but gradient 0 is on ",
                           device_name(tensors[0].device()), " and gradient ", i, " on ", device_name(t.device())));
    if (!t.is_contiguous()) throw ValueError(cat(what, ": gradient ", i, " is not contiguous"));
  }
  return tensors.empty() ? Device::cpu() : tensors[0].device();
}

// The tensors with distinct memory, each made ready for writing.
std::vector<Tensor> distinct_for_write(const std::vector<Tensor>& tensors, const char* what) {
  check_gradients(tensors, what);
  std::set<std::pair<const void*, int64_t>> seen;
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) {
    if (t.numel() == 0 || !seen.insert({t.data(), t.numel()}).second) continue;
    t.prepare_write(what);
    out.push_back(t);
  }
  return out;
}

// The norm from the combined partial results: sum |x|^p (max |x| for p = inf) and the NaN count.
double finish_norm(double value, double nans, double p) {
  if (nans > 0) return NAN;
  if (std::isinf(p) || p == 1) return value;
  return p == 2 ? std::sqrt(value) : std::pow(value, 1 / p);
}

std::vector<int64_t> prefix_offsets(const std::vector<Tensor>& tensors) {
  std::vector<int64_t> start(tensors.size() + 1, 0);
  for (size_t i = 0; i < tensors.size(); ++i) start[i + 1] = start[i] + tensors[i].numel();
  return start;
}

}  // namespace

void optim_step(OptimAlgo algo, const std::vector<OptimHyper>& groups, const std::vector<OptimSlot>& slots,
                Device device) {
  // The step counts and the scalars derived from them stay on the host for every device: a few doubles per
  // tensor, computed here once and shipped with the slot table.
  std::vector<StepCoef> coefs(slots.size());
  std::vector<int64_t> start(slots.size() + 1, 0);
  for (size_t i = 0; i < slots.size(); ++i) {
    coefs[i] = coefficients(algo, groups[slots[i].group], slots[i].scalars);
    start[i + 1] = start[i] + slots[i].numel;
  }
  if (!device.is_cpu()) return cuda::optim_step(algo, groups, coefs, slots, device.index);
  const auto& k = kernels();
  over_blocks(start, [&](size_t i, int64_t b, int64_t e) {
    k.step(algo, groups[slots[i].group], coefs[i], slots[i], b, e);
  });
}

double global_norm(const std::vector<Tensor>& tensors, double p) {
  const Device device = check_gradients(tensors, "clip_grad_norm_");
  if (!(p > 0)) throw ValueError(cat("clip_grad_norm_: norm_type must be positive or inf, got ", p));
  if (!device.is_cpu()) {
    double parts[2];
    cuda::norm_parts(tensors, p, parts);
    return finish_norm(parts[0], parts[1], p);
  }
  // One partial result per block, combined in block order: the same total for any thread count.
  const std::vector<int64_t> start = prefix_offsets(tensors);
  std::vector<int64_t> first_block(tensors.size() + 1, 0);
  for (size_t i = 0; i < tensors.size(); ++i)
    first_block[i + 1] = first_block[i] + (tensors[i].numel() + kBlock - 1) / kBlock;
  std::vector<cpu::NormPart> parts(first_block.back());
  const auto& k = kernels();
  parallel_blocks(first_block.back(), start.back(), [&](int64_t b0, int64_t b1) {
    for_pieces(first_block, b0, b1, [&](size_t i, int64_t first, int64_t last) {
      const Tensor& t = tensors[i];
      const char* base = static_cast<const char*>(t.data());
      for (int64_t b = first; b < last; ++b) {
        const int64_t lo = b * kBlock, n = std::min(kBlock, t.numel() - lo);
        parts[first_block[i] + b] = k.norm(t.dtype(), base + lo * int64_t(t.itemsize()), n, p);
      }
    });
  });
  double value = 0, nans = 0;
  for (const auto& part : parts) {
    value = std::isinf(p) ? std::max(value, part.value) : value + part.value;
    nans += part.nans;
  }
  return finish_norm(value, nans, p);
}

void scale_(const std::vector<Tensor>& tensors, double factor) {
  const std::vector<Tensor> targets = distinct_for_write(tensors, "clip_grad_norm_");
  if (!targets.empty() && !targets[0].device().is_cpu()) return cuda::scale_(targets, factor);
  const auto& k = kernels();
  over_blocks(prefix_offsets(targets), [&](size_t i, int64_t b, int64_t e) {
    const Tensor& t = targets[i];
    k.scale(t.dtype(), static_cast<char*>(t.data()) + b * int64_t(t.itemsize()), e - b, factor);
  });
}

void clamp_(const std::vector<Tensor>& tensors, double lo, double hi) {
  const std::vector<Tensor> targets = distinct_for_write(tensors, "clip_grad_value_");
  if (!targets.empty() && !targets[0].device().is_cpu()) return cuda::clamp_(targets, lo, hi);
  const auto& k = kernels();
  over_blocks(prefix_offsets(targets), [&](size_t i, int64_t b, int64_t e) {
    const Tensor& t = targets[i];
    k.clamp(t.dtype(), static_cast<char*>(t.data()) + b * int64_t(t.itemsize()), e - b, lo, hi);
  });
}

}  // namespace fusednn
