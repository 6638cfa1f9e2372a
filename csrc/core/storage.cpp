// Storage lifetimes, and the CPU caching allocator (device blocks go to cuda/allocator.cu). Freed blocks
// are kept in size classes (four per power of two, so at most 25% slack) and handed out again; blocks of
// 4 MiB and more are 2 MiB aligned and advised as transparent huge pages, which cuts page faults and TLB
// misses on big tensors.
#include "fusednn/storage.h"

#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "fusednn/cuda.h"
#include "fusednn/errors.h"

namespace fusednn {
namespace cpu_allocator {
namespace {

constexpr size_t kMinBlock = 64;
constexpr size_t kHugeThreshold = size_t{4} << 20;
constexpr size_t kHugeAlign = size_t{2} << 20;
constexpr int kClasses = 4 * 64;

// Rounds n up to a size class: 64 bytes, then five to eight quarters of each power of two.
size_t class_size(size_t n, int* cls) {
  if (n <= kMinBlock) {
    *cls = 0;
    return kMinBlock;
  }
  const int k = 63 - __builtin_clzll(n - 1);  // 2^k < n <= 2^(k+1), k >= 6
  const size_t quarter = size_t{1} << (k - 2);
  const size_t m = (n + quarter - 1) / quarter;  // 5..8
  *cls = 4 * k + static_cast<int>(m) - 5;
  return m * quarter;
}

struct Cache {
  std::mutex mutex;
  std::vector<void*> free_blocks[kClasses];
  size_t allocated = 0;
  size_t cached = 0;
  size_t limit = size_t{2} << 30;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storages may outlive static destruction
  return *c;
}

void* system_allocate(size_t size) {
  const size_t align = size >= kHugeThreshold ? kHugeAlign : kMinBlock;
  void* p = std::aligned_alloc(align, (size + align - 1) / align * align);
  if (p && size >= kHugeThreshold) madvise(p, size, MADV_HUGEPAGE);
  return p;
}

void free_all_cached(Cache& c) {
  for (auto& list : c.free_blocks) {
    for (void* p : list) std::free(p);
    list.clear();
  }
  c.cached = 0;
}

}  // namespace

void* allocate(size_t nbytes, size_t* capacity) {
  int cls = 0;
  const size_t size = class_size(nbytes, &cls);
  if (cls >= kClasses) throw MemoryError(cat("fusednn: cannot allocate ", nbytes, " bytes"));
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto& list = c.free_blocks[cls];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      c.cached -= size;
      c.allocated += size;
      *capacity = size;
      return p;
    }
  }
  void* p = system_allocate(size);
  if (!p) {  // give the cache back to the system and try once more
    std::lock_guard<std::mutex> lock(c.mutex);
    free_all_cached(c);
    p = system_allocate(size);
  }
  if (!p) throw MemoryError(cat("fusednn: cannot allocate ", nbytes, " bytes (", nbytes / double(1 << 30), " GiB)"));
  std::lock_guard<std::mutex> lock(c.mutex);
  c.allocated += size;
  *capacity = size;
  return p;
}

void release(void* ptr, size_t capacity) {
  int cls = 0;
  class_size(capacity, &cls);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.allocated -= capacity;
  if (c.cached + capacity > c.limit) {
    std::free(ptr);
    return;
  }
  c.free_blocks[cls].push_back(ptr);
  c.cached += capacity;
}

Stats stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.allocated, c.cached, c.limit};
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  free_all_cached(c);
}

void set_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.limit = bytes;
  if (c.cached > bytes) free_all_cached(c);
}

}  // namespace cpu_allocator

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  size_t capacity = 0;
  void* data = device.is_cpu() ? cpu_allocator::allocate(nbytes, &capacity)
                               : cuda::allocate(nbytes, device.index, &capacity);
  return std::shared_ptr<Storage>(new Storage(data, nbytes, capacity, nullptr, device, true));
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t nbytes, std::shared_ptr<void> owner, Device device,
                                         bool writable) {
  return std::shared_ptr<Storage>(new Storage(data, nbytes, 0, std::move(owner), device, writable));
}

void Storage::bump_version_past(uint64_t v) {
  uint64_t current = version_.load(std::memory_order_relaxed);
  // retried only when another thread bumped the version in between (or the weak exchange failed spuriously)
  while (!version_.compare_exchange_weak(current, (current > v ? current : v) + 1, std::memory_order_relaxed)) {}
}

Storage::~Storage() {
  if (capacity_ == 0) return;
  if (device_.is_cpu()) cpu_allocator::release(data_, capacity_);
  else cuda::release(data_, capacity_, device_.index);
}

}  // namespace fusednn
