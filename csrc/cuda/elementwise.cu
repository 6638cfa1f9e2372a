// The elementwise family on CUDA devices: conversions, every unary and binary op, where and clip. What
// each op computes is core/elementwise_ops.h, shared with the CPU loops; DeviceMath maps its math to
// CUDA's libm, and the device loop engine (loop.cuh) runs one thread per element.
#include <cmath>
#include <cstdint>

#include "core/elementwise_ops.h"
#include "cuda/loop.cuh"
#include "fusednn/dtype.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"

namespace fusednn::cuda {
namespace {

struct DeviceMath {
  using Flag = int;  // in device memory; set to 1 by any thread that meets a negative integer exponent
  FUSEDNN_HD static void raise(Flag* flag) { *flag = 1; }
  template <class T> FUSEDNN_HD static T abs(T x) { return ::fabs(x); }
  template <class T> FUSEDNN_HD static T sqrt(T x) { return ::sqrt(x); }
  template <class T> FUSEDNN_HD static T exp(T x) { return ::exp(x); }
  template <class T> FUSEDNN_HD static T expm1(T x) { return ::expm1(x); }
  template <class T> FUSEDNN_HD static T log(T x) { return ::log(x); }
  template <class T> FUSEDNN_HD static T log1p(T x) { return ::log1p(x); }
  template <class T> FUSEDNN_HD static T tanh(T x) { return ::tanh(x); }
  template <class T> FUSEDNN_HD static T sigmoid(T x) {  // stable: e^x never overflows in the branch used
    const T e = ::exp(-::fabs(x));
    return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
  }
  template <class T> FUSEDNN_HD static T floor(T x) { return ::floor(x); }
  template <class T> FUSEDNN_HD static T ceil(T x) { return ::ceil(x); }
  template <class T> FUSEDNN_HD static T round(T x) { return ::rint(x); }  // half to even
  template <class T> FUSEDNN_HD static T copysign(T x, T y) { return ::copysign(x, y); }
  template <class T> FUSEDNN_HD static T fmod(T a, T b) { return ::fmod(a, b); }
  template <class T> FUSEDNN_HD static T pow(T a, T b) { return ::pow(a, b); }
  template <class T> FUSEDNN_HD static T sin_cos(T x, int cos_shift) { return cos_shift ? ::cos(x) : ::sin(x); }
  template <class T> FUSEDNN_HD static bool trig_needs_fallback(T) { return false; }
  template <class T> FUSEDNN_HD static T sin_cos_exact(T x, int cos_shift) { return sin_cos(x, cos_shift); }
};
using Ops = ElementwiseOps<DeviceMath>;

template <class T> __device__ inline T& at(char* p) { return *reinterpret_cast<T*>(p); }

template <class Out, class T, class F> struct UnaryElement {
  F f;
  __device__ void operator()(char* const* p) const { at<Out>(p[0]) = f(at<T>(p[1])); }
};
template <class Out, class T, class F> struct BinaryElement {
  F f;
  __device__ void operator()(char* const* p) const { at<Out>(p[0]) = f(at<T>(p[1]), at<T>(p[2])); }
};
template <class P, class T, class F> struct TernaryElement {
  F f;
  __device__ void operator()(char* const* p) const { at<T>(p[0]) = f(at<P>(p[1]), at<T>(p[2]), at<T>(p[3])); }
};

using UnaryLaunch = void (*)(const Tensor& out, const Tensor& x, const void* ctx);
using BinaryLaunch = void (*)(const Tensor& out, const Tensor& a, const Tensor& b, const void* ctx);

template <class F, class T> void launch_unary(const Tensor& out, const Tensor& x, const void* ctx) {
  using Out = typename F::template out<T>;
  for_each_element<2>(out.shape(), {&out, &x}, out.device().index, UnaryElement<Out, T, F>{F(ctx)});
}
template <class F, class T> void launch_binary(const Tensor& out, const Tensor& a, const Tensor& b, const void* ctx) {
  using Out = typename F::template out<T>;
  for_each_element<3>(out.shape(), {&out, &a, &b}, out.device().index, BinaryElement<Out, T, F>{F(ctx)});
}

template <class F, class T> constexpr UnaryLaunch unary_entry() {
  if constexpr (F::template supports<T>) return &launch_unary<F, T>;
  else return nullptr;
}
template <class F, class T> constexpr BinaryLaunch binary_entry() {
  if constexpr (F::template supports<T>) return &launch_binary<F, T>;
  else return nullptr;
}

// Launchers per op and dtype, filled from the op list both backends share.
struct Table {
  UnaryLaunch unary_rows[static_cast<int>(UnaryOp::Count)][kNumDTypes] = {};
  BinaryLaunch binary_rows[static_cast<int>(BinaryOp::Count)][kNumDTypes] = {};
  template <class F> void unary(UnaryOp op) {
    UnaryLaunch* row = unary_rows[static_cast<int>(op)];
    for_each_dtype([&](auto zero) { row[index<decltype(zero)>()] = unary_entry<F, decltype(zero)>(); });
  }
  template <class F> void binary(BinaryOp op) {
    BinaryLaunch* row = binary_rows[static_cast<int>(op)];
    for_each_dtype([&](auto zero) { row[index<decltype(zero)>()] = binary_entry<F, decltype(zero)>(); });
  }
  template <class T> static int index() { return static_cast<int>(dtype_of<T>::value); }
};

const Table& table() {
  static const Table t = [] {
    Table made;
    Ops::register_all(made);
    return made;
  }();
  return t;
}

template <class Launch>
Launch checked(Launch launch) {
  // The driver picks ops and dtypes through the CPU table, which the same op list fills.
  if (launch == nullptr) throw TypeError("elementwise op has no CUDA kernel for this dtype");
  return launch;
}

// A device int, zeroed, for the integer-power flag; read back with a synchronising copy.
class DeviceFlag {
 public:
  explicit DeviceFlag(int device) : device_(device), ptr_(allocate(sizeof(int), device, &capacity_)) {
    const int zero = 0;
    copy_host_to_device(ptr_, &zero, sizeof(int), device_);
  }
  ~DeviceFlag() { release(ptr_, capacity_, device_); }
  DeviceFlag(const DeviceFlag&) = delete;
  DeviceFlag& operator=(const DeviceFlag&) = delete;
  int* get() const { return static_cast<int*>(ptr_); }
  bool raised() const {
    int value = 0;
    copy_device_to_host(&value, ptr_, sizeof(int), device_);
    return value != 0;
  }

