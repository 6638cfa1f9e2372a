// Python bindings of the loss family: pointwise losses by PointwiseLoss, fused cross-entropy (returning the
// row log-sum-exps its backward reads) and nll_loss, each with its backward. reduction: 'none'|'mean'|'sum'.
// Tensors stay on their device (the driver runs the CUDA kernels).
#include <string>

#include "bindings/convert.h"
#include "fusednn/errors.h"
#include "fusednn/loss.h"

namespace fusednn::bind {

namespace {

Reduction parse_reduction(const std::string& name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  throw ValueError(cat("reduction must be 'mean', 'sum' or 'none', got '", name, "'"));
}
Tensor optional_tensor(py::handle obj) { return obj.is_none() ? Tensor{} : any_device_tensor(obj); }
ClassLossOptions class_options(const std::string& reduction, int64_t ignore_index, double smoothing) {
  ClassLossOptions o;
  o.reduction = parse_reduction(reduction);
  o.ignore_index = ignore_index;
  o.label_smoothing = smoothing;
  return o;
}

}  // namespace

void init_loss(py::module_& m) {
  py::enum_<PointwiseLoss>(m, "PointwiseLoss")
      .value("mse", PointwiseLoss::Mse).value("l1", PointwiseLoss::L1).value("huber", PointwiseLoss::Huber)
      .value("bce", PointwiseLoss::Bce).value("bce_with_logits", PointwiseLoss::BceLogits);

  m.def("_pointwise_loss", [](PointwiseLoss kind, py::handle input, py::handle target, py::handle weight,
                              py::handle pos_weight, const std::string& reduction, double delta) {
    const Reduction r = parse_reduction(reduction);
    const Tensor x = any_device_tensor(input), t = any_device_tensor(target);
    const Tensor w = optional_tensor(weight), pw = optional_tensor(pos_weight);
    GilRelease gil(x.numel());
    return pointwise_loss(kind, x, t, w, pw, r, delta);
  });
  m.def("_pointwise_loss_backward", [](PointwiseLoss kind, py::handle dy, py::handle input, py::handle target,
                                       py::handle weight, py::handle pos_weight, const std::string& reduction,
                                       double delta) {
    const Reduction r = parse_reduction(reduction);
    const Tensor g = any_device_tensor(dy), x = any_device_tensor(input), t = any_device_tensor(target);
    const Tensor w = optional_tensor(weight), pw = optional_tensor(pos_weight);
    GilRelease gil(x.numel());
    return pointwise_loss_backward(kind, g, x, t, w, pw, r, delta);
  });
  m.def("_cross_entropy", [](py::handle logits, py::handle target, py::handle weight, const std::string& reduction,
                             int64_t ignore_index, double smoothing) {
    const ClassLossOptions o = class_options(reduction, ignore_index, smoothing);
    const Tensor x = any_device_tensor(logits), t = any_device_tensor(target), w = optional_tensor(weight);
    GilRelease gil(x.numel());
    return cross_entropy(x, t, w, o);
  });
  m.def("_cross_entropy_backward", [](py::handle dy, py::handle logits, py::handle target, py::handle weight,
                                      const Tensor& lse, const std::string& reduction, int64_t ignore_index,
                                      double smoothing) {
    const ClassLossOptions o = class_options(reduction, ignore_index, smoothing);
    const Tensor g = any_device_tensor(dy), x = any_device_tensor(logits), t = any_device_tensor(target);
    const Tensor w = optional_tensor(weight);
    GilRelease gil(x.numel());
    return cross_entropy_backward(g, x, t, w, lse, o);
  });
  m.def("_nll_loss", [](py::handle log_probs, py::handle target, py::handle weight, const std::string& reduction,
                        int64_t ignore_index) {
    const ClassLossOptions o = class_options(reduction, ignore_index, 0.0);
    const Tensor x = any_device_tensor(log_probs), t = any_device_tensor(target), w = optional_tensor(weight);
    return nll_loss(x, t, w, o);
  });
  m.def("_nll_loss_backward", [](py::handle dy, py::handle log_probs, py::handle target, py::handle weight,
                                 const std::string& reduction, int64_t ignore_index) {
    const ClassLossOptions o = class_options(reduction, ignore_index, 0.0);
    const Tensor g = any_device_tensor(dy), x = any_device_tensor(log_probs), t = any_device_tensor(target);
    const Tensor w = optional_tensor(weight);
    return nll_loss_backward(g, x, t, w, o);
  });
}

}  // namespace fusednn::bind
