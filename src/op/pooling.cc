// Pooling (max, avg, sum over 1-D or 2-D windows; global; valid/full conventions) and its
// gradient. Plain loops, parallel over (sample, channel) planes, with a fast path for windows
// that tile the input (stride == kernel, no padding). Measured on LeNet's first pooling (batch
// 128, 2x2): the fast path 0.17 ms forward and 0.7 ms backward; oneDNN's plain-layout kernel
// 0.53 ms forward, and 3.3 ms backward since its max pooling backward needs the forward pass's
// argmax workspace, recomputed. So plain float32 goes through oneDNN only for the forward pass
// of windows that overlap or pad (where the general loops are slower), and never backward;
// blocked activations (op/layout.h) go through oneDNN both ways.
#include "op/pooling.h"

#include <algorithm>
#include <limits>

#include "op/cnn_ops.h"
#include "op/cuda_util.h"
#include "op/kernel.h"
#include "op/layout.h"
#include "op/op_util.h"

namespace mx {
namespace {

// The input rows/columns window (oy, ox) covers, clipped to the data, and the divisor avg uses.
struct Span {
  int64_t y0, y1, x0, x1;
  int64_t count;  // divisor of avg
};

Span WindowAt(const PoolingParam& p, const Window& w, const Plane& x, int64_t oy, int64_t ox) {
  Span s;
  s.y0 = oy * w.stride[0] - w.pad[0];
  s.x0 = ox * w.stride[1] - w.pad[1];
  // With padding counted, the window is clipped only where it hangs over the padded data.
  s.y1 = std::min(s.y0 + w.kernel[0], x.h + w.pad[0]);
  s.x1 = std::min(s.x0 + w.kernel[1], x.w + w.pad[1]);
  const int64_t padded = (s.y1 - s.y0) * (s.x1 - s.x0);
  s.y0 = std::max<int64_t>(s.y0, 0);
  s.x0 = std::max<int64_t>(s.x0, 0);
  s.y1 = std::min(s.y1, x.h);
  s.x1 = std::min(s.x1, x.w);
  const int64_t inside = std::max<int64_t>(0, s.y1 - s.y0) * std::max<int64_t>(0, s.x1 - s.x0);
  s.count = p.count_include_pad ? padded : inside;
  return s;
}

// Windows that tile the input exactly (stride == kernel, no padding, nothing left over: LeNet's
// and most networks' 2x2 pooling) need no bounds per output, and each input element belongs to
// one window, so the backward pass writes every gradient element once (no clearing first).
bool Tiles(const Window& w, const Plane& x, const Plane& y) {
  return w.stride[0] == w.kernel[0] && w.stride[1] == w.kernel[1] && w.pad[0] == 0 &&
         w.pad[1] == 0 && y.h * w.kernel[0] == x.h && y.w * w.kernel[1] == x.w;
}

// K > 0 fixes the window to K x K at compile time (the loops then unroll); K = 0 reads it.
template <typename T, int K>
void ForwardTiled(const PoolingParam& p, const Window& w, const TBlob& in, OpReq req,
                  const TBlob& out) {
  const Plane x = Plane::Of(in.shape), y = Plane::Of(out.shape);
  const int64_t kh = K > 0 ? K : w.kernel[0], kw = K > 0 ? K : w.kernel[1];
  const T scale = p.pool_type == kAvgPool ? T(1) / T(kh * kw) : T(1);
  const bool is_max = p.pool_type == kMaxPool, add = req == OpReq::kAdd;
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  // Planes [nc0, nc1), compiled per instruction set (ParallelForChunks).
  auto planes = [&](int64_t nc0, int64_t nc1) MX_LAMBDA_INLINE {
    for (int64_t nc = nc0; nc < nc1; ++nc) {
      const T* xp = src + nc * x.Area();
      T* yp = dst + nc * y.Area();
      for (int64_t oy = 0; oy < y.h; ++oy) {
        for (int64_t ox = 0; ox < y.w; ++ox) {
          const T* corner = xp + oy * kh * x.w + ox * kw;
          T m = corner[0], sum = 0;
          for (int64_t ky = 0; ky < kh; ++ky) {
            for (int64_t kx = 0; kx < kw; ++kx) {
              const T v = corner[ky * x.w + kx];
              m = std::max(m, v);
              sum += v;
            }
          }
          const T v = is_max ? m : sum * scale;
          T& o = yp[oy * y.w + ox];
          o = add ? o + v : v;
        }
      }
    }
  };
  ParallelForChunks(x.n * x.c, in.Size() >= kOmpMinWork, planes);
}

template <typename T>
void Forward(const PoolingParam& p, const Window& w, const TBlob& in, OpReq req, const TBlob& out) {
  const Plane x = Plane::Of(in.shape), y = Plane::Of(out.shape);
  if (Tiles(w, x, y)) {
    if (w.kernel[0] == 2 && w.kernel[1] == 2) return ForwardTiled<T, 2>(p, w, in, req, out);
    return ForwardTiled<T, 0>(p, w, in, req, out);
  }
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  // Planes [nc0, nc1), compiled per instruction set (ParallelForChunks).
  auto planes = [&](int64_t nc0, int64_t nc1) MX_LAMBDA_INLINE {
    for (int64_t nc = nc0; nc < nc1; ++nc) {
      const T* xp = src + nc * x.Area();
      T* yp = dst + nc * y.Area();
      for (int64_t oy = 0; oy < y.h; ++oy) {
        for (int64_t ox = 0; ox < y.w; ++ox) {
          const Span s = WindowAt(p, w, x, oy, ox);
          T v = 0;
          if (p.pool_type == kMaxPool) {
            T m = -std::numeric_limits<T>::infinity();
            for (int64_t iy = s.y0; iy < s.y1; ++iy)
              for (int64_t ix = s.x0; ix < s.x1; ++ix) m = std::max(m, xp[iy * x.w + ix]);
            v = s.y0 < s.y1 && s.x0 < s.x1 ? m : T(0);  // a window wholly in the padding
          } else {
            for (int64_t iy = s.y0; iy < s.y1; ++iy)
              for (int64_t ix = s.x0; ix < s.x1; ++ix) v += xp[iy * x.w + ix];
            if (p.pool_type == kAvgPool) v = s.count > 0 ? v / T(s.count) : T(0);
          }
          T& o = yp[oy * y.w + ox];
          o = req == OpReq::kAdd ? o + v : v;
        }
      }
    }
  };
  ParallelForChunks(x.n * x.c, in.Size() >= kOmpMinWork, planes);
}

// K > 0 fixes the window to K x K at compile time (the loops then unroll); K = 0 reads it.
template <typename T, bool kMax, int K>
void BackwardTiled(const PoolingParam& p, const Window& w, const std::vector<TBlob>& in, OpReq req,
                   const TBlob& out) {
  const Plane x = Plane::Of(in[1].shape), y = Plane::Of(in[0].shape);
  const int64_t kh = K > 0 ? K : w.kernel[0], kw = K > 0 ? K : w.kernel[1];
  const T scale = p.pool_type == kAvgPool ? T(1) / T(kh * kw) : T(1);
  const bool add = req == OpReq::kAdd;
  const T* src = in[1].data<T>();
  const T* dy = in[0].data<T>();
  const T* fwd = in[2].data<T>();
  T* dx = out.data<T>();
  // Planes [nc0, nc1), compiled per instruction set (ParallelForChunks).
  auto planes = [&](int64_t nc0, int64_t nc1) MX_LAMBDA_INLINE {
    for (int64_t nc = nc0; nc < nc1; ++nc) {
      const T* xp = src + nc * x.Area();
      const T* dyp = dy + nc * y.Area();
      const T* yp = fwd + nc * y.Area();
      T* gp = dx + nc * x.Area();
      for (int64_t oy = 0; oy < y.h; ++oy) {
        for (int64_t ox = 0; ox < y.w; ++ox) {
          const T g = dyp[oy * y.w + ox] * scale;
          const int64_t corner = oy * kh * x.w + ox * kw;
          // Max: the gradient goes to the first input equal to the output (the forward's pick).
          int64_t hit = -1;
          if (kMax) {
            const T m = yp[oy * y.w + ox];
            for (int64_t t = kh * kw - 1; t >= 0; --t) {
              const int64_t at = corner + (t / kw) * x.w + t % kw;
              hit = xp[at] == m ? at : hit;
            }
          }
          for (int64_t ky = 0; ky < kh; ++ky) {
            T* row = gp + corner + ky * x.w;
            for (int64_t kx = 0; kx < kw; ++kx) {
              const T v = kMax ? T(0) : g;
              row[kx] = add ? row[kx] + v : v;
            }
          }
          if (kMax && hit >= 0) gp[hit] += g;
        }
      }
    }
  };
  ParallelForChunks(x.n * x.c, out.Size() >= kOmpMinWork, planes);
}

template <typename T, bool kMax>
void BackwardTiled(const PoolingParam& p, const Window& w, const std::vector<TBlob>& in, OpReq req,
                   const TBlob& out) {
  if (w.kernel[0] == 2 && w.kernel[1] == 2) return BackwardTiled<T, kMax, 2>(p, w, in, req, out);
  if (w.kernel[0] == 3 && w.kernel[1] == 3) return BackwardTiled<T, kMax, 3>(p, w, in, req, out);
  BackwardTiled<T, kMax, 0>(p, w, in, req, out);
}

// in = (ograd, data, output). Max sends each output's gradient to the first input that equals it
// (the one the forward pass picked); avg and sum spread it over the window.
template <typename T>
void Backward(const PoolingParam& p, const Window& w, const std::vector<TBlob>& in, OpReq req,
              const TBlob& out) {
  const Plane x = Plane::Of(in[1].shape), y = Plane::Of(in[0].shape);
  if (Tiles(w, x, y)) {
    return p.pool_type == kMaxPool ? BackwardTiled<T, true>(p, w, in, req, out)
                                   : BackwardTiled<T, false>(p, w, in, req, out);
  }
  const T* dy = in[0].data<T>();
  const T* src = in[1].data<T>();
  const T* fwd = in[2].data<T>();
  T* dx = out.data<T>();
  if (req != OpReq::kAdd) std::fill(dx, dx + out.Size(), T(0));
  // Planes [nc0, nc1), compiled per instruction set (ParallelForChunks).
  auto planes = [&](int64_t nc0, int64_t nc1) MX_LAMBDA_INLINE {
    for (int64_t nc = nc0; nc < nc1; ++nc) {
      const T* xp = src + nc * x.Area();
      T* gp = dx + nc * x.Area();
      const T* dyp = dy + nc * y.Area();
      const T* yp = fwd + nc * y.Area();
      for (int64_t oy = 0; oy < y.h; ++oy) {
        for (int64_t ox = 0; ox < y.w; ++ox) {
          const Span s = WindowAt(p, w, x, oy, ox);
          const T g = dyp[oy * y.w + ox];
          if (p.pool_type == kMaxPool) {
            const T m = yp[oy * y.w + ox];
            bool done = false;
            for (int64_t iy = s.y0; iy < s.y1 && !done; ++iy) {
              for (int64_t ix = s.x0; ix < s.x1; ++ix) {
                if (xp[iy * x.w + ix] == m) {
                  gp[iy * x.w + ix] += g;
                  done = true;
                  break;
                }
              }
            }
          } else {
            const T share = p.pool_type == kAvgPool ? (s.count > 0 ? g / T(s.count) : T(0)) : g;
            for (int64_t iy = s.y0; iy < s.y1; ++iy)
              for (int64_t ix = s.x0; ix < s.x1; ++ix) gp[iy * x.w + ix] += share;
          }
        }
      }
    }
  };
  ParallelForChunks(x.n * x.c, out.Size() >= kOmpMinWork, planes);
}

void CpuForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const PoolingParam& p = PoolParam(attrs);
  const Window w = PoolWindow(p, attrs.op->name, in[0].shape);
#if MX_USE_ONEDNN
  // Tiling windows run faster in the loops' fast path than in oneDNN's plain-layout kernel.
  const bool tiles = Tiles(w, Plane::Of(in[0].shape), Plane::Of(out[0].shape));
  if (!tiles && OneDNNPoolForward(p, w, ctx, in[0], req[0], out[0])) return;
#else
  (void)ctx;
#endif
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, { Forward<T>(p, w, in[0], req[0], out[0]); });
}

void ForwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  if (ctx.run.ctx.is_gpu()) {
#if MX_USE_CUDA && MX_USE_CUDNN
    const PoolingParam& p = PoolParam(attrs);
    CudnnPoolForward(p, PoolWindow(p, attrs.op->name, in[0].shape), ctx, in[0], req[0], out[0]);
#else
    ThrowNeedsCudnn(attrs, ctx);
#endif
    return;
  }
  // Blocked activations (an executor's layout plan) are oneDNN's; a call it declines runs on
  // plain copies.
  if (AnyBlocked(in, out)) {
#if MX_USE_ONEDNN
    const PoolingParam& p = PoolParam(attrs);
    const Window w = PoolWindow(p, attrs.op->name, in[0].shape);
    if (OneDNNPoolForward(p, w, ctx, in[0], req[0], out[0])) return;
#endif
    return ComputePlain(CpuForward, attrs, ctx, in, req, out);
  }
  CpuForward(attrs, ctx, in, req, out);
}

void CpuBackward(const NodeAttrs& attrs, const OpContext&, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const PoolingParam& p = PoolParam(attrs);
  const Window w = PoolWindow(p, attrs.op->name, in[1].shape);
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, { Backward<T>(p, w, in, req[0], out[0]); });
}

void BackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  if (ctx.run.ctx.is_gpu()) {
#if MX_USE_CUDA && MX_USE_CUDNN
    const PoolingParam& p = PoolParam(attrs);
    CudnnPoolBackward(p, PoolWindow(p, attrs.op->name, in[1].shape), ctx, in, req[0], out[0]);
#else
    ThrowNeedsCudnn(attrs, ctx);
#endif
    return;
  }
  if (AnyBlocked(in, out)) {
#if MX_USE_ONEDNN
    const PoolingParam& p = PoolParam(attrs);
    if (OneDNNPoolBackward(p, PoolWindow(p, attrs.op->name, in[1].shape), in, req[0], out[0])) {
      return;
    }
#endif
    return ComputePlain(CpuBackward, attrs, ctx, in, req, out);
  }
  CpuBackward(attrs, ctx, in, req, out);
}

