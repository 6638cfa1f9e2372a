// The GEMM family on CUDA devices, our own kernels (no cuBLAS): C = act(alpha * A B + beta * C + bias) for
// strided, batched float32 / float64 operands. Two kernels share the tile loaders and the epilogue:
//  - SIMT: a 128 x 128 block tile (float64: 128 x 64), BK = 8, 256 threads each holding an 8 x 8 (8 x 4)
//    register tile, shared memory double buffered (the next K tile is read into registers during the FMAs);
//  - TF32 tensor cores (float32, opt-in through allow_tf32()): mma.sync.aligned.m16n8k8 (Ampere's warp-level
//    MMA, not Hopper's wgmma), inputs rounded with cvt.rna.tf32.f32, float32 accumulation; 128 x 128 x 16
//    block tile, 4 warps of 64 x 64.
// A tile is read in 16-byte vectors where the operand is contiguous along the read direction and aligned,
// element by element otherwise; edge tiles are predicated (zeros past M, N, K). Batches are grid.z.
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <type_traits>

#include "core/activation_ops.h"
#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"
#include "fusednn/gemm.h"

namespace fusednn::cuda {
namespace {

// An operand as an outer x K matrix: A (outer: its rows) or B^T (outer: B's columns). Element (o, k) of
// batch b is p[b * batch + o * os + k * ks].
template <class T>
struct Operand {
  const T* p;
  int64_t os, ks, batch;
  bool vec;  // 16-byte vector loads are valid along the loader's direction (see Loader)
};

template <class T>
struct Args {
  int64_t M, N, K;
  Operand<T> a, b;
  T* c;
  int64_t c_rs, c_cs, c_batch;
  T alpha, beta;
  const T* row_bias;  // length M, or null
  const T* col_bias;  // length N, or null
  Activation act;
  T slope;
  int64_t tiles_m, tiles_n;
  int64_t first_batch;  // batch of blockIdx.z == 0 (launches cover at most 65535 batches each)
};

// The direction of a thread's run of VW elements (one 16-byte vector), and of neighbouring threads: along k
// (the operand is contiguous along k: A row-major, B column-major) or along the outer dimension.
enum class Along { K, Outer };

template <class T> constexpr int kVW = int(16 / sizeof(T));  // elements per 16-byte vector

__device__ inline void load_global16(const float* p, float* r) {
  const float4 x = __ldg(reinterpret_cast<const float4*>(p));
  r[0] = x.x, r[1] = x.y, r[2] = x.z, r[3] = x.w;
}
__device__ inline void load_global16(const double* p, double* r) {
  const double2 x = __ldg(reinterpret_cast<const double2*>(p));
  r[0] = x.x, r[1] = x.y;
}
__device__ inline void load_shared16(const float* s, float* r) {
  const float4 x = *reinterpret_cast<const float4*>(s);
  r[0] = x.x, r[1] = x.y, r[2] = x.z, r[3] = x.w;
}
__device__ inline void load_shared16(const double* s, double* r) {
  const double2 x = *reinterpret_cast<const double2*>(s);
  r[0] = x.x, r[1] = x.y;
}
__device__ inline void store_shared16(float* s, const float* r) {
  *reinterpret_cast<float4*>(s) = make_float4(r[0], r[1], r[2], r[3]);
}
__device__ inline void store_shared16(double* s, const double* r) {
  *reinterpret_cast<double2*>(s) = make_double2(r[0], r[1]);
}

// Reads a BO x BK tile of an operand into registers, kThreads threads together: a thread's vectors are VW
// consecutive elements along `A`, and neighbouring threads take neighbouring vectors (coalesced); vector i
// of a thread is vector 0 moved kStepO along o or kStepK along k. With op.vec the contiguous stride is 1 and
// every vector 16-byte aligned, so whole vectors load at once; other vectors (and every vector without
// op.vec) load element by element. Elements past the operand's edge (o >= o_lim or k >= k_lim, limits
// clipped to the tile) read as 0.
template <class T, int BO, int BK, int kThreads, Along A>
struct Loader {
  static constexpr int VW = kVW<T>;
  static constexpr int kVecs = BO * BK / (VW * kThreads);
  static constexpr int kPerRow = A == Along::K ? BK / VW : BO / VW;  // vectors side by side along A
  static_assert(kVecs * VW * kThreads == BO * BK && kThreads % kPerRow == 0, "the threads tile the tile evenly");
  static constexpr int dO = A == Along::Outer ? 1 : 0, dK = 1 - dO;  // step of element j of a vector
  static constexpr int kStepO = dK * kThreads / kPerRow, kStepK = dO * kThreads / kPerRow;
  int o0, k0;  // the thread's vector 0
  T v[kVecs * VW];

