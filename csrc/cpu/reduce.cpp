// Reduction driver: NumPy's dtype rules, then a plan that sorts and coalesces the kept and the reduced axes
// so the common layouts reach the vector kernels: (a) reduced axes innermost -> row kernels; (b) innermost
// kept axis contiguous -> column kernels across it; anything else -> strided rows. Work is cut into blocks
// fixed by the shape alone and block results are combined in order, so results never depend on threads.
// On a CUDA device the reduced axes are moved last (a device copy unless they already are) and
// cuda/reduce.cu reduces the rows with the same combine and finish formulas (core/reduce_ops.h).
#include "fusednn/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/loop.h"
#include "core/reduce_ops.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {

DType reduce_result_dtype(ReduceOp op, DType x, std::optional<DType> dtype) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Prod:
      if (dtype) return *dtype;
      return x == DType::Bool || x == DType::Int32 ? DType::Int64 : x;
    case ReduceOp::Max:
    case ReduceOp::Min: return x;
    case ReduceOp::All:
    case ReduceOp::Any: return DType::Bool;
    default:  // Mean, Var, Std
      if (dtype) return *dtype;
      return is_floating(x) ? x : DType::Float64;
  }
}

namespace {

using cpu::KernelOp;

const cpu::ReduceKernels& kernels() {
  return select_isa(cpu::ref::reduce_kernels, cpu::avx2::reduce_kernels, cpu::avx512::reduce_kernels);
}

// Reduced elements per unit of work: a row block, or a block of rows times a column tile (larger, so that
// few block results of a whole tile width have to be stored and folded).
constexpr int64_t kBlock = int64_t{1} << 16;
constexpr int64_t kColumnBlock = int64_t{1} << 19;

// Reductions below this many elements run on one thread: they are memory-bound and fast (~50 us a
// million float32), so a second thread gains little, while waiting for one that the OS has not
// scheduled yet (a loaded machine) costs milliseconds.
constexpr int64_t kSerialWork = int64_t{1} << 20;

// Calls body(u) for u in [0, n), `cost` element operations each. Threads take chunks of units as they
// become free; each unit writes only its own results, so which thread runs it never changes them.
template <class Body>
void for_units(int64_t n, int64_t cost, const Body& body) {
  const int threads = get_num_threads();
  cost = std::max<int64_t>(cost, 1);
  if (threads <= 1 || n < 2 || n * cost <= kSerialWork || in_parallel_region()) {
    for (int64_t u = 0; u < n; ++u) body(u);
    return;
  }
  const int64_t chunk = std::max<int64_t>(1, kBlock / cost);
#pragma omp parallel for num_threads(static_cast<int>(std::min<int64_t>(threads, n))) schedule(dynamic, chunk)
  for (int64_t u = 0; u < n; ++u) body(u);
}

// The reduction after sorting and coalescing axes. Kept dims index the wide buffer (C order), reduced dims
// are walked for each output, innermost last. Strides in bytes.
struct Plan {
  const char* base;
  int64_t item;
  int nk = 0, nr = 0;
  int64_t ksize[kMaxDims], kstride[kMaxDims];
  int64_t rsize[kMaxDims], rstride[kMaxDims];
  int64_t n_out = 1, n_red = 1;
};

// Appends a dim, merging it into the previous one when memory steps through both as one.
void push_dim(int64_t* size, int64_t* stride, int& n, int64_t s, int64_t st) {
  if (s == 1) return;
  if (n > 0 && stride[n - 1] == st * s) {
    size[n - 1] *= s;
    stride[n - 1] = st;
    return;
  }
  size[n] = s;
  stride[n] = st;
  ++n;
}

// Stable insertion sort of axes by descending |stride| (at most kMaxDims entries).
void sort_by_stride(int* axes, int n, const Tensor& x) {
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && std::abs(x.stride(axes[j])) > std::abs(x.stride(axes[j - 1])); --j) {
      const int t = axes[j];
      axes[j] = axes[j - 1];
      axes[j - 1] = t;
    }
  }
}

