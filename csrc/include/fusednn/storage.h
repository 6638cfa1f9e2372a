// Storage: a refcounted block of memory that tensors view, on the CPU or a CUDA device. New blocks come
// from caching allocators (CPU: 64-byte aligned, huge-page aligned when large) so that training loops
// reuse memory instead of page-faulting or calling cudaMalloc on every large temporary. Borrowed blocks
// belong to someone else (NumPy, DLPack).
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>

namespace fusednn {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  static Device cpu() { return {}; }
  static Device cuda(int index) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  friend bool operator==(Device a, Device b) { return a.type == b.type && a.index == b.index; }
  friend bool operator!=(Device a, Device b) { return !(a == b); }
};

class Storage {
 public:
  // New memory of at least nbytes from the device's caching allocator.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device = Device::cpu());
  // Memory owned elsewhere; `owner` is released when the last tensor viewing it goes away.
  static std::shared_ptr<Storage> borrow(void* data, size_t nbytes, std::shared_ptr<void> owner,
                                         Device device, bool writable);

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool writable() const { return writable_; }
  // Counts in-place writes, so autograd can tell that a tensor it saved for backward has changed since.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }
  // Sets the version to max(version, v) + 1 in one step: for a tensor that takes this storage over from
  // one at version v (_set_data), so that autograd sees the change whichever storage it saved.
  void bump_version_past(uint64_t v);

 private:
  Storage(void* data, size_t nbytes, size_t capacity, std::shared_ptr<void> owner, Device device, bool writable)
      : data_(data), nbytes_(nbytes), capacity_(capacity), owner_(std::move(owner)), device_(device), writable_(writable) {}
  void* data_;
  size_t nbytes_;
  size_t capacity_;              // size of the allocator block; 0 for borrowed memory
  std::shared_ptr<void> owner_;  // set for borrowed memory
  Device device_;
  bool writable_;
  std::atomic<uint64_t> version_{0};
};

// The CPU caching allocator, also used directly by kernels for scratch space (packed GEMM panels).
namespace cpu_allocator {
void* allocate(size_t nbytes, size_t* capacity);  // capacity receives the block's real size
void release(void* ptr, size_t capacity);
struct Stats {
  size_t allocated_bytes;  // held by live storages
  size_t cached_bytes;     // free blocks kept for reuse
  size_t cache_limit_bytes;
};
Stats stats();
void empty_cache();
void set_cache_limit(size_t bytes);
}  // namespace cpu_allocator

}  // namespace fusednn
