// GEMM driver, C = act(alpha * A * B + beta * C + bias): BLIS-style loops around the per-ISA macro-kernels
// of gemm_loops.cpp (for panels of B's columns, all of K, each thread packing its own copy / for row
// chunks, claimed by the threads / for KC slices of K / for MC rows: pack A, run the tiles). Threads
// own whole tiles of C, split along M or N, never K. Also the plain integer matmul.
#include "fusednn/gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <type_traits>

#include "cpu/gemm_kernels.h"
#include "fusednn/parallel.h"
#include "fusednn/storage.h"

namespace fusednn {
namespace {

// Products smaller than this many multiply-adds (~5 us on one core) stay on the calling thread: starting and
// joining the second thread costs ~0.7 us, more than it saves below that.
constexpr double kThreadWork = double(1 << 18);
// A packed B panel holds all of K for up to this many bytes of columns, and stays in L3 while every row
// block reads it.
constexpr int64_t kPanelBytes = int64_t{8} << 20;
// Row chunks per thread, claimed from a counter: a thread that loses its core (they are shared) holds up
// at most one chunk while the others take the rest.
constexpr int64_t kChunksPerThread = 4;

// Per-thread packing scratch from the caching allocator, grown on demand and kept for the next call.
class Scratch {
 public:
  ~Scratch() { reset(); }
  void* get(size_t nbytes) {
    if (nbytes > capacity_) {
      reset();
      ptr_ = cpu_allocator::allocate(nbytes, &capacity_);
    }
    return ptr_;
  }

