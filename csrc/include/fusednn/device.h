// Moving tensors between the CPU and CUDA devices, and the guard of ops that run on the CPU only.
#pragma once
#include <initializer_list>
#include <string>

#include "fusednn/tensor.h"

namespace fusednn {

// x on `device`: x itself when it is already there, otherwise a new C-contiguous copy. Copies to the
// host wait for the device; copies to a device return once the host data has been taken.
Tensor to_device(const Tensor& x, Device device);

// "cpu", "cuda:0", ...
std::string device_name(Device device);

// The device an op on these tensors runs on: the one they share. A 0-d tensor on the host (a Python
// scalar) may join tensors on a device; any other mix raises ValueError naming both devices.
Device common_device(const char* op, std::initializer_list<const Tensor*> tensors);

// Throws NotImplementedError unless every defined tensor is on the CPU: the guard of CPU-only ops.
void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors);

}  // namespace fusednn
