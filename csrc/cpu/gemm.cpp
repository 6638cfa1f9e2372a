// GEMM driver, C = act(alpha * A * B + beta * C + bias): BLIS-style loops around the per-ISA macro-kernels
// of gemm_loops.cpp (for NC columns / for KC slices of K / for MC rows: pack what is reused, run the tiles).
// Threads each own a rectangle of C, split along M or N, never K. Also the plain integer matmul.
#include "fusednn/gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <type_traits>

#include "cpu/gemm_kernels.h"
#include "fusednn/parallel.h"
#include "fusednn/storage.h"

namespace fusednn {
namespace {

// Products smaller than this many multiply-adds (~20 us on one core) stay on the calling thread.
constexpr double kThreadWork = double(1 << 20);
constexpr int64_t kPrivatePanel = int64_t{2} << 20;  // bytes; see run()
constexpr int64_t kChunksPerThread = 2;
constexpr int64_t kMinChunkStrips = 8;  // 256 rows (AVX-512 float): repacking B costs < ~2% of a chunk

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

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// What to pack, and how much scratch that takes (elements). B is read in place, its KC x NR slivers
// staying in L1 across a column of tiles, when one of its strides is 1 and M fits one MC block, so that
// nothing would reuse a packed copy; A is read in place when its rows are contiguous and few tiles reuse it.
// Packing never changes the arithmetic, only where the tiles read.
struct Plan {
  bool pack_a, pack_b;
  int64_t a_size, b_size;
};

template <class T>
Plan make_plan(const cpu::GemmKernel<T>& kr, const Problem<T>& p) {
  Plan plan;
  plan.pack_b = p.M > kr.mc || (p.B.cs != 1 && p.B.rs != 1);
  plan.pack_a = p.A.rs != 1 || p.N > 4 * kr.nr;
  const int64_t kc = std::min<int64_t>(p.K, kr.kc);
  plan.b_size = plan.pack_b ? kc * round_up(std::min<int64_t>(p.N, kr.nc), kr.nr) : 0;
  plan.a_size = kc * (plan.pack_a ? round_up(std::min<int64_t>(p.M, kr.mc), kr.mr) : kr.mr);
  return plan;
}

// The BLIS loops for rows [m0, m1) of C, run by thread `tid` of `nthreads`. With more than one thread each
// packs its share of the common B panel and waits at a barrier before the tiles read it.
template <class T>
void block_loop(const cpu::GemmKernel<T>& kr, const Problem<T>& p, const Plan& plan, T* b_buf, T* a_buf, int64_t m0,
                int64_t m1, int tid, int nthreads) {
  const int64_t MR = kr.mr, NR = kr.nr;
  const auto& A = p.A;
  const auto& B = p.B;
  const bool shared = plan.pack_b && nthreads > 1;
  for (int64_t jc = 0; jc < p.N; jc += kr.nc) {
    const int64_t nc = std::min<int64_t>(kr.nc, p.N - jc);
    for (int64_t pc = 0; pc == 0 || pc < p.K; pc += kr.kc) {
      const int64_t kc = std::min<int64_t>(kr.kc, p.K - pc);  // 0 when K == 0: scale C, run the epilogue
      const T* b_src = B.data + pc * B.rs + jc * B.cs;
      cpu::Panel<T> b{b_src, B.rs, B.cs, NR * B.cs, false};
      if (plan.pack_b) {
        const int64_t strips = (nc + NR - 1) / NR, s0 = strips * tid / nthreads, s1 = strips * (tid + 1) / nthreads;
        if (s0 < s1)
          kr.pack_b(kc, std::min(nc, s1 * NR) - s0 * NR, b_src + s0 * NR * B.cs, B.rs, B.cs, b_buf + s0 * NR * kc);
        b = {b_buf, NR, 1, NR * kc, true};
        if (shared) {
#pragma omp barrier
        }
      }
      for (int64_t ic = m0; ic < m1; ic += kr.mc) {
        const int64_t mc = std::min<int64_t>(kr.mc, m1 - ic);
        const T* a_src = A.data + ic * A.rs + pc * A.cs;
        cpu::Panel<T> a{a_src, A.cs, 0, MR, false};
        if (plan.pack_a) {
          kr.pack_a(mc, kc, a_src, A.rs, A.cs, a_buf);
          a = {a_buf, MR, 0, MR * kc, true};
        }
        const bool last = pc + kc >= p.K;
        kr.macro({mc, nc, kc, a, b, p.alpha, pc == 0 ? p.beta : T(1), p.C.data + ic * p.C.rs + jc * p.C.cs,
                  p.C.rs, p.C.cs, last, p.row_bias ? p.row_bias + ic : nullptr,
                  p.col_bias ? p.col_bias + jc : nullptr, p.activation, p.leaky_slope, a_buf});
      }
      if (shared) {
#pragma omp barrier
      }
    }
  }
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

// Threads own whole tiles of C, so every element is computed by the same tile code whatever the thread
// count. Rows are split when there are enough MR strips (the threads then share one packed B panel);
// otherwise columns, each thread running the product of its columns on its own.
template <class T>
void run(const cpu::GemmKernel<T>& kr, const Problem<T>& p) {
  const double work = double(p.M) * double(p.N) * double(std::max<int64_t>(p.K, 1));
  const int64_t m_units = (p.M + kr.mr - 1) / kr.mr, n_units = (p.N + kr.nr - 1) / kr.nr;
  const int64_t max_threads = work < kThreadWork || in_parallel_region() ? 1 : get_num_threads();
  const bool split_m = m_units >= 4 * max_threads || m_units >= n_units;
  const int threads = static_cast<int>(std::min(max_threads, split_m ? m_units : n_units));
  if (threads <= 1 || split_m) {
    const Plan plan = make_plan(kr, p);
    if (threads <= 1) {
      T* buf = static_cast<T*>(scratch.get((plan.b_size + plan.a_size) * sizeof(T)));
      return block_loop(kr, p, plan, buf, buf + plan.b_size, 0, p.M, 0, 1);
    }
    // A B panel up to kPrivatePanel bytes is packed whole by every thread into its own buffer, and the
    // rows go out in chunks (up to kChunksPerThread per thread, each repacking B) taken from a shared
    // counter: no thread ever waits for another, and one that loses its core for a while (the cores are
    // shared) holds up only its last chunk. Bigger panels are packed once, in parts, with barriers
    // around the reads, and the rows split evenly.
    const bool shared = plan.b_size * int64_t(sizeof(T)) > kPrivatePanel;
    const int64_t common = shared ? plan.b_size : 0, own = plan.a_size + (shared ? 0 : plan.b_size);
    auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    const int64_t chunk = std::min(std::max(kMinChunkStrips, ceil_div(m_units, kChunksPerThread * threads)),
                                   ceil_div(m_units, threads)) * kr.mr;  // at least one chunk per thread
    T* buf = static_cast<T*>(scratch.get((common + threads * own) * sizeof(T)));
    std::atomic<int64_t> next_row{0};
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      T* mine = buf + common + t * own;
      if (shared) {
        const int64_t m0 = std::min(p.M, m_units * t / n * kr.mr), m1 = std::min(p.M, m_units * (t + 1) / n * kr.mr);
        block_loop(kr, p, plan, buf, mine, m0, m1, t, n);
      } else {
        for (int64_t m0; (m0 = next_row.fetch_add(chunk)) < p.M;)
          block_loop(kr, p, plan, mine + plan.a_size, mine, m0, std::min(p.M, m0 + chunk), 0, 1);
      }
    }
    return;
  }
  std::exception_ptr error;  // scratch is allocated per thread here; an exception must not leave the region
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t n0 = std::min(p.N, n_units * t / n * kr.nr), n1 = std::min(p.N, n_units * (t + 1) / n * kr.nr);
    try {
      if (n0 < n1) {
        const Problem<T> s = columns(p, n0, n1);
        const Plan plan = make_plan(kr, s);
        T* buf = static_cast<T*>(scratch.get((plan.b_size + plan.a_size) * sizeof(T)));
        block_loop(kr, s, plan, buf, buf + plan.b_size, 0, s.M, 0, 1);
      }
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
