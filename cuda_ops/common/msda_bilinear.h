// Bilinear sampling of multi-scale deformable attention and its gradient: the one implementation that the CPU kernel
// (cpu/msda_cpu.cpp), the CUDA kernels (cuda/msda_kernels.cuh) and the CUDA emulation test (tests/cuda_emu/emu.cpp)
// all include. Plain C++17 plus CUDA qualifiers that vanish under a host compiler: no ATen, no CUDA headers.
//
// Semantics are grid_sample's (bilinear, zero padding, align_corners=False): a location loc in [0, 1] of a level of
// `size` pixels maps to the pixel coordinate x = loc * size - 0.5; the sample mixes the pixels floor(x) and
// floor(x) + 1 with weights 1 - fx and fx, fx = x - floor(x); corners outside the level read zero.
//
// Kinks (integer x or y). Bilinear interpolation is not differentiable where x (or y) is an integer: the sample is
// continuous there, but its slope changes from the cell on the left to the cell on the right. Convention, the same
// on CPU and CUDA in every dtype: the location's gradient is the derivative of the cell [floor(x), floor(x) + 1],
// i.e. the one-sided derivative towards increasing x (and y), computed at the coordinate
//
//     x = fma((2 * loc - 1) + 1, size / 2, -0.5)      in double precision, whatever the dtype,
//
// which is how PyTorch's grid_sample computes it from the reference's grid 2 * loc - 1, so the op lands on the same
// side of every kink as the fp64 reference (wecromcl.msda.ms_deform_attn_reference):
// * fp32 locations (and fp16/bf16, widened to float): every step is exact (2 * loc - 1 + 1 == 2 * loc, and
//   loc * size - 0.5 fits in a double), so x is the exact value of loc * size - 0.5, computed that way. An fp32
//   location exactly on a kink gets the right-hand derivative, one a hair below it the left-hand one, as in the fp64
//   reference. (Only |loc| < 2^-30 is not exact; its x is then within 1e-16 of -0.5, nowhere near a kink.)
// * fp64 locations: the roundings of the formula above decide the side, as in grid_sample. Measured on x86 (torch
//   2.14, its AVX2 kernel): this formula, fused multiply-add included, picks grid_sample's side on every `border`
//   location tried, the unfused one and loc * size - 0.5 do not. grid_sample's CUDA kernel computes
//   ((grid + 1) * size - 1) / 2, which nvcc fuses into the same value (halving is exact); not measured here.
// Why double even on the GPU: fp32 coordinate math (what the CUDA kernel used to do) rounds x onto or off a kink and
// so picks the other one-sided derivative on some `border` inputs (0.6-1.6 relative error against the reference on
// an H100). The cost is a handful of fp64 operations per sample and lane: small next to the four corner loads on
// GPUs with fast fp64 (A100, H100), a measurable share on GPUs with slow fp64.
#pragma once
#include <math.h>

#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define WECROMCL_HD __host__ __device__ __forceinline__
#else
#define WECROMCL_HD inline
#endif

namespace wecromcl {
namespace {  // internal linkage: the host versions differ in qualifiers between the .cpp and the .cu translation units

// The pixel coordinate of location `loc` on an axis of `size` pixels (see the convention above). Loc is float (fp32,
// or an fp16/bf16 value widened to float) or double.
template <typename L>
WECROMCL_HD double source_coord(L loc, int64_t size) {
  static_assert(std::is_same<L, float>::value || std::is_same<L, double>::value, "locations are float or double");
  if constexpr (std::is_same<L, double>::value) {
    const double h = (2.0 * loc - 1.0) + 1.0;  // grid_sample's (grid + 1) for the reference's grid = 2 * loc - 1
    return fma(h, static_cast<double>(size) * 0.5, -0.5);
  } else {
    return static_cast<double>(loc) * static_cast<double>(size) - 0.5;  // exact (so fusing it changes nothing)
  }
}

// The four bilinear corners of one sample, in the order (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1):
// row index in the level (-1 = outside, reads zero), bilinear weight, and the fractional position (fx, fy).
template <typename A>
struct Corners {
  int64_t idx[4];
  A w[4];
  A fx, fy;
};

// Fills `c` for the location (loc_x, loc_y) on a level of H x W pixels. Returns false when no corner is inside
// (x < -1, x >= W, y < -1, y >= H, or NaN); `c` is then all -1 and zeros, so code that runs on regardless (the CUDA
// backward keeps every lane for its warp shuffles) adds nothing. At x == -1 the sample counts: the corner at
// x = 0 has weight 0 there, but the right-hand derivative moves it (as grid_sample does).
template <typename A, typename L>
WECROMCL_HD bool bilinear_corners(L loc_x, L loc_y, int64_t H, int64_t W, Corners<A>& c) {
  const double x = source_coord(loc_x, W), y = source_coord(loc_y, H);
  if (!(x >= -1.0 && x < static_cast<double>(W) && y >= -1.0 && y < static_cast<double>(H))) {
    c.idx[0] = c.idx[1] = c.idx[2] = c.idx[3] = -1;
    c.w[0] = c.w[1] = c.w[2] = c.w[3] = A(0);
    c.fx = c.fy = A(0);
    return false;
  }
  const double xf = floor(x), yf = floor(y);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  c.fx = static_cast<A>(x - xf);
  c.fy = static_cast<A>(y - yf);
  const A gx = A(1) - c.fx, gy = A(1) - c.fy;
  c.w[0] = gy * gx; c.w[1] = gy * c.fx; c.w[2] = c.fy * gx; c.w[3] = c.fy * c.fx;
  const bool x0in = x0 >= 0, x1in = x0 + 1 < W, y0in = y0 >= 0, y1in = y0 + 1 < H;
  c.idx[0] = (y0in && x0in) ? y0 * W + x0 : -1;
  c.idx[1] = (y0in && x1in) ? y0 * W + x0 + 1 : -1;
  c.idx[2] = (y1in && x0in) ? (y0 + 1) * W + x0 : -1;
  c.idx[3] = (y1in && x1in) ? (y0 + 1) * W + x0 + 1 : -1;
  return true;
}

// The sample w0 v0 + w1 v1 + w2 v2 + w3 v3, given the four corner values (zero for corners outside).
template <typename A>
WECROMCL_HD A bilinear_sample(const Corners<A>& c, A v0, A v1, A v2, A v3) {
  return c.w[0] * v0 + c.w[1] * v1 + c.w[2] * v2 + c.w[3] * v3;
}

// The sample's derivatives in pixels, d/dx and d/dy, in the cell of `c` (so at a kink the right-hand ones), given
// the four corner values (zero outside). The sample is linear in the values, so passing <grad_out, corner row>
// dot products instead gives the derivatives of <grad_out, sample>. The location's gradient is then
// d/dloc_x = W * d/dx and d/dloc_y = H * d/dy, times the attention weight.
template <typename A>
WECROMCL_HD void bilinear_grad(const Corners<A>& c, A v0, A v1, A v2, A v3, A& dx, A& dy) {
  const A gx = A(1) - c.fx, gy = A(1) - c.fy;
  dx = gy * (v1 - v0) + c.fy * (v3 - v2);
  dy = gx * (v2 - v0) + c.fx * (v3 - v1);
}

}  // namespace
}  // namespace wecromcl
