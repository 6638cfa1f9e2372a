// The caching device allocator: cudaMalloc is slow and synchronises the device, so freed blocks are kept
// per device in size classes (512 bytes, then four classes per power of two: at most 25% slack) and
// handed out again. All of a device's work runs on its one stream, so a block freed while kernels that
// use it are still queued can be reused at once: the next user's kernels queue behind them.
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <vector>

#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"

namespace fusednn::cuda {
namespace {

constexpr size_t kMinBlock = 512;

size_t class_size(size_t n) {
  if (n <= kMinBlock) return kMinBlock;
  const int k = 63 - __builtin_clzll(n - 1);  // 2^k < n <= 2^(k+1)
  const size_t quarter = size_t{1} << (k - 2);
  return (n + quarter - 1) / quarter * quarter;
}

struct DeviceCache {
  std::map<size_t, std::vector<void*>> free_blocks;  // class size -> blocks
  size_t allocated = 0;
  size_t cached = 0;
};

struct Caches {
  std::mutex mutex;
  std::vector<DeviceCache> devices;
};

Caches& caches() {
  static Caches* c = [] {
    auto* made = new Caches();  // never destroyed: storages may outlive static destruction
    made->devices.resize(device_count());
    return made;
  }();
  return *c;
}

// Frees one device's cached blocks; the caller holds the mutex. Waits for the device first: a cached
// block may still be read by queued kernels.
void free_cached(DeviceCache& cache, int device) {
  if (cache.cached == 0) return;
  DeviceGuard guard(device);
  cudaStreamSynchronize(as_stream(stream(device)));
  for (auto& [size, list] : cache.free_blocks)
    for (void* p : list) cudaFree(p);
  cache.free_blocks.clear();
  cache.cached = 0;
}

}  // namespace

void* allocate(size_t nbytes, int device, size_t* capacity) {
  check_device(device);
  const size_t size = class_size(nbytes);
  Caches& c = caches();
  std::lock_guard<std::mutex> lock(c.mutex);
  DeviceCache& cache = c.devices[device];
  auto it = cache.free_blocks.find(size);
  if (it != cache.free_blocks.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    cache.cached -= size;
    cache.allocated += size;
    *capacity = size;
    return p;
  }
  DeviceGuard guard(device);
  void* p = nullptr;
  if (cudaMalloc(&p, size) != cudaSuccess) {  // give the cache back to the driver and try once more
    cudaGetLastError();
    free_cached(cache, device);
    if (cudaMalloc(&p, size) != cudaSuccess) {
      cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      throw MemoryError(cat("fusednn: cannot allocate ", nbytes, " bytes on cuda:", device, " (",
                            free_bytes >> 20, " MiB free of ", total_bytes >> 20, " MiB; ", cache.allocated >> 20,
                            " MiB held by fusednn tensors)"));
    }
  }
  cache.allocated += size;
  *capacity = size;
  return p;
}

void release(void* ptr, size_t capacity, int device) {
  Caches& c = caches();
  std::lock_guard<std::mutex> lock(c.mutex);
  DeviceCache& cache = c.devices[device];
  cache.allocated -= capacity;
  cache.free_blocks[capacity].push_back(ptr);
  cache.cached += capacity;
}

MemoryStats memory_stats(int device) {
  if (device < 0 || device >= device_count()) return {0, 0};
  Caches& c = caches();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.devices[device].allocated, c.devices[device].cached};
}

void empty_cache() {
  Caches& c = caches();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (int d = 0; d < static_cast<int>(c.devices.size()); ++d) free_cached(c.devices[d], d);
}

}  // namespace fusednn::cuda