bool InferShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const PoolingParam& p = PoolParam(attrs);
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  MX_CHECK(data.ndim() == 3 || data.ndim() == 4, kInvalidArgument)
      << "input 'data' must be 3-D (N, C, W) or 4-D (N, C, H, W), got shape " << data;
  const Window w = PoolWindow(p, attrs.op->name, data);
  MX_CHECK(w.ndim + 2 == data.ndim(), kInvalidArgument)
      << "kernel " << p.kernel << " has " << w.ndim << " value" << (w.ndim == 1 ? "" : "s")
      << " but input 'data' has " << data.ndim() - 2 << " spatial axes (shape " << data << ")";
  Shape o = data;
  for (int a = 0; a < w.ndim; ++a) {
    o[2 + a] = PoolOut(p, w, w.ndim == 1 ? 1 : a, data[2 + a], attrs.op->name);
  }
  AssignShape(out, 0, o, "output");
  return data.IsKnown();
}

bool BackwardShape(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  return (*out)[0].IsKnown();
}

}  // namespace

DMLC_REGISTER_PARAMETER(PoolingParam);

const PoolingParam& PoolParam(const NodeAttrs& attrs) {
  return std::any_cast<const PoolingParam&>(attrs.parsed);
}

Window PoolWindow(const PoolingParam& p, const std::string& op, const Shape& data) {
  if (p.global_pool) {
    Window w;
    w.ndim = data.ndim() - 2;
    w.kernel[0] = data.ndim() == 4 ? data[2] : 1;
    w.kernel[1] = data[data.ndim() - 1];
    return w;
  }
  MX_CHECK(!p.kernel.empty(), kInvalidArgument)
      << "operator '" << op << "': kernel is required unless global_pool is set";
  return Window::FromParams(op, p.kernel, p.stride, Tuple(), p.pad);
}

