// Threading: the OpenMP thread count, and parallel_for, which splits a range into one contiguous
// chunk per thread only when the work is large enough to pay for waking the threads.
#pragma once
#include <algorithm>
#include <cstdint>

namespace fusednn {

int get_num_threads();
void set_num_threads(int n);   // n >= 1
bool in_parallel_region();

// Work below this many "element operations" runs on the calling thread: waking a team costs ~2-5 us.
constexpr int64_t kParallelGrain = 1 << 15;

// Calls body(begin, end) over [0, n). `cost` is the work per index in element operations; chunks are
// contiguous and their bounds depend only on n and the thread count.
template <class Body>
void parallel_for(int64_t n, int64_t cost, const Body& body) {
  if (n <= 0) return;
  const int threads = get_num_threads();
  const int64_t work = n * std::max<int64_t>(cost, 1);
  if (threads <= 1 || work < kParallelGrain || n < 2 || in_parallel_region()) {
    body(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>({threads, n, work / (kParallelGrain / 2)});
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    body(begin, end);
  }
}

}  // namespace fusednn
