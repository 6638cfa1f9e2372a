// Normalization driver: argument checks, devices, contiguous copies, ones/zeros for a missing affine, threading
// over rows (layer norm), columns (its parameter gradients) and channels (batch norm), or the CUDA kernels for
// device tensors; dropout draws its uniforms chunk by chunk from the random family's Philox loop and masks in
// the same pass.
#include "fusednn/normalization.h"

#include <cmath>

#include "cpu/normalization_kernels.h"
#include "cpu/random_kernels.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/parallel.h"

namespace fusednn {
namespace {

const cpu::NormKernels& kernels() {
  return select_isa(cpu::ref::norm_kernels, cpu::avx2::norm_kernels, cpu::avx512::norm_kernels);
}

template <class T>
const cpu::NormLoops<T>& loops() {
  if constexpr (std::is_same_v<T, float>) return kernels().f32;
  else return kernels().f64;
}

// Calls f(T{}) for float32/float64 x; TypeError otherwise.
template <class F>
decltype(auto) visit_float(const Tensor& x, const char* op, F&& f) {
  if (x.dtype() == DType::Float32) return f(float{});
  if (x.dtype() == DType::Float64) return f(double{});
  throw TypeError(cat(op, ": expected a float32 or float64 input, got ", dtype_name(x.dtype())));
}

// A contiguous parameter of `n` elements in x's dtype on `device`, or `fill` values when undefined.
Tensor param_or(const Tensor& p, int64_t n, DType dtype, Device device, double fill, const char* op,
                const char* name) {
  if (!p.defined()) {
    Tensor t = Tensor::empty({n}, dtype, device);
    fusednn::fill(t, fill);
    return t;
  }
  if (p.numel() != n)
    throw ValueError(cat(op, ": ", name, " has shape ", p.shape(), " but the normalized size is ", n));
  return to_device(contiguous(p.dtype() == dtype ? p : astype(p, dtype)), device);
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() != b.shape()) throw ValueError(cat(op, ": gradient shape ", a.shape(), " != input shape ", b.shape()));
}

// t contiguous, in `dtype`, on `device` (common_device has checked that only a 0-d host tensor moves).
Tensor same_dtype(const Tensor& t, DType dtype, Device device) {
  return to_device(contiguous(t.dtype() == dtype ? t : astype(t, dtype)), device);
}

// (N, C, L) sizes of a batch-norm input.
void bn_sizes(const Tensor& x, int64_t& N, int64_t& C, int64_t& L) {
  if (x.ndim() != 2 && x.ndim() != 3)
    throw ValueError(cat("batch_norm: expected a 2-D (N, C) or 3-D (N, C, L) input, got shape ", x.shape()));
  N = x.shape(0), C = x.shape(1), L = x.ndim() == 3 ? x.shape(2) : 1;
}

}  // namespace

NormForward layer_norm(const Tensor& x_in, int64_t D, const Tensor& weight, const Tensor& bias, double eps) {
  return visit_float(x_in, "layer_norm", [&](auto zero) {
    using T = decltype(zero);
    if (D <= 0 || x_in.numel() % D != 0 || (x_in.numel() == 0 && D == 0))
      throw ValueError(cat("layer_norm: input of shape ", x_in.shape(), " cannot be normalized over ", D, " elements"));
    const Device device = common_device("layer_norm", {&x_in, &weight, &bias});
    const Tensor x = same_dtype(x_in, x_in.dtype(), device);
    const int64_t rows = x.numel() / D;
    const Tensor w = param_or(weight, D, x.dtype(), device, 1, "layer_norm", "weight");
    const Tensor b = param_or(bias, D, x.dtype(), device, 0, "layer_norm", "bias");
    NormForward out;
    out.y = Tensor::empty(x.shape(), x.dtype(), device);
    out.mean = Tensor::empty({rows}, x.dtype(), device);
    out.rstd = Tensor::empty({rows}, x.dtype(), device);
    if (!device.is_cpu()) {
      cuda::layer_norm(x, w, b, out.y, out.mean, out.rstd, D, eps);
      return out;
    }
    const auto& k = loops<T>();
    parallel_for(rows, 4 * D, [&](int64_t r0, int64_t r1) {
      k.ln_forward(x.data_as<T>(), w.data_as<T>(), b.data_as<T>(), out.y.data_as<T>(), out.mean.data_as<T>(),
                   out.rstd.data_as<T>(), r0, r1, D, eps);
    });
    return out;
  });
}