 private:
  void reset() {
    if (ptr_) cpu_allocator::release(ptr_, capacity_);
    ptr_ = nullptr;
    capacity_ = 0;
  }
  void* ptr_ = nullptr;
  size_t capacity_ = 0;
};
thread_local Scratch scratch;

template <class T>
struct Problem {
  int64_t M, N, K;
  T alpha, beta;
  MatView<const T> A, B;
  MatView<T> C;
  const T* row_bias;
  const T* col_bias;
  Activation activation;
  T leaky_slope;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t x, int64_t m) { return ceil_div(x, m) * m; }

// The step that cuts [0, n) into the fewest equal pieces of at most `most`, rounded up to `unit`: no thin
// last piece that would pay a block's fixed costs for little work.
int64_t even_step(int64_t n, int64_t most, int64_t unit) {
  return n <= 0 ? unit : round_up(ceil_div(n, ceil_div(n, most)), unit);
}

// How the product is blocked and what is packed; all of it depends on the shape only, never on the thread
// count, so every element sums its K slices in the same order. B is read in place, its KC x NR slivers
// staying in L1 across a column of tiles, when one of its strides is 1 and M fits one MC block, so that
// nothing would reuse a packed copy; A is read in place when its rows are contiguous and few tiles reuse it.
// A packed B panel holds every K slice of nc columns: slice [pc, pc + kc) at offset pc * round_up(nc, NR).
struct Plan {
  bool pack_a, pack_b;
  int64_t kc, nc;
  int64_t a_size, b_size;  // scratch elements: one thread's A block, one B panel
};

template <class T>
Plan make_plan(const cpu::GemmKernel<T>& kr, const Problem<T>& p) {
  Plan plan;
  plan.pack_b = p.M > kr.mc || (p.B.cs != 1 && p.B.rs != 1);
  plan.pack_a = p.A.rs != 1 || p.N > 4 * kr.nr;
  plan.kc = even_step(p.K, kr.kc, 16);  // whole 16-column blocks for pack_rows' transposes
  const int64_t panel_cols = std::max<int64_t>(kr.nr, kPanelBytes / int64_t(sizeof(T)) / std::max<int64_t>(p.K, 1));
  plan.nc = plan.pack_b ? even_step(p.N, panel_cols, kr.nr) : p.N;
  plan.b_size = plan.pack_b ? p.K * round_up(plan.nc, kr.nr) : 0;
  plan.a_size = plan.kc * (plan.pack_a ? round_up(std::min<int64_t>(p.M, kr.mc), kr.mr) : kr.mr);
  return plan;
}

// Packs the B panel of columns [jc, jc + nc), every K slice.
template <class T>
void pack_b_panel(const cpu::GemmKernel<T>& kr, const Problem<T>& p, const Plan& plan, int64_t jc, int64_t nc,
                  T* panel) {
  const int64_t ncr = round_up(nc, kr.nr);
  for (int64_t pc = 0; pc < p.K; pc += plan.kc)
    kr.pack_b(std::min(plan.kc, p.K - pc), nc, p.B.data + pc * p.B.rs + jc * p.B.cs, p.B.rs, p.B.cs, panel + pc * ncr);
}

// Rows [m0, m1) times the panel of columns [jc, jc + nc) (packed in `panel`, or read in place): for each
// K slice, for each MC block of rows, pack that block of A (or read it in place) and run the tiles.
template <class T>
void row_block(const cpu::GemmKernel<T>& kr, const Problem<T>& p, const Plan& plan, int64_t jc, int64_t nc,
               const T* panel, T* a_buf, int64_t m0, int64_t m1) {
  const int64_t MR = kr.mr, NR = kr.nr, ncr = round_up(nc, NR);
  const int64_t mc = even_step(m1 - m0, kr.mc, MR);
  const auto& A = p.A;
  const auto& B = p.B;
  for (int64_t pc = 0;; pc += plan.kc) {
    const int64_t kc = std::min(plan.kc, p.K - pc);  // 0 when K == 0: scale C, run the epilogue
    const cpu::Panel<T> b = plan.pack_b ? cpu::Panel<T>{panel + pc * ncr, NR, 1, NR * kc, true}
                                        : cpu::Panel<T>{B.data + pc * B.rs + jc * B.cs, B.rs, B.cs, NR * B.cs, false};
    const bool last = pc + kc >= p.K;
    for (int64_t ic = m0; ic < m1; ic += mc) {
      const int64_t m = std::min(mc, m1 - ic);
      const T* a_src = A.data + ic * A.rs + pc * A.cs;
      cpu::Panel<T> a{a_src, A.cs, 0, MR, false};
      if (plan.pack_a) {
        kr.pack_a(m, kc, a_src, A.rs, A.cs, a_buf);
        a = {a_buf, MR, 0, MR * kc, true};
      }
      kr.macro({m, nc, kc, a, b, p.alpha, pc == 0 ? p.beta : T(1), p.C.data + ic * p.C.rs + jc * p.C.cs, p.C.rs,
                p.C.cs, last, p.row_bias ? p.row_bias + ic : nullptr, p.col_bias ? p.col_bias + jc : nullptr,
                p.activation, p.leaky_slope, a_buf});
    }
    if (last) break;
  }
}

// A claim counter on a cache line of its own: the threads write theirs concurrently.
struct alignas(64) Counter {
  std::atomic<int64_t> n{0};
};

// The whole product split by rows among `threads` (1: on the calling thread). Per panel of columns, each
// thread packs its own copy of B, so that no thread ever waits on another (one that lost its shared core
// would hold the rest up; on the 2-core machine a copy shared between the cores made 512-sized products
// ~5% slower and none faster), then computes row chunks: first its own share, in order, so that from call to call a thread
// keeps meeting the same rows of C in its cache; then whatever another thread has not taken. Chunks are
// whole MR strips, so each element is computed by the same tile code whatever the thread count.
template <class T>
void run_rows(const cpu::GemmKernel<T>& kr, const Problem<T>& p, int threads) {
  const Plan plan = make_plan(kr, p);
  const int64_t m_units = ceil_div(p.M, kr.mr), panels = ceil_div(p.N, plan.nc);
  const int64_t chunks = std::min<int64_t>(m_units, threads * kChunksPerThread);
  const int64_t per_thread = plan.a_size + plan.b_size;
  T* buf = static_cast<T*>(scratch.get(threads * per_thread * sizeof(T)));
  // Per panel, each thread's count of chunks taken.
  Counter on_stack[2];  // no heap allocation for small products, which count nanoseconds
  const std::unique_ptr<Counter[]> heap(panels * threads > 2 ? new Counter[panels * threads] : nullptr);
  Counter* counters = heap ? heap.get() : on_stack;
  auto home = [&](int64_t u) { return chunks * u / threads; };  // thread u's first chunk
  auto body = [&](int t) {
    T* a_buf = buf + t * per_thread;
    T* panel = a_buf + plan.a_size;
    for (int64_t q = 0; q < panels; ++q) {
      const int64_t jc = q * plan.nc, nc = std::min(plan.nc, p.N - jc);
      if (plan.pack_b) pack_b_panel(kr, p, plan, jc, nc, panel);
      Counter* taken = counters + q * threads;
      for (int64_t i = 0; i < threads; ++i) {
        const int64_t u = (t + i) % threads, first = home(u), count = home(u + 1) - first;
        for (int64_t c; (c = taken[u].n.fetch_add(1)) < count;)
          row_block(kr, p, plan, jc, nc, panel, a_buf, m_units * (first + c) / chunks * kr.mr,
                    std::min(p.M, m_units * (first + c + 1) / chunks * kr.mr));
      }
    }
  };
  if (threads <= 1) return body(0);
#pragma omp parallel num_threads(threads)
  body(omp_get_thread_num());
}

// Columns [n0, n1) of the product as a problem of its own.
template <class T>
Problem<T> columns(const Problem<T>& p, int64_t n0, int64_t n1) {
  Problem<T> s = p;
  s.N = n1 - n0;
  s.B.data += n0 * p.B.cs;
  s.C.data += n0 * p.C.cs;
  if (s.col_bias) s.col_bias += n0;
  return s;
}

// Rows are split when there are enough MR strips for every thread to take a few chunks; otherwise columns,
// each thread running the product of its columns on its own (whole NR strips each).
template <class T>
void run(const cpu::GemmKernel<T>& kr, const Problem<T>& p) {
  const double work = double(p.M) * double(p.N) * double(std::max<int64_t>(p.K, 1));
  const int64_t m_units = ceil_div(p.M, kr.mr), n_units = ceil_div(p.N, kr.nr);
  const int64_t max_threads = work < kThreadWork || in_parallel_region() ? 1 : get_num_threads();
  auto most_units = [&](int64_t split, int64_t other) { return ceil_div(split, max_threads) * other; };
  const bool split_m = m_units >= 4 * max_threads || most_units(m_units, n_units) <= most_units(n_units, m_units);
  const int threads = static_cast<int>(std::min(max_threads, split_m ? m_units : n_units));
  if (threads <= 1 || split_m) return run_rows(kr, p, threads);
  std::exception_ptr error;  // scratch is allocated per thread here; an exception must not leave the region
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t n0 = std::min(p.N, n_units * t / n * kr.nr), n1 = std::min(p.N, n_units * (t + 1) / n * kr.nr);
    try {
      if (n0 < n1) run_rows(kr, columns(p, n0, n1), 1);
    } catch (...) {
#pragma omp critical(fusednn_gemm_error)
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Whether to compute C^T = B^T A^T instead. The tiles' vectors (W = MR / 2 lanes) run down C's columns, so
// a contiguous direction of C goes there, unless it is so narrow that it would leave lanes idle (N = 10 on
// 16 lanes) and the other side fills them better: then it goes to the broadcast side, where any width fits
// a tile, and the tiles store transposed.
template <class T>
bool transpose_c(const cpu::GemmKernel<T>& kr, int64_t M, int64_t N, MatView<T> C) {
  const int64_t W = kr.mr / 2;
  auto lanes_used = [W](int64_t d) { return double(d) / double(round_up(d, W)); };
  const bool row_major = C.rs != 1 && C.cs == 1;
  const int64_t vec = row_major ? N : M, other = row_major ? M : N;
  const bool narrow = (row_major || C.rs == 1) && lanes_used(vec) < 0.75 && lanes_used(other) > lanes_used(vec);
  return row_major != narrow;
}

const cpu::GemmKernels& active_kernels() {
  return select_isa(cpu::ref::gemm_kernels, cpu::avx2::gemm_kernels, cpu::avx512::gemm_kernels);
}

}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, MatView<const T> A, MatView<const T> B, T beta, MatView<T> C,
          const Epilogue& epilogue) {
  if (M <= 0 || N <= 0) return;
  const T* bias = static_cast<const T*>(epilogue.bias);
  const bool has_bias = bias && epilogue.bias_mode != BiasMode::None;
  Problem<T> p{M, N, K, alpha, beta, A, B, C,
               has_bias && epilogue.bias_mode == BiasMode::PerRow ? bias : nullptr,
               has_bias && epilogue.bias_mode == BiasMode::PerColumn ? bias : nullptr,
               epilogue.activation, static_cast<T>(epilogue.leaky_slope)};
  const cpu::GemmKernel<T>& kr = active_kernels().get(T{});
  if (transpose_c(kr, M, N, C))
    p = {N, M, K, alpha, beta, B.t(), A.t(), C.t(), p.col_bias, p.row_bias, p.activation, p.leaky_slope};
  run(kr, p);
}

template void gemm<float>(int64_t, int64_t, int64_t, float, MatView<const float>, MatView<const float>, float,
                          MatView<float>, const Epilogue&);
template void gemm<double>(int64_t, int64_t, int64_t, double, MatView<const double>, MatView<const double>, double,
                           MatView<double>, const Epilogue&);

// Unsigned arithmetic wraps on overflow, as NumPy's does, without signed-overflow undefined behaviour.
template <class T> struct IntegerAcc { using type = std::make_unsigned_t<T>; };
template <> struct IntegerAcc<bool> { using type = bool; };

template <class T>
void gemm_integer(int64_t M, int64_t N, int64_t K, MatView<const T> A, MatView<const T> B, MatView<T> C) {
  using Acc = typename IntegerAcc<T>::type;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      Acc acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const T a = A.data[i * A.rs + k * A.cs], b = B.data[k * B.rs + j * B.cs];
        if constexpr (std::is_same_v<T, bool>)
          acc = acc || (a && b);
        else
          acc += static_cast<Acc>(a) * static_cast<Acc>(b);
      }
      C.data[i * C.rs + j * C.cs] = static_cast<T>(acc);
    }
}

