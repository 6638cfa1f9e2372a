// Python bindings of the optim family: _optim_step(algo, plans) runs one fused step over every parameter
// group (reading each parameter's .grad, skipping None) on the parameters' devices, _optim_state_buffers
// makes an optimizer's flat state, and the clipping passes _global_norm, _scale_, _clamp_ run over lists of
// gradients on one device.
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "bindings/convert.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/optim.h"

namespace fusednn::bind {
namespace {

OptimAlgo parse_algo(const std::string& name) {
  static const std::pair<const char*, OptimAlgo> algos[] = {
      {"sgd", OptimAlgo::SGD},         {"adam", OptimAlgo::Adam},     {"rmsprop", OptimAlgo::RMSprop},
      {"adagrad", OptimAlgo::Adagrad}, {"adamax", OptimAlgo::Adamax}, {"nadam", OptimAlgo::NAdam}};
  for (const auto& [n, a] : algos)
    if (name == n) return a;
  throw ValueError(cat("unknown optimizer algorithm '", name, "'"));
}

// group[key] as a double (anything with __float__), or `fallback` when the key is absent.
double number(const py::dict& group, const char* key, double fallback = 0) {
  PyObject* v = PyDict_GetItemString(group.ptr(), key);
  if (v == nullptr) return fallback;
  const double x = PyFloat_AsDouble(v);
  if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
  return x;
}

bool flag(const py::dict& group, const char* key) {
  PyObject* v = PyDict_GetItemString(group.ptr(), key);
  return v != nullptr && PyObject_IsTrue(v) == 1;
}

OptimHyper hyper(const py::dict& g) {
  OptimHyper h;
  h.lr = number(g, "lr");
  h.weight_decay = number(g, "weight_decay");
  h.eps = number(g, "eps");
  if (PyObject* betas = PyDict_GetItemString(g.ptr(), "betas")) {
    const auto b = py::reinterpret_borrow<py::sequence>(betas);
    h.beta1 = b[0].cast<double>(), h.beta2 = b[1].cast<double>();
  }
  h.momentum = number(g, "momentum");
  h.dampening = number(g, "dampening");
  h.alpha = number(g, "alpha");
  h.lr_decay = number(g, "lr_decay");
  h.momentum_decay = number(g, "momentum_decay");
  h.maximize = flag(g, "maximize");
  h.nesterov = flag(g, "nesterov");
  h.amsgrad = flag(g, "amsgrad");
  h.centered = flag(g, "centered");
  h.decoupled = flag(g, "decoupled_weight_decay");
  return h;
}

// Bit k set: the rule reads state buffer k under these options (see OptimSlot).
unsigned required_states(OptimAlgo algo, const OptimHyper& h) {
  switch (algo) {
    case OptimAlgo::SGD: return h.momentum != 0 ? 1u : 0u;
    case OptimAlgo::Adam: return h.amsgrad ? 7u : 3u;
    case OptimAlgo::RMSprop: return 1u | (h.momentum > 0 ? 2u : 0u) | (h.centered ? 4u : 0u);
    case OptimAlgo::Adagrad: return 1u;
    default: return 3u;
  }
}

// ValueError unless `other` (the gradient) matches its parameter in dtype, size and device, contiguously.
void check_gradient(const Tensor& param, const Tensor& grad, size_t index) {
  if (grad.dtype() != param.dtype() || grad.shape() != param.shape())
    throw ValueError(cat("optimizer step: parameter ", index, " has dtype ", dtype_name(param.dtype()), " and ",
                         param.numel(), " elements, but its gradient has dtype ", dtype_name(grad.dtype()), " and ",
                         grad.numel(), " elements"));
  if (grad.device() != param.device())
    throw ValueError(cat("optimizer step: parameter ", index, " is on ", device_name(param.device()),
                         " but its gradient is on ", device_name(grad.device())));
  if (!grad.is_contiguous()) throw ValueError(cat("optimizer step: the gradient of parameter ", index, " is not contiguous"));
}

// Whether a state buffer can serve its parameter as it is now: false when the parameter has since moved
// to another device or changed dtype in place (Module.to); ValueError when it cannot be its state at all.
bool state_fits(const Tensor& param, const Tensor& state, size_t index) {
  if (state.shape() != param.shape() || !state.is_contiguous())
    throw ValueError(cat("optimizer step: the optimizer state of parameter ", index, " has shape ", state.shape(),
                         " (or is not contiguous); the parameter has shape ", param.shape()));
  return state.device() == param.device() && state.dtype() == param.dtype();
}

// One step's work: the slots (with the device of each), and what must stay alive or be written.
struct StepPlan {
  std::vector<OptimHyper> hypers;
  std::vector<OptimSlot> slots;
  std::vector<Device> devices;  // devices[i]: where slot i's memory is
  std::vector<Tensor> params;   // written by the step
  std::vector<Tensor> grads;    // kept alive while the GIL is released (data pointers are stable)
};

// Adds one group's parameters that have a gradient to the plan. A plan is (group dict, params, states,
// scalars): states holds up to 3 lists of state tensors aligned with params (or None), scalars is a host
// float64 (len(params), 2) tensor of step counts and NAdam products. Returns false when some state buffer
// no longer fits its parameter (see state_fits); nothing has been written then.
bool add_group(OptimAlgo algo, const py::tuple& plan, int index, StepPlan& out) {
  out.hypers.push_back(hyper(plan[0].cast<py::dict>()));
  const unsigned required = required_states(algo, out.hypers.back());
  const auto params = plan[1].cast<py::list>();
  const auto states = plan[2].cast<py::sequence>();
  const Tensor& scalars = plan[3].cast<const Tensor&>();
  if (states.size() > 3 || scalars.dtype() != DType::Float64 || !scalars.is_contiguous() ||
      !scalars.device().is_cpu() || scalars.numel() != 2 * static_cast<int64_t>(params.size()))
    throw ValueError("optimizer step: malformed optimizer state (scalars or state lists)");
  bool fits = true;
  for (size_t j = 0; j < params.size(); ++j) {
    const py::handle p = params[j];
    const py::object g = p.attr("grad");
    if (g.is_none()) continue;
    const Tensor& param = p.cast<const Tensor&>();
    if (!is_floating(param.dtype()))
      throw TypeError(cat("optimizer step: parameter ", j, " has dtype ", dtype_name(param.dtype()),
                          "; only float32 and float64 parameters can be optimized"));
    if (!param.is_contiguous()) throw ValueError(cat("optimizer step: parameter ", j, " is not contiguous"));
    out.grads.push_back(any_device_tensor(g));
    check_gradient(param, out.grads.back(), j);
    OptimSlot s{param.data(), out.grads.back().data(), {nullptr, nullptr, nullptr},
                scalars.data_as<double>() + 2 * j, param.numel(), param.dtype(), index};
    for (size_t k = 0; k < states.size(); ++k) {
      if (states[k].is_none()) continue;
      const Tensor& st = states[k].cast<py::list>()[j].cast<const Tensor&>();
      fits = state_fits(param, st, j) && fits;
      s.state[k] = st.data();
    }
    for (int k = 0; k < 3; ++k)
      if ((required >> k & 1u) && s.state[k] == nullptr)
        throw ValueError(cat("optimizer step: the group's options need optimizer state buffer ", k,
                             ", which the optimizer did not allocate"));
    out.slots.push_back(s);
    out.devices.push_back(param.device());
    out.params.push_back(param);
  }
  return fits;
}

// One buffer per (device, dtype) of the parameters, every element `fill`, and a view of it shaped like each
// parameter, view starts 16 elements apart (64-byte aligned float32): an optimizer's state for one name.
std::vector<Tensor> state_buffers(const py::sequence& seq, double fill_value) {
  constexpr int64_t kAlign = 16;
  std::vector<Tensor> params;
  for (const auto& p : seq) params.push_back(any_device_tensor(p));
  std::vector<Tensor> views(params.size());
  const auto rounded = [](int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; };
  for (size_t i = 0; i < params.size(); ++i) {
    if (views[i].defined()) continue;
    const Device device = params[i].device();
    const DType dtype = params[i].dtype();
    const auto shares = [&](const Tensor& p) { return p.device() == device && p.dtype() == dtype; };
    int64_t total = 0;
    for (size_t j = i; j < params.size(); ++j)
      if (shares(params[j])) total += rounded(params[j].numel());
    const Tensor buffer = Tensor::empty(Dims{total}, dtype, device);
    fill(buffer, fill_value);
    int64_t offset = 0;
    for (size_t j = i; j < params.size(); ++j) {
      if (!shares(params[j])) continue;
      const Dims& shape = params[j].shape();
      views[j] = buffer.as_strided(shape, contiguous_strides(shape), buffer.offset() + offset);
      offset += rounded(params[j].numel());
    }
  }
  return views;
}

std::vector<Tensor> tensor_list(const py::sequence& seq) {
  std::vector<Tensor> out;
  out.reserve(seq.size());
  for (const auto& item : seq) out.push_back(any_device_tensor(item));
  return out;
}

int64_t total_numel(const std::vector<Tensor>& ts) {
  int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}

}  // namespace

void init_optim(py::module_& m) {
  m.def(
      "_optim_step",
      [](const std::string& algo_name, const py::list& plans) {
        const OptimAlgo algo = parse_algo(algo_name);
        StepPlan plan;
        bool fits = true;
        for (size_t i = 0; i < plans.size(); ++i)
          fits = add_group(algo, plans[i].cast<py::tuple>(), static_cast<int>(i), plan) && fits;
        if (!fits) return false;
        for (const Tensor& p : plan.params) p.prepare_write("optimizer step: parameter");
        int64_t work = 0;
        for (const auto& s : plan.slots) work += s.numel;
        GilRelease gil(work);
        // One fused step per device the parameters are on (one launch on each CUDA device).
        std::vector<Device> done;
        for (const Device device : plan.devices) {
          if (std::find(done.begin(), done.end(), device) != done.end()) continue;
          done.push_back(device);
          std::vector<OptimSlot> here;
          for (size_t i = 0; i < plan.slots.size(); ++i)
            if (plan.devices[i] == device) here.push_back(plan.slots[i]);
          optim_step(algo, plan.hypers, here, device);
        }
        return true;
      },
      "One fused optimizer step over every group's parameters that have a gradient. Returns False, having "
      "changed nothing, when a state buffer is not on its parameter's device or in its dtype.");
  m.def("_optim_state_buffers", &state_buffers, py::arg("params"), py::arg("fill"),
        "Views shaped like each parameter into one new buffer per (device, dtype), filled with `fill`.");
  m.def(
      "_global_norm",
      [](const py::sequence& tensors, double p) {
        const auto ts = tensor_list(tensors);
        GilRelease gil(total_numel(ts));
        return global_norm(ts, p);
      },
      "(sum |x|^p)^(1/p) over every element of every tensor, in double.");
  m.def(
      "_scale_",
      [](const py::sequence& tensors, double factor) {
        const auto ts = tensor_list(tensors);
        GilRelease gil(total_numel(ts));
        scale_(ts, factor);
      },
      "Multiply each distinct tensor by factor, in place.");
  m.def(
      "_clamp_",
      [](const py::sequence& tensors, double lo, double hi) {
        const auto ts = tensor_list(tensors);
        GilRelease gil(total_numel(ts));
        clamp_(ts, lo, hi);
      },
      "Clamp each tensor to [lo, hi], in place.");
}

}  // namespace fusednn::bind
