// Indexing driver: an index tuple becomes a view of x (ints, slices, None, Ellipsis) plus the integer
// arrays that index some of its dims; those gather or scatter blocks of the remaining dims:
//   out[pre, b, post] = view[pre, idx_1[b], ..., idx_k[b], post]
// Block copies are memcpy when both sides are contiguous, else typed strided loops; index_add adds
// blocks instead (duplicates accumulate: the backward of a gather). On a CUDA device the offset table and
// the moves run as kernels (cuda/indexing.cu); index arrays may be on the host or on that device.
#include "fusednn/indexing.h"

#include <algorithm>
#include <cstring>

#include "core/loop.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {

void resolve_slice(int64_t len, int64_t* start, int64_t* stop, int64_t step) {
  if (step == 0) throw ValueError("slice step cannot be zero");
  auto clamp = [&](int64_t* v) {  // Python's PySlice_AdjustIndices
    if (*v < 0) {
      *v += len;
      if (*v < 0) *v = step < 0 ? -1 : 0;
    } else if (*v >= len) {
      *v = step < 0 ? len - 1 : len;
    }
  };
  clamp(start);
  clamp(stop);
}

namespace {

using Kind = IndexItem::Kind;
using Move = IndexMove;

// The nonzero scan reads memory on the host.
void require_cpu(const Tensor& x, const char* op) {
  if (!x.device().is_cpu()) throw NotImplementedError(cat(op, ": only CPU tensors are supported"));
}

// Index arrays may live on the host or on the indexed tensor's device (as in torch), nowhere else.
void check_index_device(const char* op, const Tensor& idx, const Tensor& x) {
  if (!idx.device().is_cpu() && idx.device() != x.device())
    throw ValueError(cat(op, ": index arrays must be on cpu or on the indexed tensor's device ",
                         device_name(x.device()), ", but found one on ", device_name(idx.device())));
}

// Calls f(offset) for every element of shape, in C order, with offset = sum(pos * strides).
template <class F>
void walk_offsets(const Dims& shape, const Dims& strides, F&& f) {
  const int nd = shape.size();
  if (shape.product() == 0) return;
  if (nd == 0) return f(int64_t{0});
  const int64_t inner = shape[nd - 1], step = strides[nd - 1];
  int64_t pos[kMaxDims] = {};
  int64_t base = 0;
  while (true) {
    for (int64_t i = 0; i < inner; ++i) f(base + i * step);
    int d = nd - 2;
    for (; d >= 0; --d) {  // carry into the outer dims
      base += strides[d];
      if (++pos[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      pos[d] = 0;
    }
    if (d < 0) return;
  }
}

// The same walk with the multi-index, for nonzero.
template <class F>
void walk_positions(const Dims& shape, const Dims& strides, F&& f) {
  const int nd = shape.size();
  if (shape.product() == 0) return;
  int64_t pos[kMaxDims] = {};
  int64_t offset = 0;
  while (true) {
    f(pos, offset);
    int d = nd - 1;
    for (; d >= 0; --d) {
      offset += strides[d];
      if (++pos[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      pos[d] = 0;
    }
    if (d < 0) return;
  }
}

// Visits the nonzero elements of x with their multi-index; returns how many there were.
template <class Emit>
int64_t scan_nonzero(const Tensor& x, Emit&& emit) {
  require_cpu(x, "nonzero");
  int64_t count = 0;
  visit_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* data = x.data_as<T>();
    walk_positions(x.shape(), x.strides(), [&](const int64_t* pos, int64_t off) {
      if (data[off] != T(0)) emit(pos, count++);
    });
  });
  return count;
}

Tensor int64_tensor(std::initializer_list<int64_t> values) {
  Tensor t = Tensor::empty(Dims{static_cast<int64_t>(values.size())}, DType::Int64);
  std::copy(values.begin(), values.end(), t.data_as<int64_t>());
  return t;
}

// An integer index array applied to dim `dim` of the view (axis `axis` of x, for messages).
struct ArrayIndex {
  int dim;
  int axis;
  Tensor idx;
};

struct Parsed {
  Tensor view;
  std::vector<ArrayIndex> arrays;
  int insert_at = 0;  // where the broadcast index dims go among the view's remaining dims
};

int dims_consumed(const IndexItem& it) {
  switch (it.kind) {
    case Kind::Int:
    case Kind::Slice: return 1;
    case Kind::Array: return it.array.dtype() == DType::Bool ? it.array.ndim() : 1;
    default: return 0;
  }
}

void add_array(Parsed& p, const Tensor& array, int* dim, int* axis) {
  check_index_device("advanced indexing", array, p.view);
  Tensor& v = p.view;
  if (array.dtype() != DType::Bool) {
    if (!is_integer(array.dtype())) throw IndexError("arrays used as indices must be of integer (or boolean) type");
    p.arrays.push_back({*dim, *axis, array});
    ++*dim;
    ++*axis;
    return;
  }
  // A mask's true positions decide the result's size, so the host needs them: a device mask comes over.
  const Tensor a = to_device(array, Device::cpu());
  if (a.ndim() == 0) {  // a 0-d bool adds an axis of length 1 (true) or 0 (false)
    v = v.unsqueeze(*dim);
    const bool on = *a.data_as<bool>();
    p.arrays.push_back({*dim, *axis, on ? int64_tensor({0}) : int64_tensor({})});
    ++*dim;
    return;
  }
  for (int j = 0; j < a.ndim(); ++j) {
    if (a.shape(j) != v.shape(*dim + j))
      throw IndexError(cat("boolean index did not match indexed array along axis ", *axis + j, "; size of axis is ",
                           v.shape(*dim + j), " but size of corresponding boolean axis is ", a.shape(j)));
  }
  const std::vector<Tensor> coords = nonzero(a);
  for (int j = 0; j < a.ndim(); ++j) p.arrays.push_back({*dim + j, *axis + j, coords[j]});
  *dim += a.ndim();
  *axis += a.ndim();
}

Parsed parse(const Tensor& x, const std::vector<IndexItem>& items) {
  int consumed = 0, ellipses = 0;
  bool any_array = false;
  for (const IndexItem& it : items) {
    consumed += dims_consumed(it);
    ellipses += it.kind == Kind::Ellipsis;
    any_array |= it.kind == Kind::Array;
  }
  if (ellipses > 1) throw IndexError("an index can only have a single ellipsis ('...')");
  if (consumed > x.ndim())
    throw IndexError(cat("too many indices for array: array is ", x.ndim(), "-dimensional, but ", consumed,
                         " were indexed"));
  Parsed p{x, {}, 0};
  Tensor& v = p.view;
  int dim = 0, axis = 0;
  // NumPy puts the broadcast dims where the advanced indices were when they are adjacent in the index
  // (ints count as advanced once any array is present), else first.
  int runs = 0;
  bool prev_advanced = false;
  auto mark = [&](bool advanced) {
    if (advanced && !prev_advanced && runs++ == 0) p.insert_at = dim;
    prev_advanced = advanced;
  };
  for (const IndexItem& it : items) {
    switch (it.kind) {
      case Kind::Int: {
        const int64_t n = v.shape(dim);
        if (it.start < -n || it.start >= n)
          throw IndexError(cat("index ", it.start, " is out of bounds for axis ", axis, " with size ", n));
        mark(any_array);
        v = v.select(dim, it.start < 0 ? it.start + n : it.start);
        ++axis;
        break;
      }
      case Kind::Slice: {
        mark(false);
        int64_t start = it.start, stop = it.stop;
        resolve_slice(v.shape(dim), &start, &stop, it.step);
        v = v.slice(dim, start, stop, it.step);
        ++dim;
        ++axis;
        break;
      }
      case Kind::NewAxis:
        mark(false);
        v = v.unsqueeze(dim);
        ++dim;
        break;
      case Kind::Ellipsis:
        mark(false);
        dim += x.ndim() - consumed;
        axis += x.ndim() - consumed;
        break;
      case Kind::Array:
        mark(true);
        add_array(p, it.array, &dim, &axis);
        break;
    }
  }
  if (runs > 1) p.insert_at = 0;
  return p;
}

Dims broadcast_index_shapes(const std::vector<ArrayIndex>& arrays) {
  Dims b;
  try {
    for (const ArrayIndex& a : arrays) b = broadcast_shapes(b, a.idx.shape());
  } catch (const ValueError&) {
    std::string shapes;
    for (const ArrayIndex& a : arrays) shapes += cat(a.idx.shape(), " ");
    throw IndexError("shape mismatch: indexing arrays could not be broadcast together with shapes " + shapes);
  }
  return b;
}

// offsets[b] (+)= idx[b] * stride for one index array broadcast to B (the first array assigns, so the
// table needs no zeroing pass); every index is checked before anything is written to the output.
void add_offsets(const ArrayIndex& a, const Tensor& view, const Dims& bshape, bool first, int64_t* offsets) {
  const Tensor idx = a.idx.expand(bshape);
  const int64_t size = view.shape(a.dim);
  const int64_t stride = view.stride(a.dim) * static_cast<int64_t>(view.itemsize());
  visit_dtype(idx.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
      const T* data = idx.data_as<T>();
      auto fill = [&](auto assign) {
        int64_t b = 0;
        walk_offsets(idx.shape(), idx.strides(), [&](int64_t at) {
          const int64_t i = data[at];
          if (i < -size || i >= size)
            throw IndexError(cat("index ", i, " is out of bounds for axis ", a.axis, " with size ", size));
          const int64_t bytes = (i < 0 ? i + size : i) * stride;
          offsets[b] = decltype(assign)::value ? bytes : offsets[b] + bytes;
          ++b;
        });
      };
      if (first) fill(std::true_type{});
      else fill(std::false_type{});
    }
  });
}

// idx[b] (C order over its shape), read from wherever idx lives: for error messages.
int64_t index_at(const Tensor& idx, int64_t b) {
  int64_t at = idx.offset();
  for (int d = idx.ndim() - 1; d >= 0; --d) {
    at += b % idx.shape(d) * idx.stride(d);
    b /= idx.shape(d);
  }
  const Tensor one = to_device(idx.as_strided(Dims{}, Dims{}, at), Device::cpu());
  return one.dtype() == DType::Int32 ? *one.data_as<int32_t>() : *one.data_as<int64_t>();
}

// The offset table built on the view's device from index arrays some of which live there. Each array's
// first out-of-range position is recorded on the device and read back (one wait) before anything is
// written, so the error is the one the host path raises.
Tensor device_offsets(const Parsed& p, const Dims& bshape) {
  const Device device = p.view.device();
  const int64_t nb = bshape.product(), k = static_cast<int64_t>(p.arrays.size());
  Tensor offsets = Tensor::empty(Dims{nb}, DType::Int64, device);
  if (nb == 0) return offsets;
  Tensor first_bad = Tensor::empty(Dims{k}, DType::Int64);
  std::fill(first_bad.data_as<int64_t>(), first_bad.data_as<int64_t>() + k, nb);
  first_bad = to_device(first_bad, device);
  std::vector<Tensor> idx;
  for (const ArrayIndex& a : p.arrays) {
    idx.push_back(to_device(a.idx, device).expand(bshape));
    cuda::index_offsets(offsets, idx.back(), p.view.shape(a.dim),
                        p.view.stride(a.dim) * static_cast<int64_t>(p.view.itemsize()), idx.size() == 1,
                        first_bad.data_as<int64_t>() + idx.size() - 1);
  }
  first_bad = to_device(first_bad, Device::cpu());
  for (int64_t j = 0; j < k; ++j) {
    const int64_t b = first_bad.data_as<int64_t>()[j];
    if (b < nb)
      throw IndexError(cat("index ", index_at(idx[j], b), " is out of bounds for axis ", p.arrays[j].axis,
                           " with size ", p.view.shape(p.arrays[j].dim)));
  }
  return offsets;
}

IndexPlan make_plan(const Parsed& p) {
  const Tensor& v = p.view;
  const int64_t item = static_cast<int64_t>(v.itemsize());
  IndexPlan plan;
  plan.bshape = broadcast_index_shapes(p.arrays);
  int rest = 0;  // remaining dims seen so far
  for (int d = 0; d < v.ndim(); ++d) {
    const bool indexed = std::any_of(p.arrays.begin(), p.arrays.end(), [&](const ArrayIndex& a) { return a.dim == d; });
    if (indexed) continue;
    const bool pre = rest++ < p.insert_at;
    (pre ? plan.pre_shape : plan.post_shape).push_back(v.shape(d));
    (pre ? plan.pre_strides : plan.post_strides).push_back(v.stride(d) * item);
  }
  const bool host_arrays = std::all_of(p.arrays.begin(), p.arrays.end(),
                                      [](const ArrayIndex& a) { return a.idx.device().is_cpu(); });
  if (!host_arrays) {
    plan.offsets = device_offsets(p, plan.bshape);
    return plan;
  }
  plan.offsets = Tensor::empty(Dims{plan.bshape.product()}, DType::Int64);
  int64_t* offsets = plan.offsets.data_as<int64_t>();
  for (const ArrayIndex& a : p.arrays) add_offsets(a, v, plan.bshape, &a == &p.arrays[0], offsets);
  plan.offsets = to_device(plan.offsets, v.device());
  return plan;
}

// Element ops on one post element, and the block walkers built on them; each specialisation is picked
// once per call, outside the loops.
template <size_t N>
struct CopyElement {
  void operator()(char* dst, const char* src) const { std::memcpy(dst, src, N); }
};
template <class T>
struct AddElement {  // accumulate: dst += src (bool: logical or)
  void operator()(char* dst, const char* src) const {
    *reinterpret_cast<T*>(dst) = static_cast<T>(*reinterpret_cast<T*>(dst) + *reinterpret_cast<const T*>(src));
  }
};
struct CopyBytes {
  size_t n;
  void operator()(char* dst, const char* src) const { std::memcpy(dst, src, n); }
};
template <class Elem>
struct StridedBlock {  // an n-d block (n >= 1, after coalescing), element by element
  Dims shape, dst_strides, src_strides;
  Elem elem;
  void operator()(char* dst, const char* src) const {
    const int nd = shape.size();
    const int64_t inner = shape[nd - 1], ds = dst_strides[nd - 1], ss = src_strides[nd - 1];
    int64_t pos[kMaxDims] = {};
    while (true) {
      for (int64_t i = 0; i < inner; ++i) elem(dst + i * ds, src + i * ss);
      int d = nd - 2;
      for (; d >= 0; --d) {
        dst += dst_strides[d];
        src += src_strides[d];
        if (++pos[d] < shape[d]) break;
        dst -= dst_strides[d] * shape[d];
        src -= src_strides[d] * shape[d];
        pos[d] = 0;
      }
      if (d < 0) return;
    }
  }
};

// One side of a copy: strides of the pre dims and the byte offset of each b, from a table or, when
// the b dims step as one, b * b_stride.
struct Side {
  char* base;
  Dims pre_strides;
  const int64_t* b_offsets;
  int64_t b_stride;
};
struct TableOffsets {
  const int64_t* table;
  int64_t operator()(int64_t b) const { return table[b]; }
};
struct StrideOffsets {
  int64_t stride;
  int64_t operator()(int64_t b) const { return b * stride; }
};

// The single stride that walks all of shape in C order (stride-0 and size-1 dims included), if any.
bool uniform_stride(const Dims& shape, const Dims& strides, int64_t* stride) {
  int64_t inner = 0, span = 1;  // stride of the innermost non-trivial dim; elements below dim d
  bool seen = false;
  for (int d = shape.size() - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (!seen) inner = strides[d], seen = true;
    else if (strides[d] != inner * span) return false;
    span *= shape[d];
  }
  *stride = inner;
  return true;
}

// Copies the blocks of flat outer indices [begin, end) of (pre, b), one run of b per pre index.
template <class DstOffsets, class SrcOffsets, class Copy>
void walk_blocks(const Dims& pre_shape, int64_t nb, const Side& dst, DstOffsets doff, const Side& src,
                 SrcOffsets soff, const Copy& copy, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end;) {
    int64_t rest = i / nb, dpre = 0, spre = 0;
    for (int d = pre_shape.size() - 1; d >= 0; --d) {
      const int64_t pos = rest % pre_shape[d];
      rest /= pre_shape[d];
      dpre += pos * dst.pre_strides[d];
      spre += pos * src.pre_strides[d];
    }
    const int64_t b0 = i % nb, b1 = std::min(nb, b0 + (end - i));
    char* d = dst.base + dpre;
    const char* s = src.base + spre;
    for (int64_t b = b0; b < b1; ++b) copy(d + doff(b), s + soff(b));
    i += b1 - b0;
  }
}