  __device__ explicit Loader(int tid)
      : o0(A == Along::K ? tid / kPerRow : tid % kPerRow * VW),
        k0(A == Along::K ? tid % kPerRow * VW : tid / kPerRow) {}
  __device__ int o(int i) const { return o0 + i * kStepO; }
  __device__ int k(int i) const { return k0 + i * kStepK; }

  // p: the tile's element (0, 0).
  __device__ void load(const T* p, const Operand<T>& op, int o_lim, int k_lim) {
    const T* first = p + o0 * op.os + k0 * op.ks;
    const int64_t step = kStepO * op.os + kStepK * op.ks, unit = dO * op.os + dK * op.ks;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const T* src = first + i * step;
      T* r = v + i * VW;
      if (op.vec && o(i) + dO * (VW - 1) < o_lim && k(i) + dK * (VW - 1) < k_lim) {
        load_global16(src, r);
        continue;
      }
#pragma unroll
      for (int j = 0; j < VW; ++j) r[j] = o(i) + dO * j < o_lim && k(i) + dK * j < k_lim ? src[j * unit] : T(0);
    }
  }
};

// min(left, tile) for the loaders' limits (left >= 0).
__device__ inline int clip(int64_t left, int tile) { return left < tile ? static_cast<int>(left) : tile; }

// The block's tile of C, BM x BN: block indices run down groups of 8 tile rows, so the blocks in flight
// together share rows of A and columns of B in L2. Also how many of its rows and columns fall inside C, and
// where its rows of A and columns of B start in its batch.
template <class T, int BM, int BN>
struct BlockTile {
  int64_t batch, m0, n0;
  int m_lim, n_lim;
  const T* a;
  const T* b;
  __device__ explicit BlockTile(const Args<T>& p) {
    constexpr int64_t kGroup = 8;
    const int64_t id = blockIdx.x, per_group = kGroup * p.tiles_n;
    const int64_t first = id / per_group * kGroup, local = id % per_group;
    const int64_t rows = p.tiles_m - first < kGroup ? p.tiles_m - first : kGroup;
    batch = p.first_batch + blockIdx.z;
    m0 = (first + local % rows) * BM;
    n0 = local / rows * BN;
    m_lim = clip(p.M - m0, BM);
    n_lim = clip(p.N - n0, BN);
    a = p.a.p + batch * p.a.batch + m0 * p.a.os;
    b = p.b.p + batch * p.b.batch + n0 * p.b.os;
  }
};

// Element (m, n) of the block's batch of C from its accumulated product: alpha * acc, + beta * C (C is not
// read when beta == 0, so NaN there does not leak), + bias, then the activation (the formulas every backend
// shares, core/activation_ops.h).
template <class T>
__device__ inline void finish(const Args<T>& p, T* c, int64_t m, int64_t n, T acc) {
  if (m >= p.M || n >= p.N) return;
  T* dst = c + m * p.c_rs + n * p.c_cs;
  T z = p.alpha * acc;
  if (p.beta != T(0)) z += p.beta * *dst;
  if (p.row_bias) z += p.row_bias[m];
  if (p.col_bias) z += p.col_bias[n];
  *dst = apply_activation(p.act, z, p.slope);
}

// ---- SIMT: one FMA per multiply-add, any dtype ----

template <class T> struct SimtTile;
template <> struct SimtTile<float> { static constexpr int BM = 128, BN = 128, BK = 8, RM = 2, RN = 2; };
template <> struct SimtTile<double> { static constexpr int BM = 128, BN = 64, BK = 8, RM = 2, RN = 1; };
constexpr int kSimtThreads = 256;

// Each thread holds RM x RN sub-tiles of 4 x 4 elements. A warp's lanes form 4 rows x 8 columns of sub-tiles,
// so a warp covers 16 RM x 32 RN elements and its shared reads of a k row are 4 (A) and 8 (B) distinct
// 16-byte words: broadcasts, no bank conflicts. Shared tiles are stored k-major, s[k * LD + o], padded by 4
// so that the transposing stores of Along::K tiles hit at most 2 lanes per bank.
template <class T, Along LA, Along LB>
__global__ void __launch_bounds__(kSimtThreads, 2) simt_kernel(Args<T> p) {
  using Tile = SimtTile<T>;
  constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, RM = Tile::RM, RN = Tile::RN;
  constexpr int LDA = BM + 4, LDB = BN + 4, WN = BN / (32 * RN);
  static_assert(BM / (16 * RM) * WN * 32 == kSimtThreads, "the warps tile the block");
  __shared__ __align__(16) T sa[2][BK * LDA];
  __shared__ __align__(16) T sb[2][BK * LDB];

  const int tid = threadIdx.x;
  const BlockTile<T, BM, BN> tile(p);
  Loader<T, BM, BK, kSimtThreads, LA> la(tid);
  Loader<T, BN, BK, kSimtThreads, LB> lb(tid);

  // Registers to shared memory, k-major: Along::Outer vectors are contiguous there, Along::K ones transpose.
  auto store = [](const auto& loader, T* s, auto ld) {
    using L = std::decay_t<decltype(loader)>;
#pragma unroll
    for (int i = 0; i < L::kVecs; ++i) {
      const T* r = loader.v + i * L::VW;
      if constexpr (L::dO == 1) {
        store_shared16(s + loader.k(i) * ld.value + loader.o(i), r);
      } else {
#pragma unroll
        for (int j = 0; j < L::VW; ++j) s[(loader.k(i) + j) * ld.value + loader.o(i)] = r[j];
      }
    }
  };
  using LdA = std::integral_constant<int, LDA>;
  using LdB = std::integral_constant<int, LDB>;

  const int64_t k_tiles = (p.K + BK - 1) / BK;
  if (k_tiles > 0) {
    la.load(tile.a, p.a, tile.m_lim, clip(p.K, BK));
    lb.load(tile.b, p.b, tile.n_lim, clip(p.K, BK));
    store(la, sa[0], LdA{});
    store(lb, sb[0], LdB{});
  }
  __syncthreads();

  const int warp = tid / 32, lane = tid % 32;
  const int row0 = warp / WN * (16 * RM) + lane / 8 * 4;  // the thread's sub-tile (r, c) starts at
  const int col0 = warp % WN * (32 * RN) + lane % 8 * 4;  // (row0 + 16 r, col0 + 32 c)
  T acc[4 * RM][4 * RN] = {};
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < k_tiles;
    if (more) {  // the next tile's global reads are in flight during the FMAs below
      const int64_t k0 = (kt + 1) * BK;
      la.load(tile.a + k0 * p.a.ks, p.a, tile.m_lim, clip(p.K - k0, BK));
      lb.load(tile.b + k0 * p.b.ks, p.b, tile.n_lim, clip(p.K - k0, BK));
    }
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      T fa[4 * RM], fb[4 * RN];
#pragma unroll
      for (int r = 0; r < RM; ++r)
#pragma unroll
        for (int h = 0; h < 4; h += kVW<T>) load_shared16(&sa[cur][kk * LDA + row0 + 16 * r + h], fa + 4 * r + h);
#pragma unroll
      for (int c = 0; c < RN; ++c)
#pragma unroll
        for (int h = 0; h < 4; h += kVW<T>) load_shared16(&sb[cur][kk * LDB + col0 + 32 * c + h], fb + 4 * c + h);
#pragma unroll
      for (int i = 0; i < 4 * RM; ++i)
#pragma unroll
        for (int j = 0; j < 4 * RN; ++j) acc[i][j] += fa[i] * fb[j];
    }
    if (more) {  // the other buffer: its last readers passed the barrier that ended the previous step
      store(la, sa[cur ^ 1], LdA{});
      store(lb, sb[cur ^ 1], LdB{});
    }
    __syncthreads();
  }

  T* c = p.c + tile.batch * p.c_batch;