NormGrads layer_norm_backward(const Tensor& dy_in, const Tensor& x_in, const Tensor& mean, const Tensor& rstd,
                              const Tensor& weight, int64_t D, bool need_dx, bool need_dweight, bool need_dbias) {
  check_same_shape(dy_in, x_in, "layer_norm_backward");
  return visit_float(x_in, "layer_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    const Device device = common_device("layer_norm_backward", {&dy_in, &x_in, &mean, &rstd, &weight});
    const Tensor x = same_dtype(x_in, x_in.dtype(), device), dy = same_dtype(dy_in, x.dtype(), device);
    const int64_t rows = x.numel() / D;
    const Tensor w = param_or(weight, D, x.dtype(), device, 1, "layer_norm", "weight");
    const Tensor m = same_dtype(mean, x.dtype(), device), q = same_dtype(rstd, x.dtype(), device);
    NormGrads g;
    if (!device.is_cpu()) {
      if (need_dx) g.dx = Tensor::empty(x.shape(), x.dtype(), device);
      if (need_dweight) g.dweight = Tensor::empty({D}, x.dtype(), device);
      if (need_dbias) g.dbias = Tensor::empty({D}, x.dtype(), device);
      cuda::layer_norm_backward(dy, x, w, m, q, D, g.dx, g.dweight, g.dbias);
      return g;
    }
    const auto& k = loops<T>();
    if (need_dx) {
      g.dx = Tensor::empty(x.shape(), x.dtype());
      parallel_for(rows, 6 * D, [&](int64_t r0, int64_t r1) {
        k.ln_backward_dx(dy.data_as<T>(), x.data_as<T>(), w.data_as<T>(), m.data_as<T>(), q.data_as<T>(),
                         g.dx.data_as<T>(), r0, r1, D);
      });
    }
    if (need_dweight || need_dbias) {
      Tensor dw = Tensor::empty({D}, x.dtype()), db = Tensor::empty({D}, x.dtype());
      // Column blocks of 64: each thread owns whole output columns, so no reduction across threads.
      const int64_t blocks = (D + 63) / 64;
      parallel_for(blocks, 4 * 64 * rows, [&](int64_t b0, int64_t b1) {
        k.ln_backward_params(dy.data_as<T>(), x.data_as<T>(), m.data_as<T>(), q.data_as<T>(), dw.data_as<T>(),
                             db.data_as<T>(), rows, D, b0 * 64, std::min(D, b1 * 64));
      });
      if (need_dweight) g.dweight = dw;
      if (need_dbias) g.dbias = db;
    }
    return g;
  });
}

NormForward batch_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double eps) {
  return visit_float(x_in, "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    int64_t N, C, L;
    bn_sizes(x_in, N, C, L);
    if (training && N * L < 2)
      throw ValueError(cat("batch_norm: expected more than 1 value per channel when training, got input shape ",
                           x_in.shape()));
    const Device device = common_device("batch_norm", {&x_in, &weight, &bias, &running_mean, &running_var});
    const Tensor x = same_dtype(x_in, x_in.dtype(), device);
    const Tensor w = param_or(weight, C, x.dtype(), device, 1, "batch_norm", "weight");
    const Tensor b = param_or(bias, C, x.dtype(), device, 0, "batch_norm", "bias");
    NormForward out;
    if (training) {
      out.mean = Tensor::empty({C}, x.dtype(), device);
      out.var = Tensor::empty({C}, x.dtype(), device);
      if (!device.is_cpu()) {
        cuda::batch_norm_stats(x, out.mean, out.var, N, C, L);
      } else {
        const auto& k = loops<T>();
        parallel_for(C, 3 * N * L, [&](int64_t c0, int64_t c1) {
          k.bn_stats(x.data_as<T>(), out.mean.data_as<T>(), out.var.data_as<T>(), N, C, L, c0, c1);
        });
      }
    } else {
      if (!running_mean.defined() || !running_var.defined())
        throw ValueError("batch_norm: evaluation without running statistics needs training=True");
      out.mean = param_or(running_mean, C, x.dtype(), device, 0, "batch_norm", "running_mean");
      out.var = param_or(running_var, C, x.dtype(), device, 1, "batch_norm", "running_var");
    }
    out.rstd = Tensor::empty({C}, x.dtype(), device);
    out.y = Tensor::empty(x.shape(), x.dtype(), device);
    if (!device.is_cpu()) {
      cuda::batch_norm_apply(x, out.mean, out.var, w, b, out.rstd, out.y, N, C, L, eps);
      if (!training) out.var = Tensor();
      return out;
    }
    const T* v = out.var.data_as<T>();
    T* q = out.rstd.data_as<T>();
    for (int64_t c = 0; c < C; ++c) q[c] = T(1 / std::sqrt(double(v[c]) + eps));
    parallel_for(C, 2 * N * L, [&](int64_t c0, int64_t c1) {
      loops<T>().bn_apply(x.data_as<T>(), out.mean.data_as<T>(), q, w.data_as<T>(), b.data_as<T>(),
                          out.y.data_as<T>(), N, C, L, c0, c1);
    });
    if (!training) out.var = Tensor();
    return out;
  });
}