// walk_blocks with each side's offsets as a table or a stride, decided once.
template <class Copy>
void walk_sides(const Dims& pre_shape, int64_t nb, const Side& dst, const Side& src, const Copy& copy,
                int64_t begin, int64_t end) {
  auto with_src = [&](auto doff) {
    if (src.b_offsets) walk_blocks(pre_shape, nb, dst, doff, src, TableOffsets{src.b_offsets}, copy, begin, end);
    else walk_blocks(pre_shape, nb, dst, doff, src, StrideOffsets{src.b_stride}, copy, begin, end);
  };
  if (dst.b_offsets) with_src(TableOffsets{dst.b_offsets});
  else with_src(StrideOffsets{dst.b_stride});
}

// Drops size-1 dims and merges dims that both sides step through as one.
void coalesce(Dims* shape, Dims* a, Dims* b) {
  Dims s, sa, sb;
  for (int d = 0; d < shape->size(); ++d) {
    if ((*shape)[d] == 1) continue;
    const int i = s.size();
    if (i > 0 && sa[i - 1] == (*a)[d] * (*shape)[d] && sb[i - 1] == (*b)[d] * (*shape)[d]) {
      s[i - 1] *= (*shape)[d];
      sa[i - 1] = (*a)[d];
      sb[i - 1] = (*b)[d];
    } else {
      s.push_back((*shape)[d]);
      sa.push_back((*a)[d]);
      sb.push_back((*b)[d]);
    }
  }
  *shape = s;
  *a = sa;
  *b = sb;
}

