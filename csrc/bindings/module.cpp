// The fusednn._C extension module: exception translation, runtime settings (threads, ISA, allocator,
// build configuration) and the init function of every binding family.
#include "bindings/convert.h"
#include "fusednn/errors.h"
#include "fusednn/isa.h"
#include "fusednn/parallel.h"
#include "fusednn/storage.h"

#ifndef FUSEDNN_VERSION
#define FUSEDNN_VERSION "0.0.0"
#endif

namespace fusednn::bind {

void init_tensor(py::module_& m);
void init_dlpack(py::module_& m);
void init_elementwise(py::module_& m);
void init_reduce(py::module_& m);
void init_shape(py::module_& m);
void init_indexing(py::module_& m);
void init_creation(py::module_& m);
void init_random(py::module_& m);
void init_gemm(py::module_& m);
void init_activation(py::module_& m);
void init_linear(py::module_& m);
void init_loss(py::module_& m);
void init_normalization(py::module_& m);
void init_optim(py::module_& m);
void init_cuda(py::module_& m);

namespace {

void register_exceptions(py::module_& m) {
  // AxisError is both a ValueError and an IndexError, as NumPy's is.
  static PyObject* axis_error = PyErr_NewExceptionWithDoc(
      "fusednn.AxisError", "An axis argument is out of range for the array's dimensions.",
      py::make_tuple(py::handle(PyExc_ValueError), py::handle(PyExc_IndexError)).release().ptr(), nullptr);
  m.attr("AxisError") = py::handle(axis_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const AxisError& e) {
      PyErr_SetString(axis_error, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

void init_runtime(py::module_& m) {
  m.attr("__version__") = FUSEDNN_VERSION;
  m.def("get_num_threads", &get_num_threads, "Number of threads fusednn's kernels use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Set the number of threads fusednn's kernels use.");
  m.def("_detected_isa", [] { return isa_name(detected_isa()); });
  m.def("_active_isa", [] { return isa_name(active_isa()); });
  m.def("_set_isa", [](const std::string& name) { set_active_isa(parse_isa(name)); }, py::arg("name"));
  m.def("_allocator_stats", [] {
    const auto s = cpu_allocator::stats();
    return py::dict(py::arg("allocated_bytes") = s.allocated_bytes, py::arg("cached_bytes") = s.cached_bytes,
                    py::arg("cache_limit_bytes") = s.cache_limit_bytes);
  });
  m.def("empty_cache", &cpu_allocator::empty_cache, "Return the CPU caching allocator's free blocks to the system.");
  m.def("_set_cache_limit", &cpu_allocator::set_cache_limit, py::arg("bytes"));
  active_isa();  // a bad FUSEDNN_ISA fails the import with its message, not a later call
}

}  // namespace
}  // namespace fusednn::bind

PYBIND11_MODULE(_C, m) {
  using namespace fusednn::bind;
  m.doc() = "fusednn's C++ core: tensors, CPU (and optional CUDA) kernels.";
  register_exceptions(m);
  init_runtime(m);
  init_tensor(m);
  init_dlpack(m);
  init_elementwise(m);
  init_reduce(m);
  init_shape(m);
  init_indexing(m);
  init_creation(m);
  init_random(m);
  init_gemm(m);
  init_activation(m);
  init_linear(m);
  init_loss(m);
  init_normalization(m);
  init_optim(m);
  init_cuda(m);
}
