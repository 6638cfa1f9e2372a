// Normalization inner loops, compiled once per ISA: per-row (layer norm) and per-channel (batch norm)
// mean / variance in double, xhat = (x - mean) * rstd, y = xhat * w + b, and their backward
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w;  dw = sum dy * xhat;  db = sum dy.
#include <cmath>
#include <cstdint>

#include "cpu/normalization_kernels.h"

namespace fusednn::cpu::FUSEDNN_ISA_NS {
namespace {

template <class T>
void ln_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t r0, int64_t r1, int64_t D,
                double eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < D; ++j) s += xr[j];
    const double mu = D ? s / D : 0;
    double v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < D; ++j) v += (xr[j] - mu) * (xr[j] - mu);
    const double rs = 1 / std::sqrt((D ? v / D : 0) + eps);
    const T m = T(mu), q = T(rs);
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * q * w[j] + b[j];
    mean[r] = m;
    rstd[r] = q;
  }
}

template <class T>
void ln_backward_dx(const T* dy, const T* x, const T* w, const T* mean, const T* rstd, T* dx, int64_t r0, int64_t r1,
                    int64_t D) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* dyr = dy + r * D;
    const T* xr = x + r * D;
    const T m = mean[r], q = rstd[r];
    double sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
    for (int64_t j = 0; j < D; ++j) {
      const T g = dyr[j] * w[j];
      sg += g;
      sgx += g * ((xr[j] - m) * q);
    }
    const T a = T(sg / D), c = T(sgx / D);
    T* dxr = dx + r * D;
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) dxr[j] = q * (dyr[j] * w[j] - a - (xr[j] - m) * q * c);
  }
}

template <class T>
void ln_backward_params(const T* dy, const T* x, const T* mean, const T* rstd, T* dw, T* db, int64_t rows, int64_t D,
                        int64_t c0, int64_t c1) {
  for (int64_t j = c0; j < c1; ++j) dw[j] = db[j] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const T* dyr = dy + r * D;
    const T* xr = x + r * D;
    const T m = mean[r], q = rstd[r];
#pragma omp simd
    for (int64_t j = c0; j < c1; ++j) {
      dw[j] += dyr[j] * ((xr[j] - m) * q);
      db[j] += dyr[j];
    }
  }
}

// Sums over (n, l) of channel c of a (N, C, L) tensor: f(value index).
template <class T, class F>
double channel_sum(int64_t N, int64_t C, int64_t L, int64_t c, const F& f) {
  double s = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t base = (n * C + c) * L;
#pragma omp simd reduction(+ : s)
    for (int64_t l = 0; l < L; ++l) s += f(base + l);
  }
  return s;
}

template <class T>
void bn_stats(const T* x, T* mean, T* var, int64_t N, int64_t C, int64_t L, int64_t c0, int64_t c1) {
  const double M = double(N * L);
  for (int64_t c = c0; c < c1; ++c) {
    const double mu = channel_sum<T>(N, C, L, c, [&](int64_t i) { return double(x[i]); }) / M;
    const double v = channel_sum<T>(N, C, L, c, [&](int64_t i) { return (x[i] - mu) * (x[i] - mu); }) / M;
    mean[c] = T(mu);
    var[c] = T(v);
  }
}

template <class T>
void bn_apply(const T* x, const T* mean, const T* rstd, const T* w, const T* b, T* y, int64_t N, int64_t C, int64_t L,
              int64_t c0, int64_t c1) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = c0; c < c1; ++c) {
      const T scale = rstd[c] * w[c], shift = b[c] - mean[c] * rstd[c] * w[c];
      const int64_t base = (n * C + c) * L;
#pragma omp simd
      for (int64_t l = 0; l < L; ++l) y[base + l] = x[base + l] * scale + shift;
    }
}

template <class T>
void bn_backward(const T* dy, const T* x, const T* mean, const T* rstd, const T* w, T* dx, T* dw, T* db, int64_t N,
                 int64_t C, int64_t L, int64_t c0, int64_t c1, bool training) {
  const double M = double(N * L);
  for (int64_t c = c0; c < c1; ++c) {
    const T m = mean[c], q = rstd[c];
    const double sdy = channel_sum<T>(N, C, L, c, [&](int64_t i) { return double(dy[i]); });
    const double sdyx = channel_sum<T>(N, C, L, c, [&](int64_t i) { return double(dy[i] * ((x[i] - m) * q)); });
    dw[c] = T(sdyx);
    db[c] = T(sdy);
    if (!dx) continue;
    const T k = q * w[c], a = training ? T(sdy / M) : T(0), s = training ? T(sdyx / M) : T(0);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * L;
#pragma omp simd
      for (int64_t l = 0; l < L; ++l) dx[base + l] = k * (dy[base + l] - a - (x[base + l] - m) * q * s);
    }
  }
}

template <class T>
void dropout_apply(const T* x, const float* u, T* y, T* mask, int64_t n, float p, T scale) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T m = u[i] >= p ? scale : T(0);
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

template <class T>
constexpr NormLoops<T> loops() {
  return {ln_forward<T>, ln_backward_dx<T>, ln_backward_params<T>, bn_stats<T>, bn_apply<T>, bn_backward<T>,
          dropout_apply<T>};
}

}  // namespace

extern const NormKernels norm_kernels = {loops<float>(), loops<double>()};

}  // namespace fusednn::cpu::FUSEDNN_ISA_NS
