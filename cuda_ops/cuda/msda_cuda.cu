// CUDA side of multi-scale deformable attention: the launchers, and the half-precision storage types. The kernels
// themselves are device code in cuda/msda_kernels.cuh (so that tests/test_cuda_emulation.py can compile them for the
// CPU), their bilinear sampling and gradient is common/msda_bilinear.h (shared with the CPU kernel). Only CUDA headers
// and our own here: ATen stays in msda.cpp, which keeps nvcc's compile short.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cstdint>

#include "msda.h"

namespace wecromcl {
namespace {
template <typename T> struct Storage;
// fp16 and bf16 are stored as such and accumulated in float (the float and double cases are in msda_kernels.cuh).
template <> struct Storage<__half> {
  using acc = float;
  static __device__ __forceinline__ float load(const __half* p) { return __half2float(__ldg(p)); }
  static __device__ __forceinline__ void store(__half* p, float v) { *p = __float2half_rn(v); }
};
template <> struct Storage<__nv_bfloat16> {
  using acc = float;
  static __device__ __forceinline__ float load(const __nv_bfloat16* p) { return __bfloat162float(__ldg(p)); }
  static __device__ __forceinline__ void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
};
}  // namespace
}  // namespace wecromcl

#include "cuda/msda_kernels.cuh"

namespace wecromcl {
namespace {

template <typename T>
int launch_forward(const MsdaSizes& s, const void* value, const void* loc, const void* attn, void* out,
                   cudaStream_t stream) {
  const int64_t total = s.N * s.Lq * s.M * s.D;
  if (total == 0) return 0;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  if (blocks > 2147483647LL) return static_cast<int>(cudaErrorInvalidConfiguration);
  msda_forward_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      s, static_cast<const T*>(value), static_cast<const T*>(loc), static_cast<const T*>(attn),
      static_cast<T*>(out), total);
  return static_cast<int>(cudaGetLastError());
}

template <typename T>
int launch_backward(const MsdaSizes& s, const void* grad_out, const void* value, const void* loc, const void* attn,
                    void* grad_value, void* grad_loc, void* grad_attn, cudaStream_t stream) {
  using A = typename Storage<T>::acc;
  const int64_t total = s.N * s.Lq * s.M * s.D;
  if (total == 0) return 0;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  if (blocks > 2147483647LL) return static_cast<int>(cudaErrorInvalidConfiguration);
  msda_backward_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      s, static_cast<const T*>(grad_out), static_cast<const T*>(value), static_cast<const T*>(loc),
      static_cast<const T*>(attn), static_cast<A*>(grad_value), static_cast<A*>(grad_loc),
      static_cast<A*>(grad_attn), total);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int msda_forward_cuda(const MsdaSizes& s, int dtype, const void* value, const void* loc, const void* attn, void* out,
                      void* stream) {
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (dtype) {
    case 0: return launch_forward<float>(s, value, loc, attn, out, st);
    case 1: return launch_forward<double>(s, value, loc, attn, out, st);
    case 2: return launch_forward<__half>(s, value, loc, attn, out, st);
    case 3: return launch_forward<__nv_bfloat16>(s, value, loc, attn, out, st);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

int msda_backward_cuda(const MsdaSizes& s, int dtype, const void* grad_out, const void* value, const void* loc,
                       const void* attn, void* grad_value, void* grad_loc, void* grad_attn, void* stream) {
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (dtype) {
    case 0: return launch_backward<float>(s, grad_out, value, loc, attn, grad_value, grad_loc, grad_attn, st);
    case 1: return launch_backward<double>(s, grad_out, value, loc, attn, grad_value, grad_loc, grad_attn, st);
    case 2: return launch_backward<__half>(s, grad_out, value, loc, attn, grad_value, grad_loc, grad_attn, st);
    case 3:
      return launch_backward<__nv_bfloat16>(s, grad_out, value, loc, attn, grad_value, grad_loc, grad_attn, st);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

const char* msda_cuda_error_string(int err) { return cudaGetErrorString(static_cast<cudaError_t>(err)); }

}  // namespace wecromcl