NormGrads batch_norm_backward(const Tensor& dy_in, const Tensor& x_in, const Tensor& mean, const Tensor& rstd,
                              const Tensor& weight, bool training, bool need_dx, bool need_dweight, bool need_dbias) {
  check_same_shape(dy_in, x_in, "batch_norm_backward");
  return visit_float(x_in, "batch_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    int64_t N, C, L;
    bn_sizes(x_in, N, C, L);
    const Device device = common_device("batch_norm_backward", {&dy_in, &x_in, &mean, &rstd, &weight});
    const Tensor x = same_dtype(x_in, x_in.dtype(), device), dy = same_dtype(dy_in, x.dtype(), device);
    const Tensor w = param_or(weight, C, x.dtype(), device, 1, "batch_norm", "weight");
    const Tensor m = same_dtype(mean, x.dtype(), device), q = same_dtype(rstd, x.dtype(), device);
    NormGrads g;
    if (!device.is_cpu()) {
      if (need_dx) g.dx = Tensor::empty(x.shape(), x.dtype(), device);
      if (need_dweight) g.dweight = Tensor::empty({C}, x.dtype(), device);
      if (need_dbias) g.dbias = Tensor::empty({C}, x.dtype(), device);
      cuda::batch_norm_backward(dy, x, m, q, w, g.dx, g.dweight, g.dbias, N, C, L, training);
      return g;
    }
    if (need_dx) g.dx = Tensor::empty(x.shape(), x.dtype());
    Tensor dw = Tensor::empty({C}, x.dtype()), db = Tensor::empty({C}, x.dtype());
    parallel_for(C, 6 * N * L, [&](int64_t c0, int64_t c1) {
      loops<T>().bn_backward(dy.data_as<T>(), x.data_as<T>(), m.data_as<T>(), q.data_as<T>(), w.data_as<T>(),
                             need_dx ? g.dx.data_as<T>() : nullptr, dw.data_as<T>(), db.data_as<T>(), N, C, L, c0, c1,
                             training);
    });
    if (need_dweight) g.dweight = dw;
    if (need_dbias) g.dbias = db;
    return g;
  });
}

DropoutResult dropout(Generator& gen, const Tensor& x_in, double p) {
  if (!(p >= 0 && p <= 1)) throw ValueError(cat("dropout: probability has to be between 0 and 1, but got ", p));
  return visit_float(x_in, "dropout", [&](auto zero) {
    using T = decltype(zero);
    const Tensor x = contiguous(x_in);
    const int64_t n = x.numel();
    DropoutResult out{Tensor::empty(x.shape(), x.dtype(), x.device()),
                      Tensor::empty(x.shape(), x.dtype(), x.device())};
    if (n == 0) return out;
    // float32 uniforms: k / 2^24, so P(u >= p) = 1 - p exactly for p on that grid.
    const cpu::RandomLoop& uniform =
        select_isa(cpu::ref::random_kernels, cpu::avx2::random_kernels, cpu::avx512::random_kernels).uniform_f32;
    constexpr int64_t per_chunk = cpu::kBlocksPerChunk * 4;
    const int64_t blocks = (n + 3) / 4, chunks = (n + per_chunk - 1) / per_chunk;
    cpu::RandomDraw d{};
    d.key = gen.key();
    d.counter = gen.reserve(static_cast<uint64_t>(blocks));
    d.a = 0, d.b = 1, d.ceiling = std::nextafter(1.0f, 0.0f);
    const double scale = p < 1 ? 1 / (1 - p) : 0;
    if (!x.device().is_cpu()) {  // the same blocks, so the same mask
      cuda::dropout(x, out.y, out.mask, d.key, d.counter, float(p), scale);
      return out;
    }
    const auto& k = loops<T>();
    parallel_for(chunks, 24 * per_chunk, [&](int64_t c0, int64_t c1) {
      alignas(64) float u[per_chunk];
      for (int64_t c = c0; c < c1; ++c) {
        // Chunk c of the draw is chunk 0 of a draw starting kBlocksPerChunk * c blocks later.
        cpu::RandomDraw dc = d;
        dc.counter = d.counter + static_cast<uint64_t>(c * cpu::kBlocksPerChunk);
        const int64_t start = c * per_chunk, len = std::min(per_chunk, n - start);
        uniform.run(u, len, 0, 1, dc);
        k.dropout_apply(x.data_as<T>() + start, u, out.y.data_as<T>() + start, out.mask.data_as<T>() + start, len,
                        float(p), T(scale));
      }
    });
    return out;
  });
}

}  // namespace fusednn
