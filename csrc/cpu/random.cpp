// Random-number driver: the generator's state (seed -> key by splitmix64, a 64-bit block counter), argument
// checks, threading over chunks of 16 Philox blocks (or the CUDA kernels for device outputs), and
// Fisher-Yates permutations driven by the stream (on the host).
#include "fusednn/random.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/philox.h"
#include "cpu/random_kernels.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {
namespace {

// Seeds that differ in one bit give unrelated keys (Philox streams are independent for any two keys anyway).
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const cpu::RandomKernels& kernels() {
  return select_isa(cpu::ref::random_kernels, cpu::avx2::random_kernels, cpu::avx512::random_kernels);
}

// The CUDA kernel of a draw: fills the C-contiguous device tensor `out` from d's blocks.
using DeviceDraw = void (*)(const Tensor& out, const cpu::RandomDraw& d);

// Fills `out` with loop's values: reserves the blocks first, then hands whole chunks to threads (or the
// whole draw to `on_device` when out lives on a CUDA device: same blocks, same values).
void draw(Generator& gen, const Tensor& out, const cpu::RandomLoop& loop, cpu::RandomDraw d, int64_t cost,
          DeviceDraw on_device) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Tensor dst = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
  const int64_t blocks = (n + loop.per_block - 1) / loop.per_block;
  d.key = gen.key();
  d.counter = gen.reserve(static_cast<uint64_t>(blocks));
  if (!dst.device().is_cpu()) {
    on_device(dst, d);
  } else {
    const int64_t chunks = (blocks + cpu::kBlocksPerChunk - 1) / cpu::kBlocksPerChunk;
    void* data = dst.data();
    parallel_for(chunks, cost * cpu::kBlocksPerChunk * loop.per_block,
                 [&](int64_t first, int64_t last) { loop.run(data, n, first, last, d); });
  }
  if (dst.data() != out.data()) copy_into(out, dst);
}

const cpu::RandomLoop& float_loop(const cpu::RandomLoop& f32, const cpu::RandomLoop& f64, DType dtype,
                                  const char* op) {
  if (dtype == DType::Float32) return f32;
  if (dtype == DType::Float64) return f64;
  throw TypeError(cat(op, ": unsupported dtype ", dtype_name(dtype), " (float32 or float64)"));
}

// Swaps rows i and j along axis 0 for every i = n-1 .. 1 with j uniform on [0, i]: step s = n-1-i uses
// the 64 bits of element s of a raw integer draw, j = floor(x (i+1) / 2^64).
template <class Swap>
void fisher_yates(Generator& gen, int64_t n, const Swap& swap) {
  if (n < 2) return;
  Tensor bits = Tensor::empty(Dims{n - 1}, DType::Int64);
  integers_(gen, bits, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  const uint64_t* drawn = bits.data_as<uint64_t>();  // x - 2^63 (mod 2^64): a draw over all of int64
  for (int64_t i = n - 1; i >= 1; --i) {
    const uint64_t x = drawn[n - 1 - i] ^ (uint64_t{1} << 63), bound = static_cast<uint64_t>(i) + 1;
    const int64_t j = static_cast<int64_t>((static_cast<unsigned __int128>(x) * bound) >> 64);
    swap(i, j);
  }
}

}  // namespace

void philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  philox::philox4x32(counter, key, out);
}

void Generator::set_state(uint64_t seed, uint64_t offset) {
  seed_ = seed;
  key_ = splitmix64(seed);
  offset_.store(offset);
}

Generator& default_generator() {
  static Generator gen([] {
    std::random_device device;
    return (uint64_t{device()} << 32) | device();
  }());
  return gen;
}

void uniform_(Generator& gen, const Tensor& out, double low, double high) {
  out.prepare_write("uniform: output tensor");
  if (!(low <= high)) throw ValueError(cat("uniform: high - low < 0 (low=", low, ", high=", high, ")"));
  if (!std::isfinite(high - low)) throw ValueError(cat("uniform: high - low range exceeds valid bounds (low=", low, ", high=", high, ")"));
  const auto& k = kernels();
  const auto& loop = float_loop(k.uniform_f32, k.uniform_f64, out.dtype(), "uniform");
  cpu::RandomDraw d{};
  d.a = low;
  d.b = high - low;
  // The largest value of the output dtype below high, so that rounding never reaches high.
  if (out.dtype() == DType::Float32) {
    const float h = static_cast<float>(high);
    d.ceiling = h > static_cast<float>(low) ? std::nextafter(h, -INFINITY) : h;
  } else {
    d.ceiling = high > low ? std::nextafter(high, -INFINITY) : high;
  }
  draw(gen, out, loop, d, 2, [](const Tensor& t, const cpu::RandomDraw& e) {
    cuda::uniform_(t, e.key, e.counter, e.a, e.b, e.ceiling);
  });
}

