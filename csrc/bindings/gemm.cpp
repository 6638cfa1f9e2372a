// Python bindings of the gemm family: matmul with NumPy semantics (1-D operands promoted then the added dim
// removed, batch dims broadcast, dtypes promoted), the private _gemm (2-D strided operands, alpha/beta and
// the fused bias + activation epilogue), the TF32 switch and the FMA-peak probe the benchmarks report
// against. Float operands on a CUDA device run the CUDA GEMM (cuda/gemm.cu) there.
#include <optional>
#include <string>

#include "bindings/convert.h"
#include "fusednn/device.h"
#include "fusednn/elementwise.h"
#include "fusednn/errors.h"
#include "fusednn/gemm.h"
#include "fusednn/parallel.h"

namespace fusednn::bind {
namespace {

// Products at least this big (multiply-adds) run one at a time, each using every thread inside gemm;
// smaller ones in a batch are spread over the threads instead.
constexpr int64_t kBigProduct = int64_t{1} << 20;

template <class T>
MatView<T> mat(const Tensor& t, int64_t offset) {
  const int n = t.ndim();
  return {t.data_as<T>() + offset, t.stride(n - 2), t.stride(n - 1)};
}

// C[i] = A[i] B[i] for every batch index i; a, b, c already broadcast to (batch..., M|K, K|N).
template <class T>
void batched_product(const Tensor& a, const Tensor& b, const Tensor& c) {
  const int nd = c.ndim(), nbatch_dims = nd - 2;
  const int64_t M = c.shape(nd - 2), N = c.shape(nd - 1), K = a.shape(nd - 1);
  const int64_t batches = Dims(c.shape().begin(), c.shape().begin() + nbatch_dims).product();
  auto one = [&](int64_t index) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (int d = nbatch_dims - 1; d >= 0; --d) {
      const int64_t i = index % c.shape(d);
      index /= c.shape(d);
      oa += i * a.stride(d);
      ob += i * b.stride(d);
      oc += i * c.stride(d);
    }
    if constexpr (std::is_floating_point_v<T>)
      gemm<T>(M, N, K, T(1), mat<const T>(a, oa), mat<const T>(b, ob), T(0), mat<T>(c, oc));
    else
      gemm_integer<T>(M, N, K, mat<const T>(a, oa), mat<const T>(b, ob), mat<T>(c, oc));
  };
  if (M * N * K >= kBigProduct || batches == 1) {
    for (int64_t i = 0; i < batches; ++i) one(i);
    return;
  }
  parallel_for(batches, M * N * std::max<int64_t>(K, 1), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) one(i);
  });
}

// C[i] = A[i] B[i] on a device: batch dims merged where a, b and c all step through them as one; the
// innermost merged dim is one launch (batch strides), the others are looped here.
template <class T>
void device_batched_product(const Tensor& a, const Tensor& b, const Tensor& c) {
  const int nd = c.ndim();
  const int64_t M = c.shape(nd - 2), N = c.shape(nd - 1), K = a.shape(nd - 1);
  Dims shape, sa, sb, sc;
  for (int d = 0; d < nd - 2; ++d) {
    const int64_t n = c.shape(d);
    if (n == 1) continue;
    const int last = shape.size() - 1;
    if (last >= 0 && sa[last] == a.stride(d) * n && sb[last] == b.stride(d) * n && sc[last] == c.stride(d) * n) {
      shape[last] *= n, sa[last] = a.stride(d), sb[last] = b.stride(d), sc[last] = c.stride(d);
    } else {
      shape.push_back(n), sa.push_back(a.stride(d)), sb.push_back(b.stride(d)), sc.push_back(c.stride(d));
    }
  }
  const int inner = shape.size() - 1;  // -1: a single product
  const cuda::Batch batch = inner < 0 ? cuda::Batch{} : cuda::Batch{shape[inner], sa[inner], sb[inner], sc[inner]};
  const int64_t outer = Dims(shape.begin(), shape.begin() + std::max(inner, 0)).product();
  for (int64_t index = 0; index < outer; ++index) {
    int64_t oa = 0, ob = 0, oc = 0, rest = index;
    for (int d = inner - 1; d >= 0; --d) {
      const int64_t i = rest % shape[d];
      rest /= shape[d];
      oa += i * sa[d], ob += i * sb[d], oc += i * sc[d];
    }
    cuda::gemm<T>(c.device().index, M, N, K, T(1), mat<const T>(a, oa), mat<const T>(b, ob), T(0), mat<T>(c, oc), {},
                  batch);
  }
}

