// Multi-scale deformable attention: what the C++ (CPU) kernels, the CUDA kernels and the op registration share.
// Plain C++ on purpose: the .cu file includes it, and keeping ATen out of nvcc keeps the CUDA compile short.
#pragma once
#include <cstdint>

namespace wecromcl {

// Levels are passed by value to the kernels (no device reads of spatial_shapes), so their number is bounded.
constexpr int kMaxLevels = 16;

// Sizes of one call, all 64-bit: N images, S value tokens (sum of H*W), M heads of D channels, Lq queries,
// L levels, P points per level. H, W and start describe each level of the flattened value tensor.
struct MsdaSizes {
  int64_t N, S, M, D, Lq, L, P;
  int64_t H[kMaxLevels], W[kMaxLevels], start[kMaxLevels];
};

// CPU kernels (cpu/msda_cpu.cpp), scalar_t is float or double; all pointers are to contiguous tensors:
// value (N, S, M, D), loc (N, Lq, M, L, P, 2), attn (N, Lq, M, L, P), out / grad_out (N, Lq, M, D).
template <typename scalar_t>
void msda_forward_cpu(const MsdaSizes& s, const scalar_t* value, const scalar_t* loc, const scalar_t* attn,
                      scalar_t* out);
// grad_value must be zero on entry; extra holds (chunks - 1) zeroed copies of grad_value when chunks > 1
// (see msda_backward_chunks); grad_loc and grad_attn are fully written.
template <typename scalar_t>
void msda_backward_cpu(const MsdaSizes& s, int64_t chunks, const scalar_t* grad_out, const scalar_t* value,
                       const scalar_t* loc, const scalar_t* attn, scalar_t* grad_value, scalar_t* extra,
                       scalar_t* grad_loc, scalar_t* grad_attn);
// How many query chunks the CPU backward splits each (image, head) into for `threads` threads.
int64_t msda_backward_chunks(const MsdaSizes& s, int64_t threads);

#ifdef WITH_CUDA
// CUDA launchers (cuda/msda_cuda.cu). dtype: 0 float, 1 double, 2 half, 3 bfloat16. Storage is in dtype,
// accumulation in float (double for double). The backward writes into zeroed accumulation buffers of type
// float (double for double): grad_value_acc (N, S, M, D), grad_loc_acc (N, Lq, M, L, P, 2), grad_attn_acc
// (N, Lq, M, L, P). `stream` is a cudaStream_t. Both return a cudaError_t as int (0 = success).
int msda_forward_cuda(const MsdaSizes& s, int dtype, const void* value, const void* loc, const void* attn, void* out,
                      void* stream);
int msda_backward_cuda(const MsdaSizes& s, int dtype, const void* grad_out, const void* value, const void* loc,
                       const void* attn, void* grad_value_acc, void* grad_loc_acc, void* grad_attn_acc, void* stream);
const char* msda_cuda_error_string(int err);
#endif

}  // namespace wecromcl
