// Python bindings of the optim family (being written).
#include "bindings/convert.h"

namespace fusednn::bind {
void init_optim(py::module_& m) {}
}  // namespace fusednn::bind
