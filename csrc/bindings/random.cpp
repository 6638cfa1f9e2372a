// Python bindings of the random family: the Philox generator object (state, draws, permutations) and the
// process-wide default generator. Shapes and dtypes arrive already resolved by python/fusednn/random.py.
#include <pybind11/stl.h>

#include "bindings/convert.h"
#include "fusednn/errors.h"
#include "fusednn/random.h"

namespace fusednn::bind {

namespace {

// A draw of `size` elements on `device` (None: the CPU): allocation first (so a failed one, or a device
// that cannot be used, leaves the state alone), then the generator with the GIL released for large draws.
template <class Fill>
Tensor draw(py::handle size, py::handle dtype, py::handle device, const Fill& fill) {
  const Device where = device.is_none() ? Device::cpu() : device_from_py(device);
  Tensor out = Tensor::empty(to_shape(size), dtype_from_py(dtype), where);
  GilRelease gil(out.numel());
  fill(out);
  return out;
}

}  // namespace

void init_random(py::module_& m) {
  py::class_<Generator> gen(m, "_Generator", "Philox4x32-10 counter-based generator (see fusednn.random).");
  gen.def(py::init<uint64_t>(), py::arg("seed"));
  gen.def_property_readonly("seed", &Generator::seed);
  gen.def_property_readonly("offset", &Generator::offset);
  gen.def_property_readonly("key", &Generator::key);
  gen.def("set_state", &Generator::set_state, py::arg("seed"), py::arg("offset"));
  gen.def("uniform", [](Generator& g, py::handle size, py::handle dtype, double low, double high, py::handle device) {
    return draw(size, dtype, device, [&](const Tensor& t) { uniform_(g, t, low, high); });
  }, py::arg("size"), py::arg("dtype"), py::arg("low"), py::arg("high"), py::arg("device") = py::none());
  gen.def("normal", [](Generator& g, py::handle size, py::handle dtype, double loc, double scale, py::handle device) {
    return draw(size, dtype, device, [&](const Tensor& t) { normal_(g, t, loc, scale); });
  }, py::arg("size"), py::arg("dtype"), py::arg("loc"), py::arg("scale"), py::arg("device") = py::none());
  gen.def("integers", [](Generator& g, py::handle size, py::handle dtype, int64_t low, int64_t high,
                         py::handle device) {
    return draw(size, dtype, device, [&](const Tensor& t) { integers_(g, t, low, high); });
  }, py::arg("size"), py::arg("dtype"), py::arg("low"), py::arg("high_inclusive"), py::arg("device") = py::none());
  // In-place draws into a tensor on any device.
  gen.def("uniform_", [](Generator& g, const Tensor& t, double low, double high) {
    GilRelease gil(t.numel());
    uniform_(g, t, low, high);
  }, py::arg("out"), py::arg("low"), py::arg("high"));
  gen.def("normal_", [](Generator& g, const Tensor& t, double loc, double scale) {
    GilRelease gil(t.numel());
    normal_(g, t, loc, scale);
  }, py::arg("out"), py::arg("loc"), py::arg("scale"));

  gen.def("permutation", [](Generator& g, int64_t n) {
    GilRelease gil(n);
    return permutation(g, n);
  }, py::arg("n"));
  gen.def("shuffle", [](Generator& g, py::handle obj) {
    const Tensor t = any_device_tensor(obj);
    GilRelease gil(t.numel());
    shuffle_(g, t);
  }, py::arg("x"));

  m.def("_default_generator", &default_generator, py::return_value_policy::reference,
        "The generator behind fusednn.random's module-level functions.");
  m.def("_philox4x32", [](std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
    std::array<uint32_t, 4> out;
    philox4x32(counter.data(), key.data(), out.data());
    return out;
  }, py::arg("counter"), py::arg("key"), "One Philox4x32-10 block (for known-answer tests).");
}

}  // namespace fusednn::bind
