// Python bindings of the linear family: _linear_forward and _linear_backward (fusednn/linear.h), one call
// per direction of nn.Linear, on the host or on the tensors' CUDA device. The activation comes as its integer
// code (Activation's value, 0 for none; _linear_activation_codes maps the names), so no string is parsed per call.
#include <optional>
#include <utility>

#include "bindings/convert.h"
#include "fusednn/errors.h"
#include "fusednn/linear.h"

namespace fusednn::bind {
namespace {

// Releasing the GIL costs ~0.1 us: worth it only for products of a few hundred thousand multiply-adds.
constexpr int64_t kReleaseWork = int64_t{1} << 18;

Activation activation_code(int code) {
  if (code < 0 || code > static_cast<int>(Activation::Silu))
    throw ValueError(cat("_linear: unknown activation code ", code, " (expected 0 to ",
                         static_cast<int>(Activation::Silu), ")"));
  return static_cast<Activation>(code);
}

// Whether the product of x (M, K) and weight (N, K) is big enough to run without the GIL.
bool big(const Tensor& x, const Tensor& weight) {
  return x.ndim() == 2 && weight.ndim() == 2 && x.shape(0) * x.shape(1) * weight.shape(0) >= kReleaseWork;
}

Tensor optional_tensor(py::handle obj) { return obj.is_none() ? Tensor{} : any_device_tensor(obj); }

py::object tensor_or_none(Tensor t) { return t.defined() ? py::cast(std::move(t)) : py::none(); }

}  // namespace

void init_linear(py::module_& m) {
  m.attr("_linear_activation_codes") = activation_codes();  // name -> code, for fusednn.nn.functional
  m.def(
      "_linear_forward",
      [](py::handle x, py::handle weight, py::handle bias, int act, double leaky_slope, bool keep_z) -> py::object {
        const Tensor tx = any_device_tensor(x), tw = any_device_tensor(weight), tb = optional_tensor(bias);
        const Activation a = activation_code(act);
        Tensor z;
        Tensor y;
        {
          std::optional<py::gil_scoped_release> gil;
          if (big(tx, tw)) gil.emplace();
          y = linear_forward(tx, tw, tb, a, leaky_slope, keep_z ? &z : nullptr);
        }
        if (keep_z) return py::make_tuple(z, y);
        return py::cast(std::move(y));
      },
      "y = act(x @ weight.T + bias) for 2-D x (M, K), weight (N, K), bias (N,) or None; with keep_z, (z, y) "
      "where z = x @ weight.T + bias.");
  m.def(
      "_linear_backward",
      [](py::handle dy, py::handle x, py::handle weight, py::handle saved, int act, double leaky_slope, bool need_dx,
         bool need_dweight, bool need_dbias) {
        const Tensor tdy = any_device_tensor(dy), tx = any_device_tensor(x), tw = any_device_tensor(weight),
                     ts = optional_tensor(saved);
        const Activation a = activation_code(act);
        LinearGrads g;
        {
          std::optional<py::gil_scoped_release> gil;
          if (big(tx, tw)) gil.emplace();
          g = linear_backward(tdy, tx, tw, ts, a, leaky_slope, need_dx, need_dweight, need_dbias);
        }
        return py::make_tuple(tensor_or_none(std::move(g.dx)), tensor_or_none(std::move(g.dweight)),
                              tensor_or_none(std::move(g.dbias)));
      },
      "(dx, dweight, dbias) of _linear_forward from dy; `saved` is y, or z for gelu, silu and leaky_relu with a "
      "slope <= 0; each gradient is None unless requested.");
}

}  // namespace fusednn::bind
