// Python bindings of the activation family (being written).
#include "bindings/convert.h"

namespace fusednn::bind {
void init_activation(py::module_& m) {}
}  // namespace fusednn::bind