// Builds the plan; kept[] receives x's kept axes in wide-buffer order. Negative reduced strides are
// flipped: the order in which a reduction meets its elements does not change what it computes.
Plan make_plan(const Tensor& x, const Dims& axes, int* kept, int& nkept) {
  bool is_reduced[kMaxDims] = {};
  for (int64_t a : axes) is_reduced[a] = true;
  int red[kMaxDims], nred = 0;
  nkept = 0;
  for (int d = 0; d < x.ndim(); ++d) (is_reduced[d] ? red[nred++] : kept[nkept++]) = d;
  sort_by_stride(kept, nkept, x);
  sort_by_stride(red, nred, x);

  Plan p;
  p.item = static_cast<int64_t>(x.itemsize());
  const char* base = static_cast<const char*>(x.data());
  for (int i = 0; i < nkept; ++i) {
    const int d = kept[i];
    p.n_out *= x.shape(d);
    push_dim(p.ksize, p.kstride, p.nk, x.shape(d), x.stride(d) * p.item);
  }
  for (int i = 0; i < nred; ++i) {
    const int d = red[i];
    int64_t st = x.stride(d) * p.item;
    p.n_red *= x.shape(d);
    if (st < 0 && x.shape(d) > 0) {  // walk it forwards: same elements, contiguous when reversed
      base += (x.shape(d) - 1) * st;
      st = -st;
    }
    push_dim(p.rsize, p.rstride, p.nr, x.shape(d), st);
  }
  if (p.nr == 0) {  // nothing left to reduce: one element per output
    p.rsize[0] = 1;
    p.rstride[0] = 0;
    p.nr = 1;
  }
  p.base = base;
  return p;
}

// Byte offset of C-order flat index `flat` over the dims.
int64_t offset_of(int64_t flat, const int64_t* size, const int64_t* stride, int n) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    off += flat % size[d] * stride[d];
    flat /= size[d];
  }
  return off;
}

// Calls f(ptr, len) for each run along the innermost reduced dim covering flat reduced indices [r0, r1).
template <class F>
void for_runs(const Plan& p, const char* base, int64_t r0, int64_t r1, const F& f) {
  const int64_t inner = p.rsize[p.nr - 1];
  while (r0 < r1) {
    const int64_t len = std::min(inner - r0 % inner, r1 - r0);
    f(base + offset_of(r0, p.rsize, p.rstride, p.nr), len);
    r0 += len;
  }
}

template <class T>
T identity(KernelOp op) {
  switch (op) {
    case KernelOp::Prod:
    case KernelOp::All: return T(1);
    case KernelOp::Max: return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                                  : std::numeric_limits<T>::lowest();
    case KernelOp::Min: return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                                  : std::numeric_limits<T>::max();
    default: return T(0);
  }
}

void fill_identity(const Tensor& t, KernelOp op) {
  visit_dtype(t.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T v = identity<T>(op);
    T* p = t.data_as<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = v;
  });
}

