// The CUDA runtime layer: device queries, the caching device allocator, the per-device stream and
// host/device copies. Every build answers these calls (no_cuda.cpp when CUDA was not built), so callers
// never need #ifdefs: without CUDA or without a device, allocation and copies raise a clear error.
#pragma once
#include <cstddef>
#include <string>

namespace fusednn::cuda {

bool is_built();                // this build has CUDA kernels
int device_count();             // 0 when there is no driver or no GPU; never throws
std::string runtime_version();  // e.g. "13.0"; empty when not built

// Throws RuntimeError naming the problem unless `device` can be used now (built, present, in range).
void check_device(int device);

// Device memory of at least nbytes from `device`'s caching allocator. Freed blocks are reused by later
// allocations in stream order (all work on a device goes to its one stream), so release never waits.
void* allocate(size_t nbytes, int device, size_t* capacity);  // capacity receives the block's real size
void release(void* ptr, size_t capacity, int device);

struct MemoryStats {
  size_t allocated_bytes;  // held by live tensors
  size_t cached_bytes;     // free blocks kept for reuse
};
MemoryStats memory_stats(int device);
void empty_cache();  // returns every device's free blocks to the driver

// The stream all of `device`'s work goes on (a cudaStream_t), created on first use.
void* stream(int device);
// Waits until all work queued on `device` has finished.
void synchronize(int device);

// Byte copies on `device`'s stream. Copies to the host wait for the stream, so the host can read the
// result as soon as they return; the others return at once.
void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_device(void* dst, int dst_device, const void* src, int src_device, size_t nbytes);

}  // namespace fusednn::cuda