// Moves blocks between the view (indexed side) and `other` (shape pre + B + post): gathers into
// other, or scatters from it (Set: assign, Add: accumulate). Scatters run in order on one thread, so
// the last duplicate wins (Set) and duplicates accumulate without races (Add); the device kernels keep
// both rules (cuda/indexing.cu).
void run(const IndexPlan& plan, const Tensor& view, const Tensor& other, Move move) {
  const bool gather = move == Move::Gather;
  const int64_t nb = plan.bshape.product(), npre = plan.pre_shape.product();
  const int64_t block = plan.post_shape.product();
  if (nb == 0 || npre == 0 || block == 0) return;
  if (!view.device().is_cpu()) return cuda::index_move(move, plan, view, other);
  const int64_t item = static_cast<int64_t>(view.itemsize());
  const int npd = plan.pre_shape.size(), nbd = plan.bshape.size();
  Dims other_pre, other_b, other_post;
  for (int d = 0; d < other.ndim(); ++d) {
    Dims& part = d < npd ? other_pre : d < npd + nbd ? other_b : other_post;
    part.push_back(other.stride(d) * item);
  }
  std::vector<int64_t> other_offsets;
  int64_t other_stride = 0;
  if (!uniform_stride(plan.bshape, other_b, &other_stride)) {
    other_offsets.reserve(static_cast<size_t>(nb));
    walk_offsets(plan.bshape, other_b, [&](int64_t off) { other_offsets.push_back(off); });
  }

  Side v{static_cast<char*>(view.data()), plan.pre_strides, plan.offsets.data_as<int64_t>(), 0};
  Side o{static_cast<char*>(other.data()), other_pre, other_offsets.empty() ? nullptr : other_offsets.data(),
         other_stride};
  const Side& dst = gather ? o : v;
  const Side& src = gather ? v : o;
  Dims shape = plan.post_shape, dst_post = gather ? other_post : plan.post_strides;
  Dims src_post = gather ? plan.post_strides : other_post;
  coalesce(&shape, &dst_post, &src_post);

  const int64_t total = npre * nb;
  auto launch = [&](const auto& copy) {
    auto body = [&](int64_t begin, int64_t end) { walk_sides(plan.pre_shape, nb, dst, src, copy, begin, end); };
    if (gather) parallel_for(total, std::max<int64_t>(block / 8, 1), body);  // copies: ~8 elements per op
    else body(0, total);
  };
  if (move == Move::Add) {
    visit_dtype(view.dtype(), [&](auto zero) {
      using T = decltype(zero);
      if (shape.size() == 0) launch(AddElement<T>{});
      else launch(StridedBlock<AddElement<T>>{shape, dst_post, src_post, {}});
    });
    return;
  }
  auto by_size = [&](auto elem_size) {
    constexpr size_t N = decltype(elem_size)::value;
    if (shape.size() == 0) launch(CopyElement<N>{});
    else if (shape.size() == 1 && dst_post[0] == item && src_post[0] == item)
      launch(CopyBytes{static_cast<size_t>(shape[0] * item)});
    else launch(StridedBlock<CopyElement<N>>{shape, dst_post, src_post, {}});
  };
  switch (item) {
    case 1: by_size(std::integral_constant<size_t, 1>{}); break;
    case 4: by_size(std::integral_constant<size_t, 4>{}); break;
    default: by_size(std::integral_constant<size_t, 8>{}); break;
  }
}