// One pass of kernel `op` (input dtype `in`, accumulator `acc`) over the plan into `wide` (n_out values of
// wide_dtype(op, acc), initialised here). center: per-output means for SqDev, in wide order.
void run_pass(const Plan& p, KernelOp op, DType in, DType acc, const Tensor& wide, const double* center) {
  const int o = static_cast<int>(op), i = static_cast<int>(in), a = static_cast<int>(acc);
  const cpu::RowFn row = kernels().row[o][i][a];
  const cpu::ColsFn cols = kernels().cols[o][i][a];
  fill_identity(wide, op);
  if (p.n_out == 0 || p.n_red == 0) return;
  char* w = static_cast<char*>(wide.data());
  const int64_t ws = static_cast<int64_t>(wide.itemsize()), n_out = p.n_out, n_red = p.n_red;
  const int64_t rstride = p.rstride[p.nr - 1];
  const bool columns = p.nk > 0 && p.kstride[p.nk - 1] == p.item;
  // Units: (output group, reduced block); block results land in `partial` ([block][output]) when a
  // reduction spans several blocks, and are combined in block order afterwards.
  const int64_t width = columns ? std::min(p.ksize[p.nk - 1], cpu::kColTile) : 1;
  const int64_t rows_per_block = std::max<int64_t>(1, (columns ? kColumnBlock : kBlock) / width);
  const int64_t nb = (n_red + rows_per_block - 1) / rows_per_block;
  Tensor partial;
  char* part = w;
  if (nb > 1) {
    partial = Tensor::empty(Dims{nb, n_out}, wide.dtype());
    fill_identity(partial, op);
    part = static_cast<char*>(partial.data());
  }
  if (columns) {
    const int64_t V = p.ksize[p.nk - 1], tiles = (V + cpu::kColTile - 1) / cpu::kColTile;
    for_units(n_out / V * tiles * nb, rows_per_block * width, [&](int64_t u) {
      const int64_t b = u % nb, t = u / nb % tiles, outer = u / nb / tiles;
      const int64_t j0 = t * cpu::kColTile, first = outer * V + j0;
      const char* base = p.base + offset_of(outer, p.ksize, p.kstride, p.nk - 1) + j0 * p.item;
      char* dst = part + (b * n_out + first) * ws;
      const double* c = center ? center + first : nullptr;
      const int64_t nc = std::min(cpu::kColTile, V - j0);
      for_runs(p, base, b * rows_per_block, std::min(n_red, (b + 1) * rows_per_block),
               [&](const char* ptr, int64_t len) { cols(ptr, rstride, len, nc, dst, c); });
    });
  } else {
    for_units(n_out * nb, std::min(n_red, rows_per_block), [&](int64_t u) {
      const int64_t b = u % nb, out = u / nb;
      const char* base = p.base + offset_of(out, p.ksize, p.kstride, p.nk);
      char* dst = part + (b * n_out + out) * ws;
      const double* c = center ? center + out : nullptr;
      for_runs(p, base, b * rows_per_block, std::min(n_red, (b + 1) * rows_per_block),
               [&](const char* ptr, int64_t len) { row(ptr, rstride, len, dst, c); });
    });
  }
  if (nb > 1) {  // fold the block results in block order: a column reduction of [nb, n_out] wide values
    const KernelOp fold = op == KernelOp::SqDev ? KernelOp::Sum : op;
    const int wd = static_cast<int>(wide.dtype());
    kernels().cols[static_cast<int>(fold)][wd][wd](part, n_out * ws, nb, n_out, w, nullptr);
  }
}

// The last step (core/reduce_ops.h, shared with the device): out = wide, or wide / divisor (then sqrt).
struct HostTag {};
template <class O, class W>
void finish_loop(char* const* data, const int64_t* strides, int64_t n, const void* ctx) {
  const auto& f = *static_cast<const ReduceFinish*>(ctx);
  for (int64_t i = 0; i < n; ++i) {
    const W w = *reinterpret_cast<const W*>(data[1] + i * strides[1]);
    *reinterpret_cast<O*>(data[0] + i * strides[0]) = ReduceOps<HostTag>::finish<O>(w, f);
  }
}

void finish(const Tensor& out, const Tensor& wide_view, const ReduceFinish& f) {
  const InnerLoop loop = visit_dtype(out.dtype(), [&](auto o) {
    return visit_dtype(wide_view.dtype(), [&](auto w) -> InnerLoop {
      return &finish_loop<decltype(o), decltype(w)>;
    });
  });
  for_each_element(out.shape(), {&out, &wide_view}, loop, &f, 2);
}

