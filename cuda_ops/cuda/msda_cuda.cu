// CUDA kernels of multi-scale deformable attention, written for this project (not derived from Deformable-DETR's
// code). Only CUDA headers and msda.h here: ATen stays in msda.cpp, which keeps nvcc's compile short.
//
// Mapping: one thread per output element (image n, query q, head m, channel c), flat index
// ((n * Lq + q) * M + m) * D + c, so a head's D channels are consecutive lanes whatever D is (no power-of-2 or
// block-size constraint, no batch chunking). All offsets are 64-bit. Storage in float, double, half or bfloat16;
// accumulation in float (double for double).
//
// Backward: grad_value gets atomics (into a float/double buffer); grad_attn and grad_loc need a sum over the D
// channel lanes of a head, done by a segmented warp-shuffle reduction (lanes with the same (n, q, m) key), after
// which the first lane of each segment in the warp adds its partial sum atomically: one atomic per warp and
// segment instead of D, and no shared memory or barriers.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cstdint>

#include "msda.h"

namespace wecromcl {
namespace {

// --- device code begin (tests/test_cuda_emulation.py runs the code up to 'device code end' on the CPU) ---
template <typename T> struct Acc { using type = float; };
template <> struct Acc<double> { using type = double; };

__device__ __forceinline__ float load(const float* p) { return __ldg(p); }
__device__ __forceinline__ double load(const double* p) { return __ldg(p); }
__device__ __forceinline__ float load(const __half* p) { return __half2float(__ldg(p)); }
__device__ __forceinline__ float load(const __nv_bfloat16* p) { return __bfloat162float(__ldg(p)); }
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
__device__ __forceinline__ void store(double* p, double v) { *p = v; }
__device__ __forceinline__ void store(__half* p, float v) { *p = __float2half_rn(v); }
__device__ __forceinline__ void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }

__device__ __forceinline__ float floor_(float v) { return floorf(v); }
__device__ __forceinline__ double floor_(double v) { return floor(v); }

// Bilinear corners of one sample (align_corners=False, zero padding): row index in the level or -1, weights.
template <typename A>
struct Corners {
  int64_t idx[4];
  A w[4];
  A fx, fy;
  bool any;
};

template <typename A>
__device__ __forceinline__ Corners<A> corners(A loc_x, A loc_y, int64_t H, int64_t W) {
  Corners<A> c;
  const A x = loc_x * static_cast<A>(W) - A(0.5), y = loc_y * static_cast<A>(H) - A(0.5);
  c.any = x >= A(-1) && x < static_cast<A>(W) && y >= A(-1) && y < static_cast<A>(H);  // false for NaN too
  if (!c.any) {
    c.idx[0] = c.idx[1] = c.idx[2] = c.idx[3] = -1;
    c.w[0] = c.w[1] = c.w[2] = c.w[3] = A(0);
    c.fx = c.fy = A(0);
    return c;
  }
  const A xf = floor_(x), yf = floor_(y);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  c.fx = x - xf;
  c.fy = y - yf;
  const A gx = A(1) - c.fx, gy = A(1) - c.fy;
  c.w[0] = gy * gx; c.w[1] = gy * c.fx; c.w[2] = c.fy * gx; c.w[3] = c.fy * c.fx;
  const bool x0in = x0 >= 0, x1in = x0 + 1 < W, y0in = y0 >= 0, y1in = y0 + 1 < H;
  c.idx[0] = (y0in && x0in) ? y0 * W + x0 : -1;
  c.idx[1] = (y0in && x1in) ? y0 * W + x0 + 1 : -1;
  c.idx[2] = (y1in && x0in) ? (y0 + 1) * W + x0 : -1;
  c.idx[3] = (y1in && x1in) ? (y0 + 1) * W + x0 + 1 : -1;
  return c;
}

constexpr int kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads) msda_forward_kernel(const __grid_constant__ MsdaSizes s,
                                                                 const T* __restrict__ value,
                                                                 const T* __restrict__ loc,
                                                                 const T* __restrict__ attn, T* __restrict__ out,
                                                                 int64_t total) {
  using A = typename Acc<T>::type;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int64_t ch = i % s.D, qm = i / s.D, m = qm % s.M, n = qm / s.M / s.Lq;
  const int64_t rowstride = s.M * s.D;
  const T* lp = loc + qm * s.L * s.P * 2;
  const T* ap = attn + qm * s.L * s.P;
  A acc = A(0);
  for (int l = 0; l < s.L; ++l) {
    const int64_t H = s.H[l], W = s.W[l];
    const T* vlevel = value + ((n * s.S + s.start[l]) * s.M + m) * s.D + ch;
    for (int64_t p = 0; p < s.P; ++p, lp += 2, ++ap) {
      const Corners<A> c = corners<A>(load(lp), load(lp + 1), H, W);
      if (!c.any) continue;
      A sample = A(0);
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (c.idx[k] >= 0) sample += c.w[k] * static_cast<A>(load(vlevel + c.idx[k] * rowstride));
      acc += static_cast<A>(load(ap)) * sample;
    }
  }
  store(out + i, acc);
}

