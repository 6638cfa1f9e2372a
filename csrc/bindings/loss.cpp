// Python bindings of the loss family (being written).
#include "bindings/convert.h"

namespace fusednn::bind {
void init_loss(py::module_& m) {}
}  // namespace fusednn::bind
