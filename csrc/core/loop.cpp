// for_each_element: coalesce dimensions, then walk rows of the innermost dimension in parallel chunks.
#include "core/loop.h"

#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {

Dims broadcast_shapes(const Dims& a, const Dims& b) {
  const int n = std::max(a.size(), b.size());
  Dims out(n);
  for (int i = 0; i < n; ++i) {
    const int ia = i - (n - a.size()), ib = i - (n - b.size());
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw ValueError(cat("operands could not be broadcast together with shapes ", a, " ", b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Drops size-1 dimensions and merges a dimension into its inner neighbour when every operand steps
// through both as one (stride[i] == stride[i+1] * shape[i+1]).
LoopPlan plan_loop(const Dims& shape, std::initializer_list<const Tensor*> operands) {
  LoopPlan p;
  p.nops = static_cast<int>(operands.size());
  int k = 0;
  for (const Tensor* t : operands) p.base[k++] = static_cast<char*>(t->data());
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const int i = p.ndim;
    p.shape[i] = shape[d];
    k = 0;
    for (const Tensor* t : operands) p.strides[k++][i] = t->stride(d) * static_cast<int64_t>(t->itemsize());
    bool merge = i > 0;
    for (int op = 0; op < p.nops && merge; ++op) merge = p.strides[op][i - 1] == p.strides[op][i] * p.shape[i];
    if (merge) {
      p.shape[i - 1] *= p.shape[i];
      for (int op = 0; op < p.nops; ++op) p.strides[op][i - 1] = p.strides[op][i];
    } else {
      ++p.ndim;
    }
  }
  if (p.ndim == 0) {  // a single element
    p.ndim = 1;
    p.shape[0] = 1;
    for (int op = 0; op < p.nops; ++op) p.strides[op][0] = 0;
  }
  return p;
}

namespace {

// Runs the loop over flat indices [begin, end) of the plan.
void run_range(const LoopPlan& p, int64_t begin, int64_t end, InnerLoop loop, const void* ctx) {
  const int inner = p.ndim - 1;
  int64_t index[kMaxDims];
  int64_t rest = begin;
  for (int d = inner; d >= 0; --d) {
    index[d] = rest % p.shape[d];
    rest /= p.shape[d];
  }
  char* data[kMaxOperands];
  int64_t inner_strides[kMaxOperands];
  for (int op = 0; op < p.nops; ++op) inner_strides[op] = p.strides[op][inner];
  int64_t pos = begin;
  while (pos < end) {
    for (int op = 0; op < p.nops; ++op) {
      char* ptr = p.base[op];
      for (int d = 0; d <= inner; ++d) ptr += index[d] * p.strides[op][d];
      data[op] = ptr;
    }
    const int64_t n = std::min(p.shape[inner] - index[inner], end - pos);
    loop(data, inner_strides, n, ctx);
    pos += n;
    index[inner] += n;
    for (int d = inner; d > 0 && index[d] == p.shape[d]; --d) {  // carry into outer dimensions
      index[d] = 0;
      ++index[d - 1];
    }
  }
}

}  // namespace

void for_each_element(const Dims& shape, std::initializer_list<const Tensor*> operands, InnerLoop loop,
                      const void* ctx, int64_t cost) {
  const int64_t total = shape.product();
  if (total == 0) return;
  const LoopPlan plan = plan_loop(shape, operands);
  // Chunks are rounded to 64 elements so threads never share a cache line of a contiguous output.
  const int64_t blocks = (total + 63) / 64;
  parallel_for(blocks, 64 * cost, [&](int64_t b0, int64_t b1) {
    run_range(plan, b0 * 64, std::min(b1 * 64, total), loop, ctx);
  });
}

}  // namespace fusednn
