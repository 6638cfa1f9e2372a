// Python bindings of the normalization family (being written).
#include "bindings/convert.h"

namespace fusednn::bind {
void init_normalization(py::module_& m) {}
}  // namespace fusednn::bind
