// CUDA kernels of multi-scale deformable attention (device code only), written for this project (not derived from
// Deformable-DETR's code). Included by cuda/msda_cuda.cu, which launches them, and by tests/cuda_emu/emu.cpp, which
// runs them on the CPU with each warp emulated by 32 threads (tests/test_cuda_emulation.py): so only plain C++ and the
// CUDA built-ins that emu.cpp provides (__ldg, __shfl_down_sync, __shfl_up_sync, atomicAdd, threadIdx, blockIdx,
// blockDim) appear here; no CUDA headers, no half types (their Storage specialisations live in the .cu file).
// The bilinear corners, weights and gradient formula are common/msda_bilinear.h, shared with the CPU kernel.
//
// Mapping: one thread per output element (image n, query q, head m, channel c), flat index
// ((n * Lq + q) * M + m) * D + c, so a head's D channels are consecutive lanes whatever D is (no power-of-2 or
// block-size constraint, no batch chunking). All offsets are 64-bit. Storage in float, double, half or bfloat16;
// accumulation in float (double for double); pixel coordinates in double (see msda_bilinear.h).
//
// Backward: grad_value gets atomics (into a float/double buffer); grad_attn and grad_loc need a sum over the D
// channel lanes of a head, done by a segmented warp-shuffle reduction (lanes with the same (n, q, m) key), after
// which the first lane of each segment in the warp adds its partial sum atomically: one atomic per warp and
// segment instead of D, and no shared memory or barriers.
#pragma once
#include <cstdint>

#include "common/msda_bilinear.h"
#include "msda.h"

namespace wecromcl {
namespace {

// How a storage type T is read and written: `acc` is the accumulation type, load() widens to it, store() rounds.
// float and double here; msda_cuda.cu adds __half and __nv_bfloat16 (acc = float).
template <typename T> struct Storage;
template <> struct Storage<float> {
  using acc = float;
  static __device__ __forceinline__ float load(const float* p) { return __ldg(p); }
  static __device__ __forceinline__ void store(float* p, float v) { *p = v; }
};
template <> struct Storage<double> {
  using acc = double;
  static __device__ __forceinline__ double load(const double* p) { return __ldg(p); }
  static __device__ __forceinline__ void store(double* p, double v) { *p = v; }
};

constexpr int kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads) msda_forward_kernel(const __grid_constant__ MsdaSizes s,
                                                                 const T* __restrict__ value,
                                                                 const T* __restrict__ loc,
                                                                 const T* __restrict__ attn, T* __restrict__ out,
                                                                 int64_t total) {
  using A = typename Storage<T>::acc;
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
      Corners<A> c;
      if (!bilinear_corners(Storage<T>::load(lp), Storage<T>::load(lp + 1), H, W, c)) continue;
      A sample = A(0);
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (c.idx[k] >= 0) sample += c.w[k] * static_cast<A>(Storage<T>::load(vlevel + c.idx[k] * rowstride));
      acc += static_cast<A>(Storage<T>::load(ap)) * sample;
    }
  }
  Storage<T>::store(out + i, acc);
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
    const T* __restrict__ loc, const T* __restrict__ attn, typename Storage<T>::acc* __restrict__ grad_value,
    typename Storage<T>::acc* __restrict__ grad_loc, typename Storage<T>::acc* __restrict__ grad_attn,
    int64_t total) {
  using A = typename Storage<T>::acc;
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
  const A g = active ? static_cast<A>(Storage<T>::load(grad_out + i)) : A(0);
  const T* lp = loc + qm * s.L * s.P * 2;
  const T* ap = attn + qm * s.L * s.P;
  A* glp = grad_loc + qm * s.L * s.P * 2;
  A* gap = grad_attn + qm * s.L * s.P;
  for (int l = 0; l < s.L; ++l) {
    const int64_t H = s.H[l], W = s.W[l];
    const int64_t level_off = ((n * s.S + s.start[l]) * s.M + m) * s.D + ch;
    for (int64_t p = 0; p < s.P; ++p, lp += 2, ++ap, glp += 2, ++gap) {
      Corners<A> c;  // all corners -1 when the sample misses the level: every lane still takes part in the shuffles
      const bool any = bilinear_corners(Storage<T>::load(lp), Storage<T>::load(lp + 1), H, W, c);
      const A a = Storage<T>::load(ap);
      A v[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        v[k] = c.idx[k] >= 0 ? static_cast<A>(Storage<T>::load(value + level_off + c.idx[k] * rowstride)) : A(0);
        if (active && c.idx[k] >= 0 && g != A(0))
          atomicAdd(grad_value + level_off + c.idx[k] * rowstride, a * c.w[k] * g);
      }
      A dx, dy;
      bilinear_grad(c, v[0], v[1], v[2], v[3], dx, dy);
      A d_attn = g * bilinear_sample(c, v[0], v[1], v[2], v[3]);
      A d_x = g * a * static_cast<A>(W) * dx;  // d/dloc_x = W * d/dx
      A d_y = g * a * static_cast<A>(H) * dy;  // d/dloc_y = H * d/dy
      d_attn = segment_sum(d_attn, same);
      d_x = segment_sum(d_x, same);
      d_y = segment_sum(d_y, same);
      if (head && any) {
        atomicAdd(gap, d_attn);
        atomicAdd(glp, d_x);
        atomicAdd(glp + 1, d_y);
      }
    }
  }
}

}  // namespace
}  // namespace wecromcl
