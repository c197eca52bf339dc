// Runs the CUDA kernels of cuda_ops/cuda/msda_kernels.cuh on the CPU, to test their logic where there is no GPU.
// The kernels header is included as it is, after the few CUDA built-ins it uses are defined here: each warp is 32
// std::threads in lockstep at every shuffle (a barrier), atomics take a lock. Half types live in msda_cuda.cu and are
// left out. This checks indexing, the corner and gradient formulas (common/msda_bilinear.h, compiled here exactly as
// the CPU kernel compiles it) and the segmented warp reduction; not memory coalescing, half precision conversions or
// anything the GPU compiler does.
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "msda.h"

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __grid_constant__
struct Dim { unsigned x; };
thread_local Dim threadIdx, blockIdx;
static const Dim blockDim{256};
template <class T> T __ldg(const T* p) { return *p; }

struct Warp {
  std::barrier<> bar{32};
  uint64_t slot[32];
};
thread_local Warp* cur_warp;
template <class T> T shfl_from(T v, int src) {
  Warp& w = *cur_warp;
  const int lane = threadIdx.x & 31;
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  w.slot[lane] = bits;
  w.bar.arrive_and_wait();
  const uint64_t got = w.slot[(src >= 0 && src < 32) ? src : lane];  // out of the warp: own value, as on a GPU
  w.bar.arrive_and_wait();
  T out;
  std::memcpy(&out, &got, sizeof(T));
  return out;
}
template <class T> T __shfl_down_sync(unsigned, T v, int d) { return shfl_from(v, int(threadIdx.x & 31) + d); }
template <class T> T __shfl_up_sync(unsigned, T v, int d) { return shfl_from(v, int(threadIdx.x & 31) - d); }
static std::mutex atomic_lock;
template <class T> T atomicAdd(T* p, T v) {
  std::lock_guard<std::mutex> g(atomic_lock);
  const T old = *p;
  *p += v;
  return old;
}

#include "cuda/msda_kernels.cuh"

namespace wecromcl {

template <class F> void run_grid(int64_t total, F kernel) {
  const int64_t blocks = (total + blockDim.x - 1) / blockDim.x;
  for (int64_t b = 0; b < blocks; ++b)
    for (unsigned w = 0; w < blockDim.x / 32; ++w) {
      Warp warp;
      std::vector<std::thread> lanes;
      for (unsigned lane = 0; lane < 32; ++lane)
        lanes.emplace_back([&, lane] {
          cur_warp = &warp;
          blockIdx.x = unsigned(b);
          threadIdx.x = w * 32 + lane;
          kernel();
        });
      for (auto& t : lanes) t.join();
    }
}

template <class T> void forward(const MsdaSizes* s, const T* v, const T* loc, const T* a, T* out) {
  const int64_t total = s->N * s->Lq * s->M * s->D;
  run_grid(total, [&] { msda_forward_kernel<T>(*s, v, loc, a, out, total); });
}
template <class T> void backward(const MsdaSizes* s, const T* g, const T* v, const T* loc, const T* a, T* gv, T* gl, T* ga) {
  const int64_t total = s->N * s->Lq * s->M * s->D;
  run_grid(total, [&] { msda_backward_kernel<T>(*s, g, v, loc, a, gv, gl, ga, total); });
}
}  // namespace wecromcl

extern "C" {
void emu_forward_f32(const wecromcl::MsdaSizes* s, const float* v, const float* l, const float* a, float* o) { wecromcl::forward(s, v, l, a, o); }
void emu_forward_f64(const wecromcl::MsdaSizes* s, const double* v, const double* l, const double* a, double* o) { wecromcl::forward(s, v, l, a, o); }
void emu_backward_f32(const wecromcl::MsdaSizes* s, const float* g, const float* v, const float* l, const float* a, float* gv, float* gl, float* ga) { wecromcl::backward(s, g, v, l, a, gv, gl, ga); }
void emu_backward_f64(const wecromcl::MsdaSizes* s, const double* g, const double* v, const double* l, const double* a, double* gv, double* gl, double* ga) { wecromcl::backward(s, g, v, l, a, gv, gl, ga); }
}