Tensor matmul(Tensor a, Tensor b) {
  const Device device = common_device("matmul", {&a, &b});
  const Dims sa = a.shape(), sb = b.shape();
  for (int i = 0; i < 2; ++i)
    if ((i == 0 ? sa : sb).size() == 0)
      throw ValueError(cat("matmul: Input operand ", i, " does not have enough dimensions (has 0, gufunc core with "
                           "signature (n?,k),(k,m?)->(n?,m?) requires 1)"));
  const bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
  const int64_t K = sa.back(), Kb = b_vec ? sb[0] : sb[sb.size() - 2];
  if (K != Kb)
    throw ValueError(cat("matmul: shapes ", sa, " and ", sb, " not aligned: ", K, " (dim ", sa.size() - 1, ") != ", Kb,
                         " (dim ", b_vec ? 0 : sb.size() - 2, ")"));
  if (a_vec) a = a.unsqueeze(0);
  if (b_vec) b = b.unsqueeze(1);
  const int64_t M = a.shape(a.ndim() - 2), N = b.shape(b.ndim() - 1);
  // Batch dims broadcast NumPy style, aligned from the right.
  const int na = a.ndim() - 2, nb = b.ndim() - 2, nbatch = std::max(na, nb);
  Dims batch(nbatch, int64_t{1});
  for (int d = 0; d < nbatch; ++d) {
    const int64_t da = d - (nbatch - na) >= 0 ? a.shape(d - (nbatch - na)) : 1;
    const int64_t db = d - (nbatch - nb) >= 0 ? b.shape(d - (nbatch - nb)) : 1;
    if (da != db && da != 1 && db != 1)
      throw ValueError(cat("matmul: batch dimensions of shapes ", sa, " and ", sb, " do not broadcast"));
    batch[d] = da == 1 ? db : da;
  }
  const DType dtype = promote_types(a.dtype(), b.dtype());
  if (!device.is_cpu() && !is_floating(dtype))
    throw NotImplementedError(cat("matmul of ", dtype_name(dtype), " operands does not run on CUDA tensors yet (got ",
                                  device_name(device), "); use float32/float64 or move them to the host with .cpu()"));
  Dims shape_a = batch, shape_b = batch, shape_c = batch;
  shape_a.push_back(M), shape_a.push_back(K);
  shape_b.push_back(K), shape_b.push_back(N);
  shape_c.push_back(M), shape_c.push_back(N);
  Tensor c = Tensor::empty(shape_c, dtype, device);
  {
    GilRelease gil(c.numel() * std::max<int64_t>(K, 1));
    if (a.dtype() != dtype) a = astype(a, dtype);
    if (b.dtype() != dtype) b = astype(b, dtype);
    a = a.expand(shape_a);
    b = b.expand(shape_b);
    visit_dtype(dtype, [&](auto zero) {
      using T = decltype(zero);
      if constexpr (std::is_floating_point_v<T>)
        if (!device.is_cpu()) return device_batched_product<T>(a, b, c);
      batched_product<T>(a, b, c);
    });
  }
  if (b_vec) c = c.squeeze(c.ndim() - 1);
  if (a_vec) c = c.squeeze(c.ndim() - (b_vec ? 1 : 2));
  return c;
}