#pragma unroll
  for (int i = 0; i < 4 * RM; ++i)
#pragma unroll
    for (int j = 0; j < 4 * RN; ++j)
      finish(p, c, tile.m0 + row0 + i / 4 * 16 + i % 4, tile.n0 + col0 + j / 4 * 32 + j % 4, acc[i][j]);
}

// ---- TF32 tensor cores (float32 only; compute capability 8.0 and newer) ----

constexpr int kTcThreads = 128, kTcBM = 128, kTcBN = 128, kTcBK = 16;
// Shared layout per operand, following its global one so that every tile store is one 16-byte vector:
// Along::K tiles o-major, s[o * 20 + k]; Along::Outer tiles k-major, s[k * 136 + o]. Both paddings put the
// 32 lanes' fragment reads ((o, k) = (g + const, t + const), g = lane / 4, t = lane % 4) in 32 banks.
constexpr int kTcLdK = kTcBK + 4, kTcLdOuter = kTcBM + 8;
constexpr int kTcTileFloats = kTcBM * kTcLdK > kTcBK * kTcLdOuter ? kTcBM * kTcLdK : kTcBK * kTcLdOuter;
static_assert(kTcBM == kTcBN, "one shared layout serves both operands");

template <Along L>
__device__ inline int tc_index(int o, int k) {
  return L == Along::K ? o * kTcLdK + k : k * kTcLdOuter + o;
}

