// CPU kernels of multi-scale deformable attention, written for this project (not derived from Deformable-DETR's
// CUDA code). Semantics: bilinear sampling, zero padding, align_corners=False, as grid_sample. The bilinear corners,
// weights and gradient formula (and the convention at kinks) are common/msda_bilinear.h, shared with the CUDA kernels.
//
// Forward: at::parallel_for over the N*Lq (image, query) rows; each row writes only its own output.
// Backward: grad_loc and grad_attn belong to one (image, query, head) each, but grad_value is a scatter: two
// queries that sample the same pixel add into the same row. Tasks are therefore (image, head, query chunk):
// different (image, head) pairs write disjoint slices of grad_value (value is (N, S, M, D)), so they need no
// synchronisation. Only when there are fewer (image, head) pairs than threads is each pair split into query
// chunks; chunk c > 0 then writes into its own zeroed copy, summed in a fixed order at the end. No atomics, and
// the result does not depend on scheduling (deterministic for a given thread count).
#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "common/msda_bilinear.h"
#include "msda.h"

namespace wecromcl {

template <typename scalar_t>
void msda_forward_cpu(const MsdaSizes& s, const scalar_t* value, const scalar_t* loc, const scalar_t* attn,
                      scalar_t* out) {
  const int64_t M = s.M, D = s.D, L = s.L, P = s.P, rowstride = s.M * s.D;
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, M * L * P * D));
  at::parallel_for(0, s.N * s.Lq, grain, [&](int64_t begin, int64_t end) {
    std::vector<scalar_t> zeros(D, scalar_t(0));  // the row read for a corner outside the level
    for (int64_t nq = begin; nq < end; ++nq) {
      const int64_t n = nq / s.Lq;
      for (int64_t m = 0; m < M; ++m) {
        const int64_t qm = nq * M + m;
        scalar_t* o = out + qm * D;
        std::fill(o, o + D, scalar_t(0));
        const scalar_t* lp = loc + qm * L * P * 2;
        const scalar_t* ap = attn + qm * L * P;
        for (int64_t l = 0; l < L; ++l) {
          const scalar_t* vlevel = value + ((n * s.S + s.start[l]) * M + m) * D;  // row r at vlevel + r * M * D
          for (int64_t p = 0; p < P; ++p, lp += 2, ++ap) {
            Corners<scalar_t> c;
            if (!bilinear_corners(lp[0], lp[1], s.H[l], s.W[l], c)) continue;
            const scalar_t a = *ap;
            const scalar_t* v[4];
            scalar_t w[4];
            for (int k = 0; k < 4; ++k) {
              v[k] = c.idx[k] >= 0 ? vlevel + c.idx[k] * rowstride : zeros.data();
              w[k] = c.idx[k] >= 0 ? a * c.w[k] : scalar_t(0);
            }
            const scalar_t *v0 = v[0], *v1 = v[1], *v2 = v[2], *v3 = v[3];
            const scalar_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
#pragma omp simd
            for (int64_t ch = 0; ch < D; ++ch) o[ch] += w0 * v0[ch] + w1 * v1[ch] + w2 * v2[ch] + w3 * v3[ch];
          }
        }
      }
    }
  });
}

int64_t msda_backward_chunks(const MsdaSizes& s, int64_t threads) {
  const int64_t pairs = std::max<int64_t>(1, s.N * s.M);
  if (threads <= pairs || s.Lq <= 1) return 1;
  return std::min<int64_t>((threads + pairs - 1) / pairs, s.Lq);
}