template void gemm_integer<bool>(int64_t, int64_t, int64_t, MatView<const bool>, MatView<const bool>, MatView<bool>);
template void gemm_integer<int32_t>(int64_t, int64_t, int64_t, MatView<const int32_t>, MatView<const int32_t>,
                                    MatView<int32_t>);
template void gemm_integer<int64_t>(int64_t, int64_t, int64_t, MatView<const int64_t>, MatView<const int64_t>,
                                    MatView<int64_t>);

namespace {
std::atomic<bool> tf32_allowed{false};
}  // namespace
void set_allow_tf32(bool allow) { tf32_allowed.store(allow, std::memory_order_relaxed); }
bool allow_tf32() { return tf32_allowed.load(std::memory_order_relaxed); }

double fma_peak_gflops(int threads, double seconds) {
  using Clock = std::chrono::steady_clock;
  const cpu::GemmKernels& k = active_kernels();
  constexpr int64_t kSteps = 1 << 18;  // ~0.1 ms a round: the clock is read rarely
  double flops = 0, sink = 0;
  const auto start = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops, sink)
  {
    do {
      sink += k.fma_probe(kSteps);
      flops += double(kSteps) * double(k.fma_probe_flops);
    } while (std::chrono::duration<double>(Clock::now() - start).count() < seconds);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return sink == -1.0 ? 0.0 : flops / elapsed * 1e-9;  // sink keeps the probe's result alive
}

}  // namespace fusednn
