// The per-ISA half of the random family: Philox4x32-10 blocks generated 16 at a time (lanes of a vector)
// and turned into uniform, normal and integer values. Defined in random_loops.cpp, compiled once per ISA.
#pragma once
#include <cstdint>

#include "fusednn/isa.h"

namespace fusednn::cpu {

// Blocks per chunk: the unit of work and of threading, so chunk c always covers the same elements.
constexpr int kBlocksPerChunk = 16;

// One draw's parameters. Element i uses block (counter + i / per_block) of the key's stream.
struct RandomDraw {
  uint64_t key, counter;
  double a, b, ceiling;  // uniform: low, high - low, largest value below high; normal: loc, scale
  int64_t low;           // integers: low + floor(x * range / 2^64), range 0 meaning 2^64
  uint64_t range;
};

// Writes the elements of chunks [first, last) of an n-element contiguous output.
using RandomChunks = void (*)(void* out, int64_t n, int64_t first, int64_t last, const RandomDraw& d);

struct RandomLoop {
  int per_block;  // elements one 128-bit block yields
  RandomChunks run;
};

struct RandomKernels {
  RandomLoop uniform_f32, uniform_f64, normal_f32, normal_f64, integers_bool, integers_i32, integers_i64;
};

}  // namespace fusednn::cpu

FUSEDNN_DECLARE_PER_ISA(RandomKernels, random_kernels)