// x rounded to TF32 (10 mantissa bits, to nearest, ties away from zero), as the bits mma.sync reads.
__device__ inline float to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return __uint_as_float(r);
}

// c += a b for one 16 x 8 x 8 product of the warp. Fragments (g = lane / 4, t = lane % 4): a = A[g][t],
// A[g + 8][t], A[g][t + 4], A[g + 8][t + 4]; b = B[t][g], B[t + 4][g]; c = C[g][2t], C[g][2t + 1],
// C[g + 8][2t], C[g + 8][2t + 1].
__device__ inline void mma_tf32(float* c, const uint32_t* a, const uint32_t* b) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Warps 2 x 2, each 64 x 64 of C: 4 x 8 mma tiles, 128 float accumulators per thread.
template <Along LA, Along LB>
__global__ void __launch_bounds__(kTcThreads, 2) tf32_kernel(Args<float> p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();  // never launched: the host picks this kernel only on devices of compute capability 8.0+
#else
  __shared__ __align__(16) float sa[2][kTcTileFloats];
  __shared__ __align__(16) float sb[2][kTcTileFloats];

  const int tid = threadIdx.x;
  const BlockTile<float, kTcBM, kTcBN> tile(p);
  Loader<float, kTcBM, kTcBK, kTcThreads, LA> la(tid);
  Loader<float, kTcBN, kTcBK, kTcThreads, LB> lb(tid);

  // Registers to shared memory, rounded to TF32 once here rather than at every fragment read.
  auto store = [](const auto& loader, float* s, auto along) {
    using L = std::decay_t<decltype(loader)>;
#pragma unroll
    for (int i = 0; i < L::kVecs; ++i) {
      const float* r = loader.v + i * L::VW;
      const float rounded[4] = {to_tf32(r[0]), to_tf32(r[1]), to_tf32(r[2]), to_tf32(r[3])};
      store_shared16(s + tc_index<decltype(along)::value>(loader.o(i), loader.k(i)), rounded);
    }
  };
  using AlongA = std::integral_constant<Along, LA>;
  using AlongB = std::integral_constant<Along, LB>;

  const int64_t k_tiles = (p.K + kTcBK - 1) / kTcBK;
  if (k_tiles > 0) {
    la.load(tile.a, p.a, tile.m_lim, clip(p.K, kTcBK));
    lb.load(tile.b, p.b, tile.n_lim, clip(p.K, kTcBK));
    store(la, sa[0], AlongA{});
    store(lb, sb[0], AlongB{});
  }
  __syncthreads();

  const int warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
  const int wm = warp / 2 * 64, wn = warp % 2 * 64;
  float acc[4][8][4] = {};
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < k_tiles;
    if (more) {
      const int64_t k0 = (kt + 1) * kTcBK;
      la.load(tile.a + k0 * p.a.ks, p.a, tile.m_lim, clip(p.K - k0, kTcBK));
      lb.load(tile.b + k0 * p.b.ks, p.b, tile.n_lim, clip(p.K - k0, kTcBK));
    }
    const float* s_a = sa[cur];
    const float* s_b = sb[cur];
#pragma unroll
    for (int kk = 0; kk < kTcBK; kk += 8) {
      uint32_t fa[4][4], fb[8][2];
#pragma unroll
      for (int mt = 0; mt < 4; ++mt) {
        const int m = wm + mt * 16 + g;
        fa[mt][0] = __float_as_uint(s_a[tc_index<LA>(m, kk + t)]);
        fa[mt][1] = __float_as_uint(s_a[tc_index<LA>(m + 8, kk + t)]);
        fa[mt][2] = __float_as_uint(s_a[tc_index<LA>(m, kk + t + 4)]);
        fa[mt][3] = __float_as_uint(s_a[tc_index<LA>(m + 8, kk + t + 4)]);
      }
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        const int n = wn + nt * 8 + g;
        fb[nt][0] = __float_as_uint(s_b[tc_index<LB>(n, kk + t)]);
        fb[nt][1] = __float_as_uint(s_b[tc_index<LB>(n, kk + t + 4)]);
      }
#pragma unroll
      for (int mt = 0; mt < 4; ++mt)
#pragma unroll
        for (int nt = 0; nt < 8; ++nt) mma_tf32(acc[mt][nt], fa[mt], fb[nt]);
    }
    if (more) {
      store(la, sa[cur ^ 1], AlongA{});
      store(lb, sb[cur ^ 1], AlongB{});
    }
    __syncthreads();
  }

  float* c = p.c + tile.batch * p.c_batch;