void normal_(Generator& gen, const Tensor& out, double loc, double scale) {
  out.prepare_write("normal: output tensor");
  if (!(scale >= 0)) throw ValueError(cat("normal: scale < 0 (scale=", scale, ")"));
  const auto& k = kernels();
  const auto& loop = float_loop(k.normal_f32, k.normal_f64, out.dtype(), "normal");
  cpu::RandomDraw d{};
  d.a = loc;
  d.b = scale;
  draw(gen, out, loop, d, 20, [](const Tensor& t, const cpu::RandomDraw& e) {
    cuda::normal_(t, e.key, e.counter, e.a, e.b);
  });
}

void integers_(Generator& gen, const Tensor& out, int64_t low, int64_t high) {
  out.prepare_write("integers: output tensor");
  if (low > high) throw ValueError(cat("integers: low > high (low=", low, ", high=", high, " inclusive)"));
  const auto& k = kernels();
  const cpu::RandomLoop* loop = nullptr;
  int64_t lo = 0, hi = 0;
  switch (out.dtype()) {
    case DType::Bool: loop = &k.integers_bool; lo = 0; hi = 1; break;
    case DType::Int32: loop = &k.integers_i32; lo = std::numeric_limits<int32_t>::min(); hi = std::numeric_limits<int32_t>::max(); break;
    case DType::Int64: loop = &k.integers_i64; lo = std::numeric_limits<int64_t>::min(); hi = std::numeric_limits<int64_t>::max(); break;
    default: throw TypeError(cat("integers: unsupported dtype ", dtype_name(out.dtype()), " (bool, int32 or int64)"));
  }
  if (low < lo || high > hi)
    throw ValueError(cat("integers: bounds [", low, ", ", high, "] out of range for ", dtype_name(out.dtype())));
  cpu::RandomDraw d{};
  d.low = low;
  d.range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low) + 1;  // 2^64 wraps to 0
  draw(gen, out, *loop, d, 2, [](const Tensor& t, const cpu::RandomDraw& e) {
    cuda::integers_(t, e.key, e.counter, e.low, e.range);
  });
}

Tensor uniform(Generator& gen, const Dims& shape, DType dtype, double low, double high, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  uniform_(gen, out, low, high);
  return out;
}

Tensor normal(Generator& gen, const Dims& shape, DType dtype, double loc, double scale, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  normal_(gen, out, loc, scale);
  return out;
}

Tensor integers(Generator& gen, const Dims& shape, DType dtype, int64_t low, int64_t high, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  integers_(gen, out, low, high);
  return out;
}

Tensor permutation(Generator& gen, int64_t n) {
  if (n < 0) throw ValueError(cat("permutation: n must be non-negative, got ", n));
  Tensor out = Tensor::empty(Dims{n}, DType::Int64);
  int64_t* p = out.data_as<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  fisher_yates(gen, n, [p](int64_t i, int64_t j) { std::swap(p[i], p[j]); });
  return out;
}

void shuffle_(Generator& gen, const Tensor& t) {
  if (t.ndim() == 0) throw ValueError("shuffle: a 0-d tensor has no axis to shuffle");
  t.prepare_write("shuffle: output tensor");
  const int64_t n = t.shape(0);
  if (n < 2 || t.numel() == 0) return;
  if (!t.device().is_cpu()) {  // the swaps are sequential: shuffle a host copy and move it back
    const Tensor host = to_device(t, Device::cpu());
    shuffle_(gen, host);
    copy_into(t, host);
    return;
  }
  // Byte offsets of one row's elements, so rows of any layout swap element by element.
  const Tensor row = t.select(0, 0);
  const int64_t size = static_cast<int64_t>(t.itemsize());
  std::vector<int64_t> offsets{0};
  for (int axis = row.ndim() - 1; axis >= 0; --axis) {
    const size_t count = offsets.size();
    for (int64_t i = 1; i < row.shape(axis); ++i)
      for (size_t e = 0; e < count; ++e) offsets.push_back(offsets[e] + i * row.stride(axis) * size);
  }
  char* base = static_cast<char*>(t.data());
  const int64_t row_stride = t.stride(0) * size;
  const bool dense = row.is_contiguous();
  const int64_t row_bytes = row.numel() * size;
  std::vector<char> tmp(static_cast<size_t>(dense ? row_bytes : size));
  fisher_yates(gen, n, [&](int64_t i, int64_t j) {
    if (i == j) return;
    char* a = base + i * row_stride;
    char* b = base + j * row_stride;
    if (dense) {
      std::memcpy(tmp.data(), a, row_bytes);
      std::memcpy(a, b, row_bytes);
      std::memcpy(b, tmp.data(), row_bytes);
      return;
    }
    for (int64_t off : offsets) {
      std::memcpy(tmp.data(), a + off, size);
      std::memcpy(a + off, b + off, size);
      std::memcpy(b + off, tmp.data(), size);
    }
  });
}

}  // namespace fusednn
