// OpenMP thread count. fusednn keeps its own count so set_num_threads never changes what other
// OpenMP libraries in the process (NumPy's BLAS, torch) use.
#include "fusednn/parallel.h"

#include <omp.h>

#include <atomic>

#include "fusednn/errors.h"

namespace fusednn {
namespace {
std::atomic<int>& thread_count() {
  static std::atomic<int> n{omp_get_max_threads()};
  return n;
}
}  // namespace

int get_num_threads() { return thread_count().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  if (n < 1) throw ValueError(cat("set_num_threads: need at least 1 thread, got ", n));
  thread_count().store(n);
}

bool in_parallel_region() { return omp_in_parallel() != 0; }

}  // namespace fusednn