#pragma unroll
  for (int mt = 0; mt < 4; ++mt)
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        finish(p, c, tile.m0 + wm + mt * 16 + g + e / 2 * 8, tile.n0 + wn + nt * 8 + 2 * t + e % 2, acc[mt][nt][e]);
#endif
}

// ---- host side ----

// The loader direction of an operand (the one its memory is contiguous along, if either) and whether
// 16-byte vectors are valid: stride 1 that way, and the base, the other stride and the batch stride whole
// vectors (so every vector a tile reads is aligned).
template <class T>
Along choose_loads(Operand<T>& op, int64_t batches) {
  constexpr int64_t VW = kVW<T>;
  const auto magnitude = [](int64_t s) { return s < 0 ? -s : s; };
  const Along along = magnitude(op.ks) <= magnitude(op.os) ? Along::K : Along::Outer;
  const int64_t unit = along == Along::K ? op.ks : op.os, other = along == Along::K ? op.os : op.ks;
  op.vec = unit == 1 && other % VW == 0 && (batches == 1 || op.batch % VW == 0) &&
           reinterpret_cast<uintptr_t>(op.p) % 16 == 0;
  return along;
}

// Calls f(integral_constant<Along, LA>, integral_constant<Along, LB>) for the runtime pair.
template <class F>
void with_loads(Along la, Along lb, F&& f) {
  using K = std::integral_constant<Along, Along::K>;
  using O = std::integral_constant<Along, Along::Outer>;
  if (la == Along::K) lb == Along::K ? f(K{}, K{}) : f(K{}, O{});
  else lb == Along::K ? f(O{}, K{}) : f(O{}, O{});
}

