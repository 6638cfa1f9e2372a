// Random numbers from a counter-based Philox4x32-10 generator: element i of a draw takes its bits from
// counter (offset + i / E) under the key derived from the seed (E elements per 128-bit block), so values
// depend only on the seed and the offset, never on threads or ISA chunking; each draw advances the offset
// by the blocks it used.
#pragma once
#include <atomic>
#include <cstdint>

#include "fusednn/tensor.h"

namespace fusednn {

// One Philox4x32-10 block: 4 random words from a 128-bit counter and a 64-bit key (Salmon et al. 2011).
void philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { set_state(seed, 0); }
  Generator(const Generator& other) { set_state(other.seed(), other.offset()); }

  uint64_t seed() const { return seed_; }
  uint64_t key() const { return key_; }                 // splitmix64(seed)
  uint64_t offset() const { return offset_.load(); }    // the next unused counter
  void set_state(uint64_t seed, uint64_t offset);
  // Claims `blocks` counters for one draw and returns the first (atomic, so concurrent callers never share).
  uint64_t reserve(uint64_t blocks) { return offset_.fetch_add(blocks); }

 private:
  uint64_t seed_ = 0, key_ = 0;
  std::atomic<uint64_t> offset_{0};
};

// The generator the module-level functions (fnn.random.normal, nn.init) draw from.
Generator& default_generator();

// Draws into `out` (any shape, on any device; C-contiguous tensors are written in place, others through a
// temporary). A draw on a CUDA device reserves the same blocks and gives the same values as on the CPU:
// both evaluate core/philox.h with the same IEEE-rounded operations (uniform and integers are bitwise equal
// by construction; normal should be too, and is tested to float rounding).
// uniform: low + (high - low) * u, u in [0, 1) with 24 (float32) or 53 (float64) random bits; results
//          stay below high when low < high. ValueError unless low <= high and the range is finite.
// normal:  loc + scale * z, z by Box-Muller on a pair of uniforms; ValueError if scale < 0.
// integers: uniform on [low, high] (inclusive): low + floor(x * (high - low + 1) / 2^64) for 64 random
//           bits x (bias below range / 2^64). int32/int64/bool outputs; the bounds must fit the dtype.
void uniform_(Generator& gen, const Tensor& out, double low, double high);
void normal_(Generator& gen, const Tensor& out, double loc, double scale);
void integers_(Generator& gen, const Tensor& out, int64_t low, int64_t high);

Tensor uniform(Generator& gen, const Dims& shape, DType dtype, double low, double high, Device device = Device::cpu());
Tensor normal(Generator& gen, const Dims& shape, DType dtype, double loc, double scale, Device device = Device::cpu());
Tensor integers(Generator& gen, const Dims& shape, DType dtype, int64_t low, int64_t high,
                Device device = Device::cpu());

// A random permutation of 0..n-1 (int64) by Fisher-Yates; shuffle_ permutes `t` along axis 0 in place
// with the same swaps (so shuffle_(arange(n)) == permutation(n) for the same state). Both run on the host
// (the swaps are sequential): shuffle_ of a device tensor goes through a host copy.
Tensor permutation(Generator& gen, int64_t n);
void shuffle_(Generator& gen, const Tensor& t);

// The CUDA kernels of the family (cuda/random.cu), called by the driver once arguments are checked and the
// blocks reserved: `out` is a C-contiguous device tensor whose element i takes block counter + i / E of
// key's stream, exactly as the CPU loops (core/philox.h's values).
namespace cuda {
// float32/float64: low + scale * u, clamped to ceiling.
void uniform_(const Tensor& out, uint64_t key, uint64_t counter, double low, double scale, double ceiling);
// float32/float64: loc + scale * z, z standard normal by Box-Muller.
void normal_(const Tensor& out, uint64_t key, uint64_t counter, double loc, double scale);
// bool/int32/int64: low + floor(x * range / 2^64), range 0 meaning 2^64.
void integers_(const Tensor& out, uint64_t key, uint64_t counter, int64_t low, uint64_t range);
}  // namespace cuda

}  // namespace fusednn
