// Python bindings of the normalization family: layer norm and batch norm forward/backward and dropout,
// private (_layer_norm, ...) entry points behind python/fusednn/normalization.py. None means "no tensor".
// Tensors stay on their device: the driver runs the CUDA kernels for device tensors.
#include <pybind11/stl.h>

#include "bindings/convert.h"
#include "fusednn/normalization.h"

namespace fusednn::bind {
namespace {

Tensor optional_tensor(py::handle obj) { return obj.is_none() ? Tensor() : any_device_tensor(obj); }

py::object or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::object(py::none()); }

py::tuple grads_tuple(const NormGrads& g) { return py::make_tuple(or_none(g.dx), or_none(g.dweight), or_none(g.dbias)); }

}  // namespace

void init_normalization(py::module_& m) {
  m.def("_layer_norm", [](py::handle x, int64_t D, py::handle w, py::handle b, double eps) {
    const Tensor t = any_device_tensor(x), wt = optional_tensor(w), bt = optional_tensor(b);
    NormForward r;
    {
      GilRelease gil(t.numel());
      r = layer_norm(t, D, wt, bt, eps);
    }
    return py::make_tuple(r.y, r.mean, r.rstd);
  }, "(x, D, weight, bias, eps) -> (y, mean, rstd): layer norm over the last D elements of each row.");
  m.def("_layer_norm_backward", [](py::handle dy, py::handle x, py::handle mean, py::handle rstd, py::handle w,
                                   int64_t D, bool need_dx, bool need_dw, bool need_db) {
    const Tensor tdy = any_device_tensor(dy), tx = any_device_tensor(x);
    const Tensor tm = any_device_tensor(mean), tq = any_device_tensor(rstd);
    const Tensor wt = optional_tensor(w);
    NormGrads g;
    {
      GilRelease gil(tx.numel());
      g = layer_norm_backward(tdy, tx, tm, tq, wt, D, need_dx, need_dw, need_db);
    }
    return grads_tuple(g);
  }, "(dy, x, mean, rstd, weight, D, need_dx, need_dweight, need_dbias) -> (dx, dweight, dbias), fresh tensors.");
  m.def("_batch_norm", [](py::handle x, py::handle w, py::handle b, py::handle running_mean, py::handle running_var,
                          bool training, double eps) {
    const Tensor t = any_device_tensor(x), wt = optional_tensor(w), bt = optional_tensor(b);
    const Tensor rm = optional_tensor(running_mean), rv = optional_tensor(running_var);
    NormForward r;
    {
      GilRelease gil(t.numel());
      r = batch_norm(t, wt, bt, rm, rv, training, eps);
    }
    return py::make_tuple(r.y, r.mean, r.rstd, or_none(r.var));
  }, "(x, weight, bias, running_mean, running_var, training, eps) -> (y, mean, rstd, batch var or None).");
  m.def("_batch_norm_backward", [](py::handle dy, py::handle x, py::handle mean, py::handle rstd, py::handle w,
                                   bool training, bool need_dx, bool need_dw, bool need_db) {
    const Tensor tdy = any_device_tensor(dy), tx = any_device_tensor(x);
    const Tensor tm = any_device_tensor(mean), tq = any_device_tensor(rstd);
    const Tensor wt = optional_tensor(w);
    NormGrads g;
    {
      GilRelease gil(tx.numel());
      g = batch_norm_backward(tdy, tx, tm, tq, wt, training, need_dx, need_dw, need_db);
    }
    return grads_tuple(g);
  }, "(dy, x, mean, rstd, weight, training, need_dx, need_dweight, need_dbias) -> (dx, dweight, dbias).");
  m.def("_dropout", [](Generator& gen, py::handle x, double p) {
    const Tensor t = any_device_tensor(x);
    DropoutResult r;
    {
      GilRelease gil(t.numel());
      r = dropout(gen, t, p);
    }
    return py::make_tuple(r.y, r.mask);
  }, "(generator, x, p) -> (y, mask): inverted dropout, mask holding 0 or 1 / (1 - p).");
}

}  // namespace fusednn::bind
