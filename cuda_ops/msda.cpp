// The op wecromcl::ms_deform_attn and its backward, registered with torch.library (CPU and, when built, CUDA
// kernels). The autograd formula and the fake (meta) kernels are registered from Python (wecromcl.msda).
// Every input is checked here before any kernel runs; errors are ValueErrors in Python and say what is wrong.
// Per-operator ATen headers instead of <ATen/ATen.h>: this file compiles in about half the time.
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS
#include <ATen/core/Tensor.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>
#include <torch/library.h>

#include <string>
#include <tuple>
#include <vector>

#include "msda.h"

#ifdef WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace wecromcl {
namespace {

using at::Tensor;

// Names as Python prints them, so that the C++ and the Python checks give the same messages.
std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "torch.float32";
    case at::kDouble: return "torch.float64";
    case at::kHalf: return "torch.float16";
    case at::kBFloat16: return "torch.bfloat16";
    case at::kLong: return "torch.int64";
    case at::kInt: return "torch.int32";
    case at::kShort: return "torch.int16";
    case at::kChar: return "torch.int8";
    case at::kByte: return "torch.uint8";
    case at::kBool: return "torch.bool";
    default: return std::string("torch.") + c10::toString(t);
  }
}

std::string list_str(const int64_t* v, int64_t n) {
  std::string s = "[";
  for (int64_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Checks shapes, dtypes, devices and the level table; returns the sizes the kernels need.
MsdaSizes check_inputs(const Tensor& value, const Tensor& spatial_shapes, const Tensor& level_start_index,
                       const Tensor& loc, const Tensor& attn) {
  const char* op = "ms_deform_attn: ";
  TORCH_CHECK_VALUE(value.dim() == 4, op, "value must be 4-D (N, S, M, D), got shape ", value.sizes());
  TORCH_CHECK_VALUE(loc.dim() == 6 && loc.size(5) == 2, op,
                    "sampling_locations must be 6-D (N, Lq, M, L, P, 2), got shape ", loc.sizes());
  TORCH_CHECK_VALUE(attn.dim() == 5, op, "attention_weights must be 5-D (N, Lq, M, L, P), got shape ",
                    attn.sizes());
  TORCH_CHECK_VALUE(spatial_shapes.dim() == 2 && spatial_shapes.size(1) == 2, op,
                    "spatial_shapes must be (L, 2) rows of (H, W), got shape ", spatial_shapes.sizes());
  const int64_t L = spatial_shapes.size(0);
  TORCH_CHECK_VALUE(level_start_index.dim() == 1 && level_start_index.size(0) == L, op,
                    "level_start_index must have shape (L,) = (", L, ",), got ", level_start_index.sizes());
  TORCH_CHECK_VALUE(value.scalar_type() == loc.scalar_type() && value.scalar_type() == attn.scalar_type(), op,
                    "value, sampling_locations and attention_weights must have the same dtype, got ",
                    dtype_name(value.scalar_type()), ", ", dtype_name(loc.scalar_type()), ", ",
                    dtype_name(attn.scalar_type()));
  TORCH_CHECK_VALUE(at::isFloatingType(value.scalar_type()), op, "value must be a floating point tensor, got ",
                    dtype_name(value.scalar_type()));
  TORCH_CHECK_VALUE(!at::isFloatingType(spatial_shapes.scalar_type()) &&
                        !at::isFloatingType(level_start_index.scalar_type()) &&
                        spatial_shapes.scalar_type() != at::kBool && level_start_index.scalar_type() != at::kBool,
                    op, "spatial_shapes and level_start_index must be integer tensors, got ",
                    dtype_name(spatial_shapes.scalar_type()), " and ", dtype_name(level_start_index.scalar_type()));
  TORCH_CHECK_VALUE(value.device() == loc.device() && value.device() == attn.device(), op,
                    "value, sampling_locations and attention_weights must be on the same device, got ",
                    value.device(), ", ", loc.device(), ", ", attn.device());
  for (const Tensor* t : {&spatial_shapes, &level_start_index})
    TORCH_CHECK_VALUE(t->device().is_cpu() || t->device() == value.device(), op,
                      "spatial_shapes and level_start_index must be on the CPU or on value's device (",
                      value.device(), "), got ", spatial_shapes.device(), " and ", level_start_index.device());
  const int64_t N = value.size(0), S = value.size(1), M = value.size(2), D = value.size(3);
  const int64_t Lq = loc.size(1), P = loc.size(4);
  TORCH_CHECK_VALUE(loc.size(0) == N && loc.size(2) == M, op,
                    "sampling_locations must be (N, Lq, M, L, P, 2) with N=", N, " and M=", M,
                    " as in value (N, S, M, D) = ", value.sizes(), ", got ", loc.sizes());
  TORCH_CHECK_VALUE(loc.size(3) == L, op, "sampling_locations has ", loc.size(3),
                    " levels (dim 3) but spatial_shapes has ", L);
  TORCH_CHECK_VALUE(attn.sizes() == loc.sizes().slice(0, 5), op,
                    "attention_weights must have shape (N, Lq, M, L, P) = ", loc.sizes().slice(0, 5), ", got ",
                    attn.sizes());
  TORCH_CHECK_VALUE(L >= 1 && L <= kMaxLevels, op, "between 1 and ", kMaxLevels, " levels are supported, got ", L);

  MsdaSizes s{N, S, M, D, Lq, L, P, {}, {}, {}};
  const Tensor shapes = spatial_shapes.to(at::kCPU, at::kLong).contiguous();
  const Tensor starts = level_start_index.to(at::kCPU, at::kLong).contiguous();
  const int64_t* sh = shapes.const_data_ptr<int64_t>();
  const int64_t* st = starts.const_data_ptr<int64_t>();
  int64_t total = 0;
  for (int64_t l = 0; l < L; ++l) {
    TORCH_CHECK_VALUE(sh[2 * l] >= 1 && sh[2 * l + 1] >= 1, op, "spatial_shapes must be positive, got (H, W) = (",
                      sh[2 * l], ", ", sh[2 * l + 1], ") at level ", l);
    s.H[l] = sh[2 * l];
    s.W[l] = sh[2 * l + 1];
    s.start[l] = total;
    total += s.H[l] * s.W[l];
  }
  TORCH_CHECK_VALUE(total == S, op, "value has S=", S, " tokens (dim 1) but spatial_shapes sums to ", total,
                    " (sum of H*W over levels)");
  for (int64_t l = 0; l < L; ++l)
    TORCH_CHECK_VALUE(st[l] == s.start[l], op, "level_start_index must be the exclusive cumulative sum of H*W, ",
                      list_str(s.start, L), ", got ", list_str(st, L));
  return s;
}

void check_grad_output(const Tensor& grad_output, const Tensor& value, const MsdaSizes& s) {
  TORCH_CHECK_VALUE(grad_output.dim() == 3 && grad_output.size(0) == s.N && grad_output.size(1) == s.Lq &&
                        grad_output.size(2) == s.M * s.D,
                    "ms_deform_attn_backward: grad_output must have shape (N, Lq, M*D) = (", s.N, ", ", s.Lq, ", ",
                    s.M * s.D, "), got ", grad_output.sizes());
  TORCH_CHECK_VALUE(grad_output.scalar_type() == value.scalar_type() && grad_output.device() == value.device(),
                    "ms_deform_attn_backward: grad_output must have value's dtype and device, got ",
                    dtype_name(grad_output.scalar_type()), " on ", grad_output.device());
}

void check_cpu_dtype(const Tensor& value) {
  TORCH_CHECK_VALUE(value.scalar_type() == at::kFloat || value.scalar_type() == at::kDouble,
                    "ms_deform_attn: the CPU kernel supports float32 and float64, got ",
                    dtype_name(value.scalar_type()));
}

Tensor ms_deform_attn_cpu(const Tensor& value, const Tensor& spatial_shapes, const Tensor& level_start_index,
                          const Tensor& sampling_locations, const Tensor& attention_weights) {
  const MsdaSizes s = check_inputs(value, spatial_shapes, level_start_index, sampling_locations, attention_weights);
  check_cpu_dtype(value);
  const Tensor v = value.contiguous(), l = sampling_locations.contiguous(), a = attention_weights.contiguous();
  Tensor out = at::empty({s.N, s.Lq, s.M * s.D}, v.options());
  AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "ms_deform_attn_cpu", [&] {
    msda_forward_cpu<scalar_t>(s, v.const_data_ptr<scalar_t>(), l.const_data_ptr<scalar_t>(),
                               a.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<Tensor, Tensor, Tensor> ms_deform_attn_backward_cpu(const Tensor& grad_output, const Tensor& value,
                                                               const Tensor& spatial_shapes,
                                                               const Tensor& level_start_index,
                                                               const Tensor& sampling_locations,
                                                               const Tensor& attention_weights) {
  const MsdaSizes s = check_inputs(value, spatial_shapes, level_start_index, sampling_locations, attention_weights);
  check_grad_output(grad_output, value, s);
  check_cpu_dtype(value);
  const Tensor g = grad_output.contiguous(), v = value.contiguous(), l = sampling_locations.contiguous(),
               a = attention_weights.contiguous();
  Tensor grad_value = at::zeros_like(v), grad_loc = at::empty_like(l), grad_attn = at::empty_like(a);
  const int64_t chunks = msda_backward_chunks(s, at::get_num_threads());
  Tensor extra = chunks > 1 ? at::zeros({(chunks - 1) * v.numel()}, v.options()) : at::empty({0}, v.options());
  AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "ms_deform_attn_backward_cpu", [&] {
    msda_backward_cpu<scalar_t>(s, chunks, g.const_data_ptr<scalar_t>(), v.const_data_ptr<scalar_t>(),
                                l.const_data_ptr<scalar_t>(), a.const_data_ptr<scalar_t>(),
                                grad_value.mutable_data_ptr<scalar_t>(), extra.mutable_data_ptr<scalar_t>(),
                                grad_loc.mutable_data_ptr<scalar_t>(), grad_attn.mutable_data_ptr<scalar_t>());
  });
  return {grad_value, grad_loc, grad_attn};
}

#ifdef WITH_CUDA
// The kernel's dtype code for `value`, after checking that it is on a GPU and of a supported dtype.
int cuda_dtype_code(const Tensor& value) {
  TORCH_CHECK_VALUE(value.is_cuda(), "ms_deform_attn: value must be a CUDA tensor for the CUDA kernel, got ",
                    value.device());
  const at::ScalarType t = value.scalar_type();
  switch (t) {
    case at::kFloat: return 0;
    case at::kDouble: return 1;
    case at::kHalf: return 2;
    case at::kBFloat16: return 3;
    default:
      TORCH_CHECK_VALUE(false, "ms_deform_attn: the CUDA kernel supports float32, float64, float16 and bfloat16, got ",
                        dtype_name(t));
  }
  return -1;
}

Tensor ms_deform_attn_cuda(const Tensor& value, const Tensor& spatial_shapes, const Tensor& level_start_index,
                           const Tensor& sampling_locations, const Tensor& attention_weights) {
  const MsdaSizes s = check_inputs(value, spatial_shapes, level_start_index, sampling_locations, attention_weights);
  const int dtype = cuda_dtype_code(value);
  const c10::cuda::CUDAGuard guard(value.device());
  const Tensor v = value.contiguous(), l = sampling_locations.contiguous(), a = attention_weights.contiguous();
  Tensor out = at::empty({s.N, s.Lq, s.M * s.D}, v.options());
  const int err = msda_forward_cuda(s, dtype, v.const_data_ptr(), l.const_data_ptr(), a.const_data_ptr(),
                                    out.mutable_data_ptr(), c10::cuda::getCurrentCUDAStream().stream());
  TORCH_CHECK(err == 0, "ms_deform_attn: CUDA kernel launch failed: ", msda_cuda_error_string(err));
  return out;
}

std::tuple<Tensor, Tensor, Tensor> ms_deform_attn_backward_cuda(const Tensor& grad_output, const Tensor& value,
                                                                const Tensor& spatial_shapes,
                                                                const Tensor& level_start_index,
                                                                const Tensor& sampling_locations,
                                                                const Tensor& attention_weights) {
  const MsdaSizes s = check_inputs(value, spatial_shapes, level_start_index, sampling_locations, attention_weights);
  check_grad_output(grad_output, value, s);
  const int dtype = cuda_dtype_code(value);
  const c10::cuda::CUDAGuard guard(value.device());
  const Tensor g = grad_output.contiguous(), v = value.contiguous(), l = sampling_locations.contiguous(),
               a = attention_weights.contiguous();
  // gradients accumulate (atomics) in float, or double for double, then take the inputs' dtype
  const auto acc = v.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  Tensor gv = at::zeros(v.sizes(), v.options().dtype(acc)), gl = at::zeros(l.sizes(), l.options().dtype(acc)),
         ga = at::zeros(a.sizes(), a.options().dtype(acc));
  const int err = msda_backward_cuda(s, dtype, g.const_data_ptr(), v.const_data_ptr(), l.const_data_ptr(),
                                     a.const_data_ptr(), gv.mutable_data_ptr(), gl.mutable_data_ptr(),
                                     ga.mutable_data_ptr(), c10::cuda::getCurrentCUDAStream().stream());
  TORCH_CHECK(err == 0, "ms_deform_attn: CUDA backward kernel launch failed: ", msda_cuda_error_string(err));
  return {gv.to(v.scalar_type()), gl.to(v.scalar_type()), ga.to(v.scalar_type())};
}
#endif

}  // namespace

TORCH_LIBRARY(wecromcl, m) {
  m.def(
      "ms_deform_attn(Tensor value, Tensor spatial_shapes, Tensor level_start_index, Tensor sampling_locations, "
      "Tensor attention_weights) -> Tensor");
  m.def(
      "ms_deform_attn_backward(Tensor grad_output, Tensor value, Tensor spatial_shapes, Tensor level_start_index, "
      "Tensor sampling_locations, Tensor attention_weights) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(wecromcl, CPU, m) {
  m.impl("ms_deform_attn", &ms_deform_attn_cpu);
  m.impl("ms_deform_attn_backward", &ms_deform_attn_backward_cpu);
}

#ifdef WITH_CUDA
TORCH_LIBRARY_IMPL(wecromcl, CUDA, m) {
  m.impl("ms_deform_attn", &ms_deform_attn_cuda);
  m.impl("ms_deform_attn_backward", &ms_deform_attn_backward_cuda);
}
#endif

}  // namespace wecromcl