// The common case on a short path (a small product costs a few microseconds, so every conversion shows):
// two 2-D Tensors of one float dtype whose inner dims agree. Anything else returns an undefined Tensor,
// for matmul() to handle (and to report errors).
Tensor matmul_2d_float(const Tensor& a, const Tensor& b) {
  if (a.ndim() != 2 || b.ndim() != 2 || a.dtype() != b.dtype() || !is_floating(a.dtype()) || a.shape(1) != b.shape(0))
    return {};
  const int64_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
  Tensor c = Tensor::empty({M, N}, a.dtype());
  const int64_t work = M * N * std::max<int64_t>(K, 1);
  std::optional<py::gil_scoped_release> gil;  // not for a few microseconds: releasing costs ~0.1 us
  if (work >= kBigProduct / 4) gil.emplace();
  if (a.dtype() == DType::Float32)
    gemm<float>(M, N, K, 1.0f, mat<const float>(a, 0), mat<const float>(b, 0), 0.0f, mat<float>(c, 0));
  else
    gemm<double>(M, N, K, 1.0, mat<const double>(a, 0), mat<const double>(b, 0), 0.0, mat<double>(c, 0));
  return c;
}

BiasMode parse_bias_mode(const std::string& name) {
  if (name == "none") return BiasMode::None;
  if (name == "row") return BiasMode::PerRow;
  if (name == "col") return BiasMode::PerColumn;
  throw ValueError(cat("_gemm: bias_mode must be 'none', 'row' or 'col', got '", name, "'"));
}

// out = act(alpha * a @ b + beta * out + bias) on the operands' device: the host GEMM or the CUDA one.
template <class T>
void run_gemm(Device device, int64_t M, int64_t N, int64_t K, T alpha, const Tensor& a, const Tensor& b, T beta,
              const Tensor& out, const Epilogue& epilogue) {
  if (device.is_cpu())
    gemm<T>(M, N, K, alpha, mat<const T>(a, 0), mat<const T>(b, 0), beta, mat<T>(out, 0), epilogue);
  else
    cuda::gemm<T>(device.index, M, N, K, alpha, mat<const T>(a, 0), mat<const T>(b, 0), beta, mat<T>(out, 0),
                  epilogue);
}