 private:
  int device_;
  size_t capacity_ = 0;
  void* ptr_;
};

}  // namespace

void cast_into(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), [&](auto to) {
    visit_dtype(src.dtype(), [&](auto from) {
      using To = decltype(to);
      using From = decltype(from);
      for_each_element<2>(dst.shape(), {&dst, &src}, dst.device().index,
                          UnaryElement<To, From, Ops::CastTo<To>>{Ops::CastTo<To>(nullptr)});
    });
  });
}

void unary(UnaryOp op, const Tensor& out, const Tensor& x, const void* ctx) {
  checked(table().unary_rows[static_cast<int>(op)][static_cast<int>(x.dtype())])(out, x, ctx);
}

bool binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const BinaryLaunch launch = checked(table().binary_rows[static_cast<int>(op)][static_cast<int>(a.dtype())]);
  if (op != BinaryOp::Pow || is_floating(a.dtype())) {
    launch(out, a, b, nullptr);
    return false;
  }
  const DeviceFlag negative_exponent(out.device().index);
  launch(out, a, b, negative_exponent.get());
  return negative_exponent.raised();
}

void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  visit_dtype(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_element<4>(out.shape(), {&out, &condition, &a, &b}, out.device().index,
                        TernaryElement<bool, T, Ops::Select>{Ops::Select(nullptr)});
  });
}

void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi) {
  visit_dtype(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_element<4>(out.shape(), {&out, &x, &lo, &hi}, out.device().index,
                        TernaryElement<T, T, Ops::Clamp>{Ops::Clamp(nullptr)});
  });
}

}  // namespace fusednn::cuda
