// The CUDA runtime layer: device queries, one stream per device, host/device copies. The runtime is
// linked statically, so with no driver or no GPU the queries fail cleanly and report zero devices
// instead of failing the import.
#include <cuda_runtime.h>

#include <mutex>
#include <vector>

#include "cuda/check.cuh"
#include "fusednn/cuda.h"
#include "fusednn/errors.h"

namespace fusednn::cuda {

bool is_built() { return true; }

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later queries start clean
      return 0;
    }
    return n;
  }();
  return count;
}

std::string runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

void check_device(int device) {
  const int count = device_count();
  if (count == 0)
    throw RuntimeError("no CUDA device is available (no GPU, or no NVIDIA driver): fnn.cuda.is_available() is "
                       "False; keep the tensors on the CPU");
  if (device < 0 || device >= count)
    throw RuntimeError(cat("CUDA device ", device, " does not exist: ", count, " device(s) are visible (cuda:0 to cuda:",
                           count - 1, ")"));
}

void* stream(int device) {
  check_device(device);
  static std::mutex mutex;
  static std::vector<cudaStream_t> streams(device_count(), nullptr);
  std::lock_guard<std::mutex> lock(mutex);
  if (streams[device] == nullptr) {
    DeviceGuard guard(device);
    check(cudaStreamCreateWithFlags(&streams[device], cudaStreamNonBlocking), "creating a stream");
  }
  return streams[device];
}

void synchronize(int device) {
  check(cudaStreamSynchronize(as_stream(stream(device))), "synchronize");
}

void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  DeviceGuard guard(device);
  check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, as_stream(stream(device))), "copy to the device");
}

void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream(device));
  check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s), "copy to the host");
  check(cudaStreamSynchronize(s), "copy to the host");
}

void copy_device_to_device(void* dst, int dst_device, const void* src, int src_device, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device != src_device) synchronize(dst_device);  // the destination's earlier work may still use dst
  DeviceGuard guard(src_device);
  check(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, nbytes, as_stream(stream(src_device))),
        "copy between devices");
  if (dst_device != src_device) synchronize(src_device);  // later work on dst_device's stream may read dst
}

}  // namespace fusednn::cuda
