// The elementwise loop engine shared by every family: operands that are already broadcast to one shape
// are walked NumPy style, dimensions coalesced, rows handed to an ISA inner loop, chunks to threads.
#pragma once
#include <cstdint>
#include <initializer_list>

#include "fusednn/tensor.h"

namespace fusednn {

constexpr int kMaxOperands = 4;

// An inner loop: data[k] points at operand k's first element (operand 0 is the output), strides[k] is
// its byte stride, n the element count. ctx carries the op's parameters (or nullptr).
using InnerLoop = void (*)(char* const* data, const int64_t* strides, int64_t n, const void* ctx);

// The operands of a loop over one shape, with size-1 dimensions dropped and dimensions merged wherever
// every operand steps through them as one (so a contiguous loop has one dimension). Strides in bytes.
struct LoopPlan {
  int ndim = 0;
  int nops = 0;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxOperands][kMaxDims];
  char* base[kMaxOperands];
};
LoopPlan plan_loop(const Dims& shape, std::initializer_list<const Tensor*> operands);

// Broadcast shape of two shapes; ValueError naming both when they do not broadcast.
Dims broadcast_shapes(const Dims& a, const Dims& b);

// Calls `loop` over every element of `shape`. Each operand must have exactly `shape` (expand first).
// `cost` is the work per element in element operations (1 for add, ~10 for exp) and only decides
// whether to use threads; chunk bounds never depend on data, so results do not depend on threads.
void for_each_element(const Dims& shape, std::initializer_list<const Tensor*> operands, InnerLoop loop,
                      const void* ctx, int64_t cost);

}  // namespace fusednn