// x[items] = value (Set) or x[items] += value with duplicates accumulating (Add).
void scatter(const Tensor& x, const std::vector<IndexItem>& items, const Tensor& value, Move move) {
  x.prepare_write();
  const Parsed p = parse(x, items);
  if (p.arrays.empty())
    return move == Move::Add ? binary_inplace(BinaryOp::Add, p.view, value) : copy_into(p.view, value);
  const IndexPlan plan = make_plan(p);
  const Dims shape = plan.result_shape();
  Tensor src = to_device(value, x.device());  // a host value joins x's device, as copy_into's does
  if (src.dtype() != x.dtype() || src.may_overlap(x)) src = astype(src, x.dtype());
  try {
    src = src.expand(shape);
  } catch (const ValueError&) {
    throw ValueError(cat("shape mismatch: value array of shape ", value.shape(),
                         " could not be broadcast to indexing result of shape ", shape));
  }
  run(plan, p.view, src, move);
}

}  // namespace

Dims IndexPlan::result_shape() const {
  Dims s = pre_shape;
  for (int64_t d : bshape) s.push_back(d);
  for (int64_t d : post_shape) s.push_back(d);
  return s;
}

Tensor index_get(const Tensor& x, const std::vector<IndexItem>& items) {
  const Parsed p = parse(x, items);
  if (p.arrays.empty()) return p.view;
  const IndexPlan plan = make_plan(p);
  Tensor out = Tensor::empty(plan.result_shape(), x.dtype(), x.device());
  run(plan, p.view, out, Move::Gather);
  return out;
}

