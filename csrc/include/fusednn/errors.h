// Exceptions the C++ core throws; the bindings turn each into the Python exception of the same name.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace fusednn {

struct ValueError : std::runtime_error { using std::runtime_error::runtime_error; };
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct IndexError : std::runtime_error { using std::runtime_error::runtime_error; };
struct NotImplementedError : std::runtime_error { using std::runtime_error::runtime_error; };
struct MemoryError : std::runtime_error { using std::runtime_error::runtime_error; };
// A failure of the environment rather than of the arguments (no CUDA device, a CUDA runtime error).
struct RuntimeError : std::runtime_error { using std::runtime_error::runtime_error; };
// An axis out of range: Python sees fusednn.AxisError, a subclass of both ValueError and IndexError (as NumPy's).
struct AxisError : IndexError { using IndexError::IndexError; };

// Builds a message from any streamable pieces: throw ValueError(cat("axis ", a, " is out of bounds")).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace fusednn