bool has_tensor_cores(int device) {
  int major = 0;
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "a device query");
  return major >= 8;
}

// Launches kernel over every tile of every batch: grid.x the tiles, grid.z up to 65535 batches a launch.
template <class T, class Kernel>
void launch(int device, Args<T> p, int64_t batches, int bm, int bn, int threads, Kernel kernel) {
  p.tiles_m = (p.M + bm - 1) / bm;
  p.tiles_n = (p.N + bn - 1) / bn;
  const int64_t tiles = p.tiles_m * p.tiles_n;
  if (tiles > INT_MAX) throw ValueError(cat("gemm: a ", p.M, " x ", p.N, " product is too large for one launch"));
  constexpr int64_t kMaxGridZ = 65535;
  DeviceGuard guard(device);
  const cudaStream_t s = as_stream(stream(device));
  for (int64_t first = 0; first < batches; first += kMaxGridZ) {
    p.first_batch = first;
    const int64_t z = batches - first < kMaxGridZ ? batches - first : kMaxGridZ;
    kernel<<<dim3(static_cast<unsigned>(tiles), 1, static_cast<unsigned>(z)), threads, 0, s>>>(p);
    check(cudaGetLastError(), "a GEMM kernel launch");
  }
}

}  // namespace

template <class T>
void gemm(int device, int64_t M, int64_t N, int64_t K, T alpha, MatView<const T> A, MatView<const T> B, T beta,
          MatView<T> C, const Epilogue& epilogue, const Batch& batch) {
  if (M <= 0 || N <= 0 || batch.count <= 0) return;
  const T* bias = static_cast<const T*>(epilogue.bias);
  const bool has_bias = bias != nullptr && epilogue.bias_mode != BiasMode::None;
  Args<T> p{};
  p.M = M, p.N = N, p.K = K < 0 ? 0 : K;
  p.a = {A.data, A.rs, A.cs, batch.a, false};
  p.b = {B.data, B.cs, B.rs, batch.b, false};  // B^T: outer = B's columns
  p.c = C.data, p.c_rs = C.rs, p.c_cs = C.cs, p.c_batch = batch.c;
  p.alpha = alpha, p.beta = beta;
  p.row_bias = has_bias && epilogue.bias_mode == BiasMode::PerRow ? bias : nullptr;
  p.col_bias = has_bias && epilogue.bias_mode == BiasMode::PerColumn ? bias : nullptr;
  p.act = epilogue.activation;
  p.slope = static_cast<T>(epilogue.leaky_slope);
  const Along la = choose_loads(p.a, batch.count), lb = choose_loads(p.b, batch.count);
  if constexpr (std::is_same_v<T, float>) {
    if (allow_tf32() && p.K > 0 && has_tensor_cores(device)) {
      with_loads(la, lb, [&](auto a, auto b) {
        launch(device, p, batch.count, kTcBM, kTcBN, kTcThreads, tf32_kernel<decltype(a)::value, decltype(b)::value>);
      });
      return;
    }
  }
  with_loads(la, lb, [&](auto a, auto b) {
    launch(device, p, batch.count, SimtTile<T>::BM, SimtTile<T>::BN, kSimtThreads,
           simt_kernel<T, decltype(a)::value, decltype(b)::value>);
  });
}

template void gemm<float>(int, int64_t, int64_t, int64_t, float, MatView<const float>, MatView<const float>, float,
                          MatView<float>, const Epilogue&, const Batch&);
template void gemm<double>(int, int64_t, int64_t, int64_t, double, MatView<const double>, MatView<const double>,
                           double, MatView<double>, const Epilogue&, const Batch&);

}  // namespace fusednn::cuda