void index_set(const Tensor& x, const std::vector<IndexItem>& items, const Tensor& value) {
  scatter(x, items, value, Move::Set);
}

void index_add(const Tensor& x, const std::vector<IndexItem>& items, const Tensor& value) {
  scatter(x, items, value, Move::Add);
}

// nonzero and argwhere of a device tensor copy it to the host, scan it there and move the result back: the
// result's size depends on the data, so the host would wait for the device anyway.
std::vector<Tensor> nonzero(const Tensor& x) {
  if (x.ndim() == 0)
    throw ValueError("Calling nonzero on 0d arrays is not allowed. Use atleast_1d(scalar).nonzero() instead.");
  if (!x.device().is_cpu()) {
    std::vector<Tensor> out = nonzero(to_device(x, Device::cpu()));
    for (Tensor& t : out) t = to_device(t, x.device());
    return out;
  }
  const int64_t count = scan_nonzero(x, [](const int64_t*, int64_t) {});
  std::vector<Tensor> out;
  std::vector<int64_t*> cols;
  for (int d = 0; d < x.ndim(); ++d) {
    out.push_back(Tensor::empty(Dims{count}, DType::Int64));
    cols.push_back(out.back().data_as<int64_t>());
  }
  scan_nonzero(x, [&](const int64_t* pos, int64_t i) {
    for (int d = 0; d < x.ndim(); ++d) cols[d][i] = pos[d];
  });
  return out;
}

