// A direct float32 convolution for layers with very few input channels (LeNet's and the ResNet
// stem's first layer: 1 channel), AVX-512, straight from and to NCHW.
//
// Why: with 1 input channel there is little to multiply per output (25 or 9 taps), so GEMM-based
// paths spend their time unfolding (im2col) and oneDNN's blocked kernels compute 16 channels for
// each real one and then reorder the output back to NCHW (half of their time). Here each output
// row of a sample is a few 16-wide vectors; for every tap, the input row is loaded once and
// multiplied into the accumulators of 4 filters at once (weights broadcast), so the loop is FMAs,
// and the output is written in place, bias included.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "op/convolution.h"
#include "op/kernel.h"

namespace mx {
namespace {

constexpr int kMaxChannels = 4;  // input channels per output (more: GEMM-based paths win)
constexpr int kMaxVectors = 4;   // 16-float vectors per output row: OW <= 64
constexpr int kFilters = 4;      // filters per register block

std::atomic<uint64_t> direct_calls{0};

struct Geometry {
  int64_t c, h, w, f, kh, kw, oh, ow, pad_h, pad_w;
  int64_t ph, pw;  // padded input extents; pw rounded up so every vector load stays in the row
};

// One sample's output rows for filters [f0, f0 + FB): NV vectors per row, tail lanes masked.
template <int NV, int FB>
__attribute__((target("avx512f"))) void Rows(const Geometry& g, const float* xp, const float* wt,
                                             const float* bias, int64_t f0, float* y) {
  const __mmask16 tail = static_cast<__mmask16>((1u << (g.ow - 16 * (NV - 1))) - 1u);
  const int64_t taps = g.kh * g.kw;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    __m512 acc[FB][NV];
    for (int f = 0; f < FB; ++f) {
      const __m512 b = _mm512_set1_ps(bias != nullptr ? bias[f0 + f] : 0.0f);
      for (int v = 0; v < NV; ++v) acc[f][v] = b;
    }
    for (int64_t ci = 0; ci < g.c; ++ci) {
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const float* row = xp + (ci * g.ph + oy + ky) * g.pw;
        const float* wrow = wt + (f0 * g.c + ci) * taps + ky * g.kw;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          __m512 xv[NV];
          for (int v = 0; v < NV; ++v) xv[v] = _mm512_loadu_ps(row + kx + 16 * v);
          for (int f = 0; f < FB; ++f) {
            const __m512 wv = _mm512_set1_ps(wrow[f * g.c * taps + kx]);
            for (int v = 0; v < NV; ++v) acc[f][v] = _mm512_fmadd_ps(wv, xv[v], acc[f][v]);
          }
        }
      }
    }
    for (int f = 0; f < FB; ++f) {
      float* out = y + ((f0 + f) * g.oh + oy) * g.ow;
      for (int v = 0; v + 1 < NV; ++v) _mm512_storeu_ps(out + 16 * v, acc[f][v]);
      _mm512_mask_storeu_ps(out + 16 * (NV - 1), tail, acc[f][NV - 1]);
    }
  }
}

template <int NV>
void Sample(const Geometry& g, const float* xp, const float* wt, const float* bias, float* y) {
  int64_t f0 = 0;
  for (; f0 + kFilters <= g.f; f0 += kFilters) Rows<NV, kFilters>(g, xp, wt, bias, f0, y);
  for (; f0 < g.f; ++f0) Rows<NV, 1>(g, xp, wt, bias, f0, y);
}

// Copies sample x (c, h, w) into the zero-padded buffer xp (c, ph, pw).
void Pad(const Geometry& g, const float* x, float* xp) {
  std::fill(xp, xp + g.c * g.ph * g.pw, 0.0f);
  for (int64_t ci = 0; ci < g.c; ++ci) {
    for (int64_t iy = 0; iy < g.h; ++iy) {
      std::memcpy(xp + (ci * g.ph + iy + g.pad_h) * g.pw + g.pad_w, x + (ci * g.h + iy) * g.w,
                  sizeof(float) * g.w);
    }
  }
}

}  // namespace

uint64_t DirectConvCalls() { return direct_calls.load(std::memory_order_relaxed); }

bool DirectConvApplies(const ConvolutionParam& p, const Window& w, const Shape& data,
                       const Shape& out, DType dtype) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 || w.ndim != 2 || dtype != DType::kFloat32 || p.num_group != 1) return false;
  if (w.stride[0] != 1 || w.stride[1] != 1 || w.dilate[0] != 1 || w.dilate[1] != 1) return false;
  const Plane x = Plane::Of(data), yp = Plane::Of(out);
  return x.c <= kMaxChannels && yp.w <= 16 * kMaxVectors && yp.w >= 1 && yp.h >= 1;
}

bool DirectConvForward(const ConvolutionParam& p, const Window& w, const std::vector<TBlob>& in,
                       OpReq req, const TBlob& out) {
  if (req == OpReq::kAdd || req == OpReq::kNull) return false;
  if (!DirectConvApplies(p, w, in[0].shape, out.shape, in[0].dtype)) return false;
  // It writes plain NCHW only (the executor gives this node a plain output: see ConvSlots).
  if (out.layout != Layout::kPlain) return false;
  const Plane x = Plane::Of(in[0].shape), yp = Plane::Of(out.shape);
  // In place (the planner may give the output the data's memory) would overwrite rows still read.
  if (in[0].dptr == out.dptr) return false;
  Geometry g{x.c, x.h, x.w, yp.c, w.kernel[0], w.kernel[1], yp.h, yp.w, w.pad[0], w.pad[1], 0, 0};
  g.ph = std::max(x.h + 2 * g.pad_h, g.oh + g.kh - 1);
  const int64_t vectors = (g.ow + 15) / 16;
  g.pw = std::max(x.w + 2 * g.pad_w, 16 * vectors + g.kw - 1);
  const float* data = in[0].data<float>();
  const float* wt = in[1].data<float>();
  const float* bias = p.no_bias ? nullptr : in[2].data<float>();
  float* y = out.data<float>();
  const int64_t in_size = g.c * g.h * g.w, out_size = g.f * g.oh * g.ow;
  const size_t pad_size = static_cast<size_t>(g.c * g.ph * g.pw);
  MX_OMP_FOR_IF(x.n > 1)
  for (int64_t n = 0; n < x.n; ++n) {
    // Each thread pads its samples into a buffer of its own (a few KB: it stays in L1), grown
    // once and reused.
    thread_local std::vector<float> xp;
    if (xp.size() < pad_size) xp.resize(pad_size);
    Pad(g, data + n * in_size, xp.data());
    float* yn = y + n * out_size;
    switch (vectors) {
      case 1:
        Sample<1>(g, xp.data(), wt, bias, yn);
        break;
      case 2:
        Sample<2>(g, xp.data(), wt, bias, yn);
        break;
      case 3:
        Sample<3>(g, xp.data(), wt, bias, yn);
        break;
      default:
        Sample<4>(g, xp.data(), wt, bias, yn);
        break;
    }
  }
  direct_calls.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace mx