int64_t PoolOut(const PoolingParam& p, const Window& w, int a, int64_t in, const std::string& op) {
  if (in < 0) return -1;
  if (p.global_pool) return 1;
  const int64_t room = in + 2 * w.pad[a] - w.kernel[a];
  MX_CHECK(room >= 0, kInvalidArgument)
      << "operator '" << op << "': the window (" << w.kernel[a] << ") is larger than the padded "
      << "input (" << in << " + 2*" << w.pad[a] << ")";
  MX_CHECK(w.pad[a] < w.kernel[a], kInvalidArgument)
      << "operator '" << op << "': pad " << w.pad[a] << " must be smaller than the window "
      << w.kernel[a];
  const int64_t s = w.stride[a];
  return (p.pooling_convention == kPoolFull ? (room + s - 1) / s : room / s) + 1;
}

void RegisterPoolingOps(OpRegistry* reg) {
  reg->Add("Pooling")
      .Describe(
          "Max, average or sum pooling over 1-D (N, C, W) or 2-D (N, C, H, W) windows.\n\n"
          "Output extent per spatial axis: floor((in + 2*pad - kernel) / stride) + 1 with "
          "pooling_convention=valid, rounded up with full; global_pool reduces the whole plane "
          "to 1x1. Padding never wins a max; avg divides by the window size including padding "
          "unless count_include_pad=false.")
      .SetParam<PoolingParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(InferShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(ForwardCompute, kGpuKernels)
#if MX_USE_ONEDNN
      .SetLayoutSlots([](const NodeAttrs& attrs, const std::vector<Shape>& in,
                         const std::vector<Shape>& out, int dtype) {
        const PoolingParam& p = PoolParam(attrs);
        return OneDNNPoolSlots(p, PoolWindow(p, attrs.op->name, in[0]), false, in[0], out[0],
                               dtype);
      })
#endif
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{MakeGradEntry("_backward_Pooling", n, "backward",
                                                    {og[0], InputOf(n, 0), OutputOf(n)},
                                                    n->attrs.dict)};
      });

  reg->Add("_backward_Pooling")
      .Describe("Gradient of Pooling with respect to its data.")
      .SetParam<PoolingParam>()
      .SetInputs({"ograd", "data", "output"})
      .SetNumOutputs(1)
      .SetInferShape(BackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(BackwardCompute, kGpuKernels)
#if MX_USE_ONEDNN
      .SetLayoutSlots([](const NodeAttrs& attrs, const std::vector<Shape>& in,
                         const std::vector<Shape>&, int dtype) {
        const PoolingParam& p = PoolParam(attrs);
        return OneDNNPoolSlots(p, PoolWindow(p, attrs.op->name, in[1]), true, in[1], in[0], dtype);
      })
#endif
      .SetBackwardOf("Pooling");
}

}  // namespace mx
