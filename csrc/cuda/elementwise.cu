// The elementwise family on CUDA devices: so far the conversion kernel (dst = src cast elementwise,
// with NumPy's rules: nonzero -> true, float -> int out of range or NaN -> the most negative integer, as
// on x86), which serves astype, contiguous, copies into device views and fills.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "cuda/loop.cuh"
#include "fusednn/dtype.h"
#include "fusednn/elementwise.h"

namespace fusednn::cuda {
namespace {

template <class To, class From>
__device__ inline To convert(From x) {
  if constexpr (std::is_same_v<To, bool>) {
    return x != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    constexpr From limit = From(-static_cast<double>(std::numeric_limits<To>::min()));
    return x >= -limit && x < limit ? static_cast<To>(x) : std::numeric_limits<To>::min();
  } else {
    return static_cast<To>(x);
  }
}

template <class To, class From>
struct Convert {
  __device__ void operator()(char* const* at) const {
    *reinterpret_cast<To*>(at[0]) = convert<To>(*reinterpret_cast<const From*>(at[1]));
  }
};

}  // namespace

void cast_into(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), [&](auto to) {
    visit_dtype(src.dtype(), [&](auto from) {
      using To = decltype(to);
      using From = decltype(from);
      for_each_element<2>(dst.shape(), {&dst, &src}, dst.device().index, Convert<To, From>{});
    });
  });
}

}  // namespace fusednn::cuda