// out = act(alpha * a @ b + beta * out + bias) for 2-D float tensors of one dtype and device, any strides.
// Returns `out` itself when given, as NumPy's out= does (and without the cost of a new Python object).
py::object gemm_py(const Tensor& a, const Tensor& b, py::handle out_obj, double alpha, double beta, py::handle bias_obj,
               const std::string& bias_mode_name, py::handle activation_obj, double leaky_slope) {
  const Device device = common_device("_gemm", {&a, &b});
  if (a.ndim() != 2 || b.ndim() != 2)
    throw ValueError(cat("_gemm: expected 2-D operands, got shapes ", a.shape(), " and ", b.shape()));
  if (!is_floating(a.dtype()) || a.dtype() != b.dtype())
    throw TypeError(cat("_gemm: operands must both be float32 or both float64, got ", dtype_name(a.dtype()), " and ",
                        dtype_name(b.dtype())));
  const int64_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
  if (b.shape(0) != K)
    throw ValueError(cat("_gemm: shapes ", a.shape(), " and ", b.shape(), " not aligned: ", K, " (dim 1) != ",
                         b.shape(0), " (dim 0)"));
  const BiasMode bias_mode = parse_bias_mode(bias_mode_name);
  const Activation activation = activation_from_py(activation_obj, "_gemm");
  Tensor out;
  if (out_obj.is_none()) {
    if (beta != 0) throw ValueError("_gemm: beta != 0 needs an `out` to accumulate into");
    out = Tensor::empty({M, N}, a.dtype(), device);
  } else {
    out = any_device_tensor(out_obj);
    common_device("_gemm", {&a, &b, &out});
    if (out.ndim() != 2 || out.shape(0) != M || out.shape(1) != N)
      throw ValueError(cat("_gemm: out has shape ", out.shape(), ", expected ", Dims{M, N}));
    if (out.dtype() != a.dtype())
      throw TypeError(cat("_gemm: out has dtype ", dtype_name(out.dtype()), ", expected ", dtype_name(a.dtype())));
    if (!out.writable()) throw ValueError("_gemm: out is read-only");
    if (out.may_overlap(a) || out.may_overlap(b)) throw ValueError("_gemm: out must not overlap the operands");
  }
  Tensor bias;
  if (bias_mode != BiasMode::None) {
    if (bias_obj.is_none()) throw ValueError(cat("_gemm: bias_mode '", bias_mode_name, "' needs a bias"));
    bias = any_device_tensor(bias_obj);
    common_device("_gemm", {&a, &b, &bias});
    const int64_t want = bias_mode == BiasMode::PerRow ? M : N;
    if (bias.ndim() != 1 || bias.shape(0) != want)
      throw ValueError(cat("_gemm: bias has shape ", bias.shape(), ", expected (", want, ",) for bias_mode '",
                           bias_mode_name, "'"));
    if (bias.dtype() != a.dtype())
      throw TypeError(cat("_gemm: bias has dtype ", dtype_name(bias.dtype()), ", expected ", dtype_name(a.dtype())));
    bias = contiguous(bias);
  } else if (!bias_obj.is_none()) {
    throw ValueError("_gemm: a bias needs bias_mode 'row' or 'col'");
  }
  const Epilogue epilogue{bias_mode, bias.defined() ? bias.data() : nullptr, activation, leaky_slope};
  {
    GilRelease gil(M * N * std::max<int64_t>(K, 1));
    if (a.dtype() == DType::Float32)
      run_gemm<float>(device, M, N, K, float(alpha), a, b, float(beta), out, epilogue);
    else
      run_gemm<double>(device, M, N, K, alpha, a, b, beta, out, epilogue);
  }
  return out_obj.is_none() ? py::cast(std::move(out)) : py::reinterpret_borrow<py::object>(out_obj);
}

}  // namespace

void init_gemm(py::module_& m) {
  m.def(
      "matmul",
      [](py::handle a, py::handle b) {
        if (py::isinstance<Tensor>(a) && py::isinstance<Tensor>(b)) {
          const Tensor& ta = py::cast<const Tensor&>(a);
          const Tensor& tb = py::cast<const Tensor&>(b);
          if (ta.device().is_cpu() && tb.device().is_cpu())
            if (Tensor c = matmul_2d_float(ta, tb); c.defined()) return c;
          return matmul(ta, tb);
        }
        return matmul(any_device_tensor(a), any_device_tensor(b));
      },
      py::arg("a"), py::arg("b"), "Matrix product with NumPy's matmul semantics.");
  m.def("_gemm", &gemm_py, py::arg("a"), py::arg("b"), py::arg("out") = py::none(), py::arg("alpha") = 1.0,
        py::arg("beta") = 0.0, py::arg("bias") = py::none(), py::arg("bias_mode") = "none",
        py::arg("activation") = py::none(), py::arg("leaky_slope") = 0.01,
        "out = act(alpha * a @ b + beta * out + bias), bias per row ('row') or per column ('col').");
  m.def("_set_allow_tf32", &set_allow_tf32, py::arg("allow"),
        "Whether float32 products on CUDA devices may use TF32 tensor cores (fnn.backends.cuda.matmul.allow_tf32).");
  m.def("_allow_tf32", &allow_tf32, "The TF32 switch's current value.");
  m.def(
      "_fma_peak_gflops",
      [](int threads, double seconds) {
        if (threads < 1 || !(seconds > 0)) throw ValueError("_fma_peak_gflops: need threads >= 1 and seconds > 0");
        py::gil_scoped_release gil;
        return fma_peak_gflops(threads, seconds);
      },
      py::arg("threads"), py::arg("seconds") = 0.5, "Measured float32 FMA throughput (GFLOP/s) of the active ISA.");
}

}  // namespace fusednn::bind
