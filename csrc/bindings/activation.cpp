// Python bindings of the activation family: _act / _act_backward by ActKind, _softmax / _softmax_backward,
// and the fused Linear backward helper _bias_act_backward(activation, dy, saved, leaky_slope[, db]); tensors
// stay on their device (the driver runs the CUDA kernels). _act_reference: the device formulas on the host.
#include <string>
#include <utility>

#include "bindings/convert.h"
#include "fusednn/activation.h"
#include "fusednn/errors.h"

namespace fusednn::bind {

namespace {

ActParams params(double alpha, double beta, double threshold) {
  ActParams p;
  p.alpha = alpha;
  p.beta = beta;
  p.threshold = threshold;
  return p;
}

}  // namespace

void init_activation(py::module_& m) {
  py::enum_<ActKind>(m, "ActKind")
      .value("relu", ActKind::Relu).value("leaky_relu", ActKind::LeakyRelu).value("elu", ActKind::Elu)
      .value("gelu", ActKind::Gelu).value("gelu_tanh", ActKind::GeluTanh).value("silu", ActKind::Silu)
      .value("sigmoid", ActKind::Sigmoid).value("tanh", ActKind::Tanh).value("softplus", ActKind::Softplus);

  m.def("_act", [](ActKind kind, py::handle x, double alpha, double beta, double threshold) {
    const Tensor t = any_device_tensor(x);
    GilRelease gil(t.numel());
    return activation(kind, t, params(alpha, beta, threshold));
  });
  m.def("_act_backward", [](ActKind kind, py::handle dy, py::handle saved, double alpha, double beta, double threshold) {
    const Tensor g = any_device_tensor(dy), s = any_device_tensor(saved);
    GilRelease gil(s.numel());
    return activation_backward(kind, g, s, params(alpha, beta, threshold));
  });
  m.def("_softmax", [](py::handle x, py::handle axis, bool log) {
    const Tensor t = any_device_tensor(x);
    const int a = t.ndim() == 0 ? 0 : to_axis(axis, t.ndim());
    GilRelease gil(t.numel());
    return softmax(t, a, log);
  });
  m.def("_softmax_backward", [](py::handle dy, py::handle y, py::handle axis, bool log) {
    const Tensor g = any_device_tensor(dy), t = any_device_tensor(y);
    const int a = t.ndim() == 0 ? 0 : to_axis(axis, t.ndim());
    GilRelease gil(t.numel());
    return softmax_backward(g, t, a, log);
  });
  m.def("_bias_act_backward", [](py::handle activation, py::handle dy, py::handle saved, double leaky_slope,
                                 py::handle db) {
    const Activation act = activation_from_py(activation, "_bias_act_backward");
    const Tensor g = any_device_tensor(dy);
    const Tensor s = saved.is_none() ? Tensor{} : any_device_tensor(saved);
    const Tensor b = db.is_none() ? Tensor{} : py::cast<const Tensor&>(db);
    GilRelease gil(g.numel());
    return bias_act_backward(act, g, s, b, leaky_slope);
  }, py::arg("activation"), py::arg("dy"), py::arg("saved"), py::arg("leaky_slope") = 0.01, py::arg("db") = py::none());
  m.def("_act_reference", [](ActKind kind, py::handle x_or_saved, py::handle dy, double alpha, double beta,
                             double threshold) {
    const Tensor s = to_tensor(x_or_saved), g = dy.is_none() ? Tensor{} : to_tensor(dy);
    return activation_reference(kind, s, g, params(alpha, beta, threshold));
  });
}

}  // namespace fusednn::bind