Tensor argwhere(const Tensor& x) {
  if (!x.device().is_cpu()) return to_device(argwhere(to_device(x, Device::cpu())), x.device());
  const int nd = x.ndim();
  const int64_t count = scan_nonzero(x, [](const int64_t*, int64_t) {});
  Tensor out = Tensor::empty(Dims{count, nd}, DType::Int64);
  int64_t* rows = out.data_as<int64_t>();
  scan_nonzero(x, [&](const int64_t* pos, int64_t i) { std::copy(pos, pos + nd, rows + i * nd); });
  return out;
}

void take_rows(const Tensor& src, const Tensor& idx, const Tensor& out) {
  if (src.ndim() == 0 || !src.is_contiguous() || !out.is_contiguous())
    throw ValueError("take_rows: src and out must be C-contiguous and at least 1-d");
  if (idx.ndim() != 1 || idx.dtype() != DType::Int64) throw TypeError("take_rows: idx must be a 1-d int64 tensor");
  if (out.dtype() != src.dtype()) throw TypeError(cat("take_rows: out has dtype ", dtype_name(out.dtype()),
                                                      ", src ", dtype_name(src.dtype())));
  const Dims& s = src.shape();
  const Dims& o = out.shape();
  if (o.size() != s.size() || o[0] != idx.shape()[0] || !std::equal(s.begin() + 1, s.end(), o.begin() + 1))
    throw ValueError(cat("take_rows: out has shape ", o, "; expected (", idx.shape()[0], ", ...) with src's rows ", s));
  const Device device = common_device("take_rows", {&src, &out});
  check_index_device("take_rows", idx, src);
  if (!device.is_cpu()) {  // the gather of src[idx] along axis 0, into out
    IndexPlan plan;
    try {
      plan = make_plan(Parsed{src, {{0, 0, idx}}, 0});
    } catch (const IndexError& e) {
      throw IndexError(cat("take_rows: ", e.what()));
    }
    out.prepare_write("take_rows output");
    run(plan, src, out, Move::Gather);
    return;
  }
  const int64_t n = s[0], count = idx.shape()[0];
  const int64_t row = count ? out.numel() / count * static_cast<int64_t>(src.itemsize()) : 0;
  const int64_t step = idx.strides()[0];  // in elements
  const int64_t* ip = idx.data_as<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t k = ip[i * step];
    if (k < -n || k >= n) throw IndexError(cat("take_rows: index ", k, " is out of bounds for axis 0 with size ", n));
  }
  out.prepare_write("take_rows output");
  const char* from = static_cast<const char*>(src.data());
  char* to = static_cast<char*>(out.data());
  parallel_for(count, row, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      int64_t k = ip[i * step];
      if (k < 0) k += n;
      std::memcpy(to + i * row, from + k * row, static_cast<size_t>(row));
    }
  });
}

}  // namespace fusednn
