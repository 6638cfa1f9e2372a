// Python bindings of the optim family: _optim_step(algo, plans) runs one fused step over every parameter
// group (reading each parameter's .grad, skipping None), and the clipping passes _global_norm, _scale_,
// _clamp_ over lists of gradients.
#include <string>
#include <utility>
#include <vector>

#include "bindings/convert.h"
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

void check_same(const Tensor& param, const Tensor& other, const char* what, size_t index) {
  if (other.dtype() != param.dtype() || other.shape() != param.shape())
    throw ValueError(cat("optimizer step: parameter ", index, " has dtype ", dtype_name(param.dtype()),
                         " and ", param.numel(), " elements, but its ", what, " has dtype ",
                         dtype_name(other.dtype()), " and ", other.numel(), " elements"));
  if (!other.is_contiguous() || !other.device().is_cpu())
    throw ValueError(cat("optimizer step: the ", what, " of parameter ", index, " is not a contiguous CPU tensor"));
}

// Adds one group's parameters that have a gradient to `slots`. A plan is (group dict, params, states,
// scalars): states holds up to 3 lists of state tensors aligned with params (or None), scalars is a
// float64 (len(params), 2) tensor of step counts and NAdam products.
void add_group(OptimAlgo algo, const py::tuple& plan, int index, std::vector<OptimHyper>& hypers,
               std::vector<OptimSlot>& slots, std::vector<Tensor>& keep) {
  hypers.push_back(hyper(plan[0].cast<py::dict>()));
  const unsigned required = required_states(algo, hypers.back());
  const auto params = plan[1].cast<py::list>();
  const auto states = plan[2].cast<py::sequence>();
  const Tensor& scalars = plan[3].cast<const Tensor&>();
  if (states.size() > 3 || scalars.dtype() != DType::Float64 || !scalars.is_contiguous() ||
      scalars.numel() != 2 * static_cast<int64_t>(params.size()))
    throw ValueError("optimizer step: malformed optimizer state (scalars or state lists)");
  for (size_t j = 0; j < params.size(); ++j) {
    const py::handle p = params[j];
    const py::object g = p.attr("grad");
    if (g.is_none()) continue;
    const Tensor& param = p.cast<const Tensor&>();
    if (!is_floating(param.dtype()))
      throw TypeError(cat("optimizer step: parameter ", j, " has dtype ", dtype_name(param.dtype()),
                          "; only float32 and float64 parameters can be optimized"));
    if (!param.is_contiguous() || !param.device().is_cpu())
      throw ValueError(cat("optimizer step: parameter ", j, " is not a contiguous CPU tensor"));
    keep.push_back(to_tensor(g));
    const Tensor& grad = keep.back();
    check_same(param, grad, "gradient", j);
    param.prepare_write("optimizer step: parameter");
    OptimSlot s{param.data(), grad.data(), {nullptr, nullptr, nullptr}, scalars.data_as<double>() + 2 * j,
                param.numel(), param.dtype(), index};
    for (size_t k = 0; k < states.size(); ++k) {
      if (states[k].is_none()) continue;
      const Tensor& st = states[k].cast<py::list>()[j].cast<const Tensor&>();
      check_same(param, st, "optimizer state", j);
      s.state[k] = st.data();
    }
    for (int k = 0; k < 3; ++k)
      if ((required >> k & 1u) && s.state[k] == nullptr)
        throw ValueError(cat("optimizer step: the group's options need optimizer state buffer ", k,
                             ", which the optimizer did not allocate"));
    slots.push_back(s);
  }
}

std::vector<Tensor> tensor_list(const py::sequence& seq) {
  std::vector<Tensor> out;
  out.reserve(seq.size());
  for (const auto& item : seq) out.push_back(to_tensor(item));
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
        std::vector<OptimHyper> hypers;
        std::vector<OptimSlot> slots;
        std::vector<Tensor> keep;  // the gradients stay alive while the GIL is released (data pointers are stable)
        for (size_t i = 0; i < plans.size(); ++i)
          add_group(algo, plans[i].cast<py::tuple>(), static_cast<int>(i), hypers, slots, keep);
        int64_t work = 0;
        for (const auto& s : slots) work += s.numel;
        GilRelease gil(work);
        optim_step(algo, hypers, slots);
      },
      "One fused optimizer step over every group's parameters that have a gradient.");
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