namespace {

// Calls f(std::integral_constant<int, DC>()) with DC = D for the head dims worth specialising, else DC = 0 (D read
// at run time). With D known at compile time the backward's channel loops (4 dot products and 4 scatters per sample)
// unroll without remainder loops: about 25% faster at D = 24.
template <typename F>
void with_head_dim(int64_t D, F&& f) {
  switch (D) {
    case 8: return f(std::integral_constant<int, 8>());
    case 16: return f(std::integral_constant<int, 16>());
    case 24: return f(std::integral_constant<int, 24>());
    case 32: return f(std::integral_constant<int, 32>());
    case 64: return f(std::integral_constant<int, 64>());
    default: return f(std::integral_constant<int, 0>());
  }
}

template <typename scalar_t, int DC>
void backward_tasks(const MsdaSizes& s, int64_t chunks, const scalar_t* grad_out, const scalar_t* value,
                    const scalar_t* loc, const scalar_t* attn, scalar_t* grad_value, scalar_t* extra,
                    scalar_t* grad_loc, scalar_t* grad_attn, int64_t begin, int64_t end) {
  const int64_t M = s.M, D = DC ? DC : s.D, L = s.L, P = s.P, Lq = s.Lq, rowstride = s.M * D;
  const int64_t numel_value = s.N * s.S * M * D;
  std::vector<scalar_t> zeros(D, scalar_t(0)), sink(D);  // read row and write row for corners outside
  for (int64_t task = begin; task < end; ++task) {
    const int64_t chunk = task % chunks, nm = task / chunks, n = nm / M, m = nm % M;
    scalar_t* gv_base = chunk == 0 ? grad_value : extra + (chunk - 1) * numel_value;
    const int64_t q_begin = Lq * chunk / chunks, q_end = Lq * (chunk + 1) / chunks;
    for (int64_t q = q_begin; q < q_end; ++q) {
      const int64_t qm = (n * Lq + q) * M + m;
      const scalar_t* g = grad_out + qm * D;
      const scalar_t* lp = loc + qm * L * P * 2;
      const scalar_t* ap = attn + qm * L * P;
      scalar_t* glp = grad_loc + qm * L * P * 2;
      scalar_t* gap = grad_attn + qm * L * P;
      for (int64_t l = 0; l < L; ++l) {
        const int64_t level_off = ((n * s.S + s.start[l]) * M + m) * D;
        const scalar_t* vlevel = value + level_off;
        scalar_t* gvlevel = gv_base + level_off;
        const scalar_t Wl = static_cast<scalar_t>(s.W[l]), Hl = static_cast<scalar_t>(s.H[l]);
        for (int64_t p = 0; p < P; ++p, lp += 2, ++ap, glp += 2, ++gap) {
          Corners<scalar_t> c;
          if (!bilinear_corners(lp[0], lp[1], s.H[l], s.W[l], c)) {
            glp[0] = glp[1] = *gap = scalar_t(0);
            continue;
          }
          const scalar_t a = *ap;
          const scalar_t* v[4];
          scalar_t* gv[4];
          scalar_t aw[4];
          for (int k = 0; k < 4; ++k) {
            const bool in = c.idx[k] >= 0;
            v[k] = in ? vlevel + c.idx[k] * rowstride : zeros.data();
            gv[k] = in ? gvlevel + c.idx[k] * rowstride : sink.data();
            aw[k] = in ? a * c.w[k] : scalar_t(0);
          }
          const scalar_t *v0 = v[0], *v1 = v[1], *v2 = v[2], *v3 = v[3];
          scalar_t *gv0 = gv[0], *gv1 = gv[1], *gv2 = gv[2], *gv3 = gv[3];
          const scalar_t aw0 = aw[0], aw1 = aw[1], aw2 = aw[2], aw3 = aw[3];
          // dot_k = <grad_out row, corner k row>; grad_value rows get attn * bilinear weight * grad_out
          scalar_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : d0, d1, d2, d3)
          for (int64_t ch = 0; ch < D; ++ch) {
            const scalar_t gc = g[ch];
            d0 += gc * v0[ch]; d1 += gc * v1[ch]; d2 += gc * v2[ch]; d3 += gc * v3[ch];
            gv0[ch] += aw0 * gc; gv1[ch] += aw1 * gc; gv2[ch] += aw2 * gc; gv3[ch] += aw3 * gc;
          }
          scalar_t dx, dy;
          bilinear_grad(c, d0, d1, d2, d3, dx, dy);
          *gap = bilinear_sample(c, d0, d1, d2, d3);
          glp[0] = a * Wl * dx;  // d/dloc_x = W * d/dx
          glp[1] = a * Hl * dy;  // d/dloc_y = H * d/dy
        }
      }
    }
  }
}

}  // namespace

template <typename scalar_t>
void msda_backward_cpu(const MsdaSizes& s, int64_t chunks, const scalar_t* grad_out, const scalar_t* value,
                       const scalar_t* loc, const scalar_t* attn, scalar_t* grad_value, scalar_t* extra,
                       scalar_t* grad_loc, scalar_t* grad_attn) {
  const int64_t numel_value = s.N * s.S * s.M * s.D;
  with_head_dim(s.D, [&](auto dc) {
    at::parallel_for(0, s.N * s.M * chunks, 1, [&](int64_t begin, int64_t end) {
      backward_tasks<scalar_t, decltype(dc)::value>(s, chunks, grad_out, value, loc, attn, grad_value, extra, grad_loc,
                                                    grad_attn, begin, end);
    });
  });
  if (chunks > 1) {  // fold the chunks' copies into grad_value, always in chunk order
    at::parallel_for(0, numel_value, 16384, [&](int64_t begin, int64_t end) {
      for (int64_t k = 1; k < chunks; ++k) {
        const scalar_t* e = extra + (k - 1) * numel_value;
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) grad_value[i] += e[i];
      }
    });
  }
}

template void msda_forward_cpu<float>(const MsdaSizes&, const float*, const float*, const float*, float*);
template void msda_forward_cpu<double>(const MsdaSizes&, const double*, const double*, const double*, double*);
template void msda_backward_cpu<float>(const MsdaSizes&, int64_t, const float*, const float*, const float*,
                                       const float*, float*, float*, float*, float*);
template void msda_backward_cpu<double>(const MsdaSizes&, int64_t, const double*, const double*, const double*,
                                        const double*, double*, double*, double*, double*);

}  // namespace wecromcl