// Sum of v over the lanes of this warp that share this lane's key, from this lane to the end of its segment.
// Keys form contiguous runs across lanes; `same[k]` says whether lane + 2^k has this lane's key.
template <typename A>
__device__ __forceinline__ A segment_sum(A v, const bool (&same)[5]) {
#pragma unroll
  for (int k = 0; k < 5; ++k) {
    const A other = __shfl_down_sync(0xffffffffu, v, 1 << k);
    if (same[k]) v += other;
  }
  return v;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) msda_backward_kernel(
    const __grid_constant__ MsdaSizes s, const T* __restrict__ grad_out, const T* __restrict__ value,
    const T* __restrict__ loc, const T* __restrict__ attn, typename Acc<T>::type* __restrict__ grad_value,
    typename Acc<T>::type* __restrict__ grad_loc, typename Acc<T>::type* __restrict__ grad_attn, int64_t total) {
  using A = typename Acc<T>::type;
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool active = i0 < total;  // inactive lanes stay for the shuffles and contribute zeros
  const int64_t i = active ? i0 : total - 1;
  const int64_t ch = i % s.D, qm = i / s.D, m = qm % s.M, n = qm / s.M / s.Lq;
  const int64_t key = active ? qm : -1;
  const int lane = threadIdx.x & 31;
  bool same[5];
#pragma unroll
  for (int k = 0; k < 5; ++k) {
    const int64_t other = __shfl_down_sync(0xffffffffu, key, 1 << k);
    same[k] = lane + (1 << k) < 32 && other == key;
  }
  const int64_t prev = __shfl_up_sync(0xffffffffu, key, 1);
  const bool head = active && (lane == 0 || prev != key);  // first lane of its segment in this warp

  const int64_t rowstride = s.M * s.D;
  const A g = active ? static_cast<A>(load(grad_out + i)) : A(0);
  const T* lp = loc + qm * s.L * s.P * 2;
  const T* ap = attn + qm * s.L * s.P;
  A* glp = grad_loc + qm * s.L * s.P * 2;
  A* gap = grad_attn + qm * s.L * s.P;
  for (int l = 0; l < s.L; ++l) {
    const int64_t H = s.H[l], W = s.W[l];
    const int64_t level_off = ((n * s.S + s.start[l]) * s.M + m) * s.D + ch;
    for (int64_t p = 0; p < s.P; ++p, lp += 2, ++ap, glp += 2, ++gap) {
      const Corners<A> c = corners<A>(load(lp), load(lp + 1), H, W);
      const A a = load(ap);
      A v[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        v[k] = c.idx[k] >= 0 ? static_cast<A>(load(value + level_off + c.idx[k] * rowstride)) : A(0);
        if (active && c.idx[k] >= 0 && g != A(0))
          atomicAdd(grad_value + level_off + c.idx[k] * rowstride, a * c.w[k] * g);
      }
      const A gx = A(1) - c.fx, gy = A(1) - c.fy;
      A d_attn = g * (c.w[0] * v[0] + c.w[1] * v[1] + c.w[2] * v[2] + c.w[3] * v[3]);
      A d_x = g * a * static_cast<A>(W) * (gy * (v[1] - v[0]) + c.fy * (v[3] - v[2]));
      A d_y = g * a * static_cast<A>(H) * (gx * (v[2] - v[0]) + c.fx * (v[3] - v[1]));
      d_attn = segment_sum(d_attn, same);
      d_x = segment_sum(d_x, same);
      d_y = segment_sum(d_y, same);
      if (head && c.any) {
        atomicAdd(gap, d_attn);
        atomicAdd(glp, d_x);
        atomicAdd(glp + 1, d_y);
      }
    }
  }
}

// --- device code end ---

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
  using A = typename Acc<T>::type;
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