// The kernel op and accumulator dtype that compute `op` with accumulator `acc` (bool sums are logical).
KernelOp kernel_op(ReduceOp op, DType acc) {
  const bool logical = acc == DType::Bool;
  switch (op) {
    case ReduceOp::Prod:
    case ReduceOp::Min:
    case ReduceOp::All: return logical ? KernelOp::All : (op == ReduceOp::Min ? KernelOp::Min : KernelOp::Prod);
    case ReduceOp::Max: return logical ? KernelOp::Any : KernelOp::Max;
    case ReduceOp::Any: return KernelOp::Any;
    default: return logical ? KernelOp::Any : KernelOp::Sum;  // Sum, Mean
  }
}

// x with the axes `last` moved behind the others (in order) and made C-contiguous on its device: a copy
// unless they already are. Viewed as (rows, n), each output then reduces one contiguous row.
Tensor rows_last(const Tensor& x, const Dims& last) {
  Dims perm;
  for (int d = 0; d < x.ndim(); ++d)
    if (std::find(last.begin(), last.end(), d) == last.end()) perm.push_back(d);
  for (int64_t d : last) perm.push_back(d);
  return contiguous(x.permute(perm));
}

// The shape of a reduction's output: x's shape without the reduced axes (size 1 with keepdims).
Dims reduced_shape(const Tensor& x, const Dims& axes, bool keepdims) {
  Dims shape;
  for (int d = 0; d < x.ndim(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced || keepdims) shape.push_back(reduced ? 1 : x.shape(d));
  }
  return shape;
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x, const Dims& axes, bool keepdims, std::optional<DType> dtype,
              double ddof) {
  const DType rd = reduce_result_dtype(op, x.dtype(), dtype);
  int64_t n_red = 1;
  for (int64_t a : axes) n_red *= x.shape(static_cast<int>(a));
  if ((op == ReduceOp::Max || op == ReduceOp::Min) && n_red == 0)
    throw ValueError(cat("zero-size array to reduction operation ", op == ReduceOp::Max ? "maximum" : "minimum",
                         " which has no identity"));
  const bool is_var = op == ReduceOp::Var || op == ReduceOp::Std;
  // Accumulator: the result dtype (sum, prod, mean), bool (all, any), x (max, min). var/std accumulate
  // their mean in double lanes: its error would come back squared, against a spread that may be tiny.
  DType acc = rd;
  if (op == ReduceOp::All || op == ReduceOp::Any) acc = DType::Bool;
  if (op == ReduceOp::Max || op == ReduceOp::Min) acc = x.dtype();
  if (is_var) acc = DType::Float64;
  const KernelOp kop = is_var ? KernelOp::Sum : kernel_op(op, acc);
  // var/std: sum((x - mean)^2) / max(n - ddof, 0); mean: sum / n.
  const double n = static_cast<double>(n_red);
  const ReduceFinish f = is_var ? ReduceFinish{true, op == ReduceOp::Std, std::max(n - ddof, 0.0)}
                                : ReduceFinish{op == ReduceOp::Mean, false, n};

  if (!x.device().is_cpu()) {
    const Tensor rows = rows_last(x, axes);
    const Tensor out = Tensor::empty(reduced_shape(x, axes, keepdims), rd, x.device());
    cuda::reduce(kop, acc, is_var, f, rows, out.numel(), n_red, out);
    return out;
  }

  int kept[kMaxDims], nkept;
  const Plan p = make_plan(x, axes, kept, nkept);

  // Output: kept axes in x's order (size 1 at reduced axes when keepdims). The wide buffer holds them in
  // plan order; a permuted view of it lines up with the output.
  Dims out_shape, flat_shape, wide_shape, perm;
  for (int d = 0; d < x.ndim(); ++d) {
    const bool is_kept = std::find(kept, kept + nkept, d) != kept + nkept;
    if (is_kept) flat_shape.push_back(x.shape(d));
    if (is_kept || keepdims) out_shape.push_back(is_kept ? x.shape(d) : 1);
    if (is_kept) perm.push_back(std::find(kept, kept + nkept, d) - kept);
  }
  for (int i = 0; i < nkept; ++i) wide_shape.push_back(x.shape(kept[i]));
  const Tensor out = Tensor::empty(out_shape, rd);
  const Tensor out_flat = out.view(flat_shape);

  Tensor wide = Tensor::empty(wide_shape, cpu::wide_dtype(kop, acc));
  run_pass(p, kop, x.dtype(), acc, wide, nullptr);
  if (is_var) {  // second pass around the means
    double* mean = wide.data_as<double>();
    for (int64_t i = 0; i < wide.numel(); ++i) mean[i] /= static_cast<double>(p.n_red);
    Tensor sq = Tensor::empty(wide_shape, DType::Float64);
    run_pass(p, KernelOp::SqDev, x.dtype(), DType::Float64, sq, mean);
    wide = sq;
  }
  finish(out_flat, wide.permute(perm), f);
  return out;
}

