// Moving tensors between the CPU and CUDA devices (byte copies through the CUDA runtime layer), and the
// guard that keeps device tensors out of CPU kernels.
#include "fusednn/device.h"

#include "fusednn/cuda.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"

namespace fusednn {
namespace {
size_t nbytes(const Tensor& t) { return static_cast<size_t>(t.numel()) * t.itemsize(); }
}  // namespace

std::string device_name(Device device) { return device.is_cpu() ? "cpu" : cat("cuda:", device.index); }

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  if (x.device().is_cpu()) {
    const Tensor src = contiguous(x);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
    cuda::copy_host_to_device(out.data(), src.data(), nbytes(src), device.index);
    return out;
  }
  if (!x.is_contiguous()) return to_device(contiguous(x), device);  // contiguous on x's device first
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  if (device.is_cpu()) cuda::copy_device_to_host(out.data(), x.data(), nbytes(x), x.device().index);
  else cuda::copy_device_to_device(out.data(), device.index, x.data(), x.device().index, nbytes(x));
  return out;
}

Device common_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (t == nullptr || !t->defined() || (t->device().is_cpu() && t->ndim() == 0)) continue;
    if (first == nullptr) first = t;
    else if (t->device() != first->device())
      throw ValueError(cat(op, ": expected all tensors on one device, but found tensors on ",
                           device_name(first->device()), " and ", device_name(t->device())));
  }
  return first ? first->device() : Device::cpu();
}

void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (t != nullptr && t->defined() && !t->device().is_cpu())
      throw NotImplementedError(cat(op, " does not run on CUDA tensors yet (got a tensor on ", device_name(t->device()),
                                    "); move it to the host with .cpu() first"));
}

}  // namespace fusednn