namespace {

template <class T>
void copy_loop(char* const* data, const int64_t* strides, int64_t n, const void*) {
  for (int64_t i = 0; i < n; ++i)
    *reinterpret_cast<T*>(data[0] + i * strides[0]) = *reinterpret_cast<const T*>(data[1] + i * strides[1]);
}

Tensor arg_reduce(bool is_max, const Tensor& x, std::optional<int> axis, bool keepdims) {
  const char* name = is_max ? "argmax" : "argmin";
  const int64_t n = axis ? x.shape(*axis) : x.numel();
  if (n == 0) throw ValueError(cat("attempt to get ", name, " of an empty sequence"));
  if (!x.device().is_cpu()) {  // rows of n along the axis (or the whole flattened tensor), as reduce's
    Dims out_shape = keepdims ? Dims(x.ndim(), int64_t{1}) : Dims{};
    Dims last;
    if (axis) {
      last.push_back(*axis);
      out_shape = reduced_shape(x, last, keepdims);
    }
    const Tensor out = Tensor::empty(out_shape, DType::Int64, x.device());
    cuda::arg_reduce(is_max, axis ? rows_last(x, last) : contiguous(x), out.numel(), n, out);
    return out;
  }
  const cpu::ArgFn fn = kernels().arg[is_max ? 0 : 1][static_cast<int>(x.dtype())];
  const int64_t item = static_cast<int64_t>(x.itemsize());
  if (!axis) {  // over the C-order flattened tensor
    Tensor flat = x;
    if (!x.is_contiguous()) {
      flat = Tensor::empty(x.shape(), x.dtype());
      const InnerLoop copy = visit_dtype(x.dtype(), [](auto t) -> InnerLoop { return &copy_loop<decltype(t)>; });
      for_each_element(x.shape(), {&flat, &x}, copy, nullptr, 1);
    }
    Tensor out = Tensor::empty(keepdims ? Dims(x.ndim(), int64_t{1}) : Dims{}, DType::Int64);
    *out.data_as<int64_t>() = fn(static_cast<const char*>(flat.data()), item, n);
    return out;
  }
  const int a = *axis;
  Dims out_shape = x.shape();
  int64_t size[kMaxDims], stride[kMaxDims];
  int m = 0;
  for (int d = 0; d < x.ndim(); ++d) {
    if (d == a) continue;
    size[m] = x.shape(d);
    stride[m++] = x.stride(d) * item;
  }
  if (keepdims) out_shape[a] = 1; else out_shape.erase(a);
  Tensor out = Tensor::empty(out_shape, DType::Int64);
  int64_t* dst = out.data_as<int64_t>();
  const char* base = static_cast<const char*>(x.data());
  const int64_t step = x.stride(a) * item;
  for_units(out.numel(), n, [&](int64_t o) { dst[o] = fn(base + offset_of(o, size, stride, m), step, n); });
  return out;
}

}  // namespace

Tensor argmax(const Tensor& x, std::optional<int> axis, bool keepdims) { return arg_reduce(true, x, axis, keepdims); }
Tensor argmin(const Tensor& x, std::optional<int> axis, bool keepdims) { return arg_reduce(false, x, axis, keepdims); }

}  // namespace fusednn
