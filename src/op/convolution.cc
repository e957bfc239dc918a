// Convolution (1-D and 2-D, grouped, strided, dilated, padded) and its gradient.
//
// The im2col path: unfold the input windows of a few samples side by side into one matrix and
// multiply it with the filter bank, so nearly all the work is one OpenBLAS GEMM per group and
// chunk of samples. The chunk is as many samples as keep the unfolded matrix within
// kColBudget (and the user's `workspace`): wider GEMMs run faster than one per sample, and a
// bounded matrix stays in cache. 1x1 convolutions without stride or padding skip the unfolding
// (the input already is the matrix).
#include "op/convolution.h"

#include <algorithm>
#include <cstring>

#include "op/blas.h"
#include "op/cnn_ops.h"
#include "op/cuda_util.h"
#include "op/kernel.h"
#include "op/layout.h"
#include "op/op_util.h"

namespace mx {
namespace {

constexpr size_t kColBudget = size_t(8) << 20;  // bytes of unfolded input per chunk

// The shapes every kernel here works with.
struct ConvDims {
  Plane x;         // data (N, C, H, W)
  int64_t f;       // filters
  int64_t g;       // groups
  int64_t cg, fg;  // channels and filters per group
  int64_t oh, ow;  // output extents
  int64_t k;       // unfolded rows: cg * kh * kw
  int64_t ohow() const { return oh * ow; }
};

ConvDims Dims(const ConvolutionParam& p, const Window& w, const Shape& data, const Shape& out) {
  ConvDims d;
  d.x = Plane::Of(data);
  const Plane y = Plane::Of(out);
  d.f = p.num_filter;
  d.g = p.num_group;
  d.cg = d.x.c / d.g;
  d.fg = d.f / d.g;
  d.oh = y.h;
  d.ow = y.w;
  d.k = d.cg * w.KernelSize();
  return d;
}

bool IsPointwise(const Window& w) {
  return w.KernelSize() == 1 && w.stride[0] == 1 && w.stride[1] == 1 && w.pad[0] == 0 &&
         w.pad[1] == 0;
}

// Samples per chunk: the unfolded matrix of a chunk stays within the budget.
int64_t ChunkSize(const ConvolutionParam& p, const ConvDims& d, size_t elem) {
  const size_t per_sample = static_cast<size_t>(d.k * d.ohow()) * elem;
  const size_t budget = std::min<size_t>(kColBudget, static_cast<size_t>(p.workspace) << 20);
  return std::max<int64_t>(1, std::min<int64_t>(d.x.n, budget / std::max<size_t>(1, per_sample)));
}

// Unfolds samples [n0, n0 + c) of group g side by side: col is k x (c * ohow).
template <typename T>
void UnfoldChunk(const T* x, const ConvDims& d, const Window& w, int64_t n0, int64_t c, int64_t g,
                 T* col) {
  const int64_t ld = c * d.ohow();
  MX_OMP_FOR_IF(c > 1)
  for (int64_t j = 0; j < c; ++j) {
    const T* xs = x + ((n0 + j) * d.x.c + g * d.cg) * d.x.Area();
    Im2Col(xs, d.cg, d.x.h, d.x.w, w, d.oh, d.ow, col + j * d.ohow(), ld);
  }
}

// Copies between the (N, F, OH*OW) array y and a chunk matrix m of group g: fg x (c * ohow).
template <typename T, bool ToChunk>
void MoveChunk(T* y, const ConvDims& d, int64_t n0, int64_t c, int64_t g, T* m, bool add = false) {
  const int64_t a = d.ohow();
  MX_OMP_FOR_IF(c > 1)
  for (int64_t j = 0; j < c; ++j) {
    for (int64_t f = 0; f < d.fg; ++f) {
      T* ys = y + ((n0 + j) * d.f + g * d.fg + f) * a;
      T* ms = m + f * c * a + j * a;
      if (ToChunk) {
        std::memcpy(ms, ys, sizeof(T) * a);
      } else if (add) {
        for (int64_t i = 0; i < a; ++i) ys[i] += ms[i];
      } else {
        std::memcpy(ys, ms, sizeof(T) * a);
      }
    }
  }
}

template <typename T>
void AddBias(const T* bias, const ConvDims& d, T* y) {
  const int64_t a = d.ohow();
  MX_OMP_FOR_IF(d.x.n * d.f * a >= kOmpMinWork)
  for (int64_t nf = 0; nf < d.x.n * d.f; ++nf) {
    const T b = bias[nf % d.f];
    T* ys = y + nf * a;
    for (int64_t i = 0; i < a; ++i) ys[i] += b;
  }
}

template <typename T>
void Forward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
             const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  const ConvDims d = Dims(p, w, in[0].shape, out.shape);
  const T* x = in[0].data<T>();
  const T* wt = in[1].data<T>();
  T* y = out.data<T>();
  const T beta = req == OpReq::kAdd ? T(1) : T(0);
  const int64_t a = d.ohow();
  if (IsPointwise(w)) {
    for (int64_t n = 0; n < d.x.n; ++n) {
      for (int64_t g = 0; g < d.g; ++g) {
        blas::Gemm(false, false, d.fg, a, d.cg, T(1), wt + g * d.fg * d.k, d.k,
                   x + (n * d.x.c + g * d.cg) * a, a, beta, y + (n * d.f + g * d.fg) * a, a);
      }
    }
  } else {
    const int64_t chunk = ChunkSize(p, d, sizeof(T));
    T* col = static_cast<T*>(ctx.TempSpace(sizeof(T) * (d.k + d.fg) * chunk * a));
    T* ybuf = col + d.k * chunk * a;
    for (int64_t n0 = 0; n0 < d.x.n; n0 += chunk) {
      const int64_t c = std::min(chunk, d.x.n - n0);
      for (int64_t g = 0; g < d.g; ++g) {
        UnfoldChunk(x, d, w, n0, c, g, col);
        const T* wg = wt + g * d.fg * d.k;
        if (c == 1) {
          blas::Gemm(false, false, d.fg, a, d.k, T(1), wg, d.k, col, a, beta,
                     y + (n0 * d.f + g * d.fg) * a, a);
        } else {
          blas::Gemm(false, false, d.fg, c * a, d.k, T(1), wg, d.k, col, c * a, T(0), ybuf, c * a);
          MoveChunk<T, false>(y, d, n0, c, g, ybuf, req == OpReq::kAdd);
        }
      }
    }
  }
  if (!p.no_bias) AddBias(in[2].data<T>(), d, y);
}

// in = (ograd, data, weight); out = (data_grad, weight_grad[, bias_grad]).
template <typename T>
void Backward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
              const std::vector<TBlob>& in, const std::vector<OpReq>& req,
              const std::vector<TBlob>& out) {
  const ConvDims d = Dims(p, w, in[1].shape, in[0].shape);
  const T* dy = in[0].data<T>();
  const T* x = in[1].data<T>();
  const T* wt = in[2].data<T>();
  const bool want_dx = req[0] != OpReq::kNull, want_dw = req[1] != OpReq::kNull;
  T* dx = out[0].data<T>();
  T* dw = out[1].data<T>();
  const int64_t a = d.ohow();
  if (want_dx && req[0] != OpReq::kAdd) std::fill(dx, dx + out[0].Size(), T(0));
  // The weight gradient sums over samples: the first GEMM overwrites unless accumulating.
  bool dw_started = req[1] == OpReq::kAdd;
  if (IsPointwise(w)) {
    for (int64_t n = 0; n < d.x.n; ++n) {
      for (int64_t g = 0; g < d.g; ++g) {
        const T* dyg = dy + (n * d.f + g * d.fg) * a;
        const T* wg = wt + g * d.fg * d.k;
        if (want_dx) {
          blas::Gemm(true, false, d.cg, a, d.fg, T(1), wg, d.k, dyg, a, T(1),
                     dx + (n * d.x.c + g * d.cg) * a, a);
        }
        if (want_dw) {
          blas::Gemm(false, true, d.fg, d.cg, a, T(1), dyg, a, x + (n * d.x.c + g * d.cg) * a, a,
                     dw_started || n > 0 ? T(1) : T(0), dw + g * d.fg * d.k, d.k);
        }
      }
    }
  } else if (want_dx || want_dw) {
    const int64_t chunk = ChunkSize(p, d, sizeof(T));
    T* col = static_cast<T*>(ctx.TempSpace(sizeof(T) * (d.k + d.fg) * chunk * a));
    T* dybuf = col + d.k * chunk * a;
    for (int64_t n0 = 0; n0 < d.x.n; n0 += chunk) {
      const int64_t c = std::min(chunk, d.x.n - n0);
      const int64_t ld = c * a;
      for (int64_t g = 0; g < d.g; ++g) {
        // The chunk's output gradient as one fg x (c * ohow) matrix.
        const T* dyc = dy + (n0 * d.f + g * d.fg) * a;
        if (c > 1) {
          MoveChunk<T, true>(const_cast<T*>(dy), d, n0, c, g, dybuf);
          dyc = dybuf;
        }
        const T* wg = wt + g * d.fg * d.k;
        if (want_dw) {
          UnfoldChunk(x, d, w, n0, c, g, col);
          blas::Gemm(false, true, d.fg, d.k, ld, T(1), dyc, ld, col, ld, dw_started ? T(1) : T(0),
                     dw + g * d.fg * d.k, d.k);
        }
        if (want_dx) {
          blas::Gemm(true, false, d.k, ld, d.fg, T(1), wg, d.k, dyc, ld, T(0), col, ld);
          MX_OMP_FOR_IF(c > 1)
          for (int64_t j = 0; j < c; ++j) {
            Col2Im(col + j * a, ld, d.cg, d.x.h, d.x.w, w, d.oh, d.ow,
                   dx + ((n0 + j) * d.x.c + g * d.cg) * d.x.Area());
          }
        }
      }
      dw_started = true;
    }
  }
  if (!p.no_bias && req[2] != OpReq::kNull) {
    T* db = out[2].data<T>();
    if (req[2] != OpReq::kAdd) std::fill(db, db + d.f, T(0));
    for (int64_t n = 0; n < d.x.n; ++n) {
      for (int64_t f = 0; f < d.f; ++f) {
        const T* row = dy + (n * d.f + f) * a;
        T s = 0;
        for (int64_t i = 0; i < a; ++i) s += row[i];
        db[f] += s;
      }
    }
  }
}

// The CPU paths, on plain blobs: the direct kernel, oneDNN, im2col.
void CpuForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const ConvolutionParam& p = ConvParam(attrs);
  const Window w = ConvWindow(attrs);
  if (DirectConvForward(p, w, in, req[0], out[0])) return;
#if MX_USE_ONEDNN
  if (OneDNNConvForward(attrs, ctx, in, req[0], out[0])) return;
#endif
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name,
                      { Forward<T>(p, w, ctx, in, req[0], out[0]); });
}

void CpuBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
#if MX_USE_ONEDNN
  if (OneDNNConvBackward(attrs, ctx, in, req, out)) return;
#endif
  const ConvolutionParam& p = ConvParam(attrs);
  const Window w = ConvWindow(attrs);
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, { Backward<T>(p, w, ctx, in, req, out); });
}

void ForwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  if (ctx.run.ctx.is_gpu()) {
#if MX_USE_CUDA && MX_USE_CUDNN
    CudnnConvForward(ConvParam(attrs), ConvWindow(attrs), ctx, in, req[0], out[0]);
#else
    ThrowNeedsCudnn(attrs, ctx);
#endif
    return;
  }
  // Blocked activations (an executor's layout plan) are oneDNN's; a call it declines runs on
  // plain copies. So does the direct kernel of the first layers (few channels, so a plain input):
  // its plain output converted costs what oneDNN's reorder would, and its kernel is the faster.
  if (AnyBlocked(in, out)) {
#if MX_USE_ONEDNN
    if (!DirectConvApplies(ConvParam(attrs), ConvWindow(attrs), in[0].shape, out[0].shape,
                           in[0].dtype) &&
        OneDNNConvForward(attrs, ctx, in, req[0], out[0])) {
      return;
    }
#endif
    return ComputePlain(CpuForward, attrs, ctx, in, req, out);
  }
  CpuForward(attrs, ctx, in, req, out);
}

void BackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (ctx.run.ctx.is_gpu()) {
#if MX_USE_CUDA && MX_USE_CUDNN
    CudnnConvBackward(ConvParam(attrs), ConvWindow(attrs), ctx, in, req, out);
#else
    ThrowNeedsCudnn(attrs, ctx);
#endif
    return;
  }
  if (AnyBlocked(in, out)) {
#if MX_USE_ONEDNN
    if (OneDNNConvBackward(attrs, ctx, in, req, out)) return;
#endif
    return ComputePlain(CpuBackward, attrs, ctx, in, req, out);
  }
  CpuBackward(attrs, ctx, in, req, out);
}

std::vector<std::string> Inputs(const NodeAttrs& attrs) {
  if (ConvParam(attrs).no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

bool InferShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const ConvolutionParam& p = ConvParam(attrs);
  const Window w = ConvWindow(attrs);
  const int nd = w.ndim + 2;
  MX_CHECK(p.layout < 0 || p.layout == w.ndim, kInvalidArgument)
      << "layout does not match the kernel " << p.kernel << " (only NCW and NCHW are supported)";
  MX_CHECK(p.num_filter % p.num_group == 0, kInvalidArgument)
      << "num_filter " << p.num_filter << " is not divisible by num_group " << p.num_group;
  const int64_t f = p.num_filter;
  if (!p.no_bias) AssignShape(in, 2, Shape{f}, "input 'bias'");
  Shape& data = (*in)[0];
  // The batch size and spatial extents may come back from the output (backward inference).
  if (data.ndim() < 0 && (*out)[0].ndim() == nd) {
    Shape guess = Shape::Filled(nd, -1);
    guess[0] = (*out)[0][0];
    data = guess;
  }
  if (data.ndim() < 0) return false;
  MX_CHECK(data.ndim() == nd, kInvalidArgument)
      << "input 'data' must be " << nd << "-D (" << (nd == 3 ? "N, C, W" : "N, C, H, W")
      << ") for a kernel of " << w.ndim << " value" << (w.ndim == 1 ? "" : "s") << ", got shape "
      << data;
  const Shape& weight = (*in)[1];
  if (data[1] < 0 && weight.ndim() == nd && weight[1] >= 0) {
    Shape s = data;
    s[1] = weight[1] * p.num_group;
    AssignShape(in, 0, s, "input 'data'");
  }
  const int64_t c = data[1];
  MX_CHECK(c < 0 || c % p.num_group == 0, kInvalidArgument)
      << "input 'data' has " << c << " channels, not divisible by num_group " << p.num_group;
  Shape wshape = Shape::Filled(nd, -1);
  wshape[0] = f;
  wshape[1] = c < 0 ? -1 : c / p.num_group;
  for (int a = 0; a < w.ndim; ++a) wshape[2 + a] = p.kernel[a];
  AssignShape(in, 1, wshape, "input 'weight'");
  Shape oshape = Shape::Filled(nd, -1);
  oshape[0] = data[0];
  oshape[1] = f;
  for (int a = 0; a < w.ndim; ++a) {
    const int axis = w.ndim == 1 ? 1 : a;  // 1-D windows live in the W slot
    oshape[2 + a] = w.ConvOut(axis, data[2 + a], attrs.op->name);
  }
  AssignShape(out, 0, oshape, "output");
  Shape d = data;
  d[0] = (*out)[0][0];
  AssignShape(in, 0, d, "input 'data'");
  bool known = (*out)[0].IsKnown();
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known;
}

// Inputs (ograd, data, weight). The forward's inference checks data and weight against each other
// and gives ograd's shape: the op can be invoked by name with any arrays, and its kernels trust
// these shapes.
bool BackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  std::vector<Shape> fwd_in{(*in)[1], (*in)[2]}, fwd_out{(*in)[0]};
  if (!ConvParam(attrs).no_bias) fwd_in.push_back(Shape{ConvParam(attrs).num_filter});
  InferShape(attrs, &fwd_in, &fwd_out);
  AssignShape(in, 0, fwd_out[0], "input 'ograd'");
  AssignShape(in, 1, fwd_in[0], "input 'data'");
  AssignShape(in, 2, fwd_in[1], "input 'weight'");
  AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  AssignShape(out, 1, (*in)[2], "output 'weight_grad'");
  if (!ConvParam(attrs).no_bias) {
    AssignShape(out, 2, Shape{ConvParam(attrs).num_filter}, "output 'bias_grad'");
  }
  bool known = true;
  for (const Shape& s : *in) known = known && s.IsKnown();
  for (const Shape& s : *out) known = known && s.IsKnown();
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(ConvolutionParam);

const ConvolutionParam& ConvParam(const NodeAttrs& attrs) {
  return std::any_cast<const ConvolutionParam&>(attrs.parsed);
}

Window ConvWindow(const NodeAttrs& attrs) {
  const ConvolutionParam& p = ConvParam(attrs);
  return Window::FromParams(attrs.op->name, p.kernel, p.stride, p.dilate, p.pad);
}

void RegisterConvolutionOps(OpRegistry* reg) {
  reg->Add("Convolution")
      .Describe(
          "Convolution over 1-D (N, C, W) or 2-D (N, C, H, W) data.\n\n"
          "weight has shape (num_filter, C / num_group, kernel...) and bias (num_filter); both "
          "are inferred from data. Output extent per spatial axis: "
          "floor((in + 2*pad - dilate*(kernel-1) - 1) / stride) + 1. On the CPU it runs through "
          "oneDNN for float32 when libmx is built with it (MX_USE_ONEDNN), otherwise im2col + "
          "OpenBLAS GEMM; on the GPU through cuDNN.")
      .SetParam<ConvolutionParam>()
      .SetInputs(Inputs)
      .SetNumOutputs(1)
      .SetInferShape(InferShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(ForwardCompute, kGpuKernels)
#if MX_USE_ONEDNN
      .SetCreateState(DeviceType::kCPU,
                      [](const NodeAttrs& attrs, Context, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
                        return OneDNNConvState(attrs, false, in, req, out);
                      })
      .SetLayoutSlots([](const NodeAttrs& attrs, const std::vector<Shape>& in,
                         const std::vector<Shape>& out,
                         int dtype) { return OneDNNConvSlots(attrs, false, in, out, dtype); })
#endif
      .SetWork([](const NodeAttrs&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
        return FilterWork(out[0], in);
      })
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return MakeGradNode("_backward_Convolution", n, {og[0], InputOf(n, 0), InputOf(n, 1)},
                            n->attrs.dict);
      });

  reg->Add("_backward_Convolution")
      .Describe("Gradient of Convolution: data, weight and (unless no_bias) bias gradients.")
      .SetParam<ConvolutionParam>()
      .SetInputs({"ograd", "data", "weight"})
      .SetNumOutputs([](const NodeAttrs& attrs) { return ConvParam(attrs).no_bias ? 2 : 3; })
      .SetInferShape(BackwardShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(BackwardCompute, kGpuKernels)
#if MX_USE_ONEDNN
      .SetCreateState(DeviceType::kCPU,
                      [](const NodeAttrs& attrs, Context, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
                        return OneDNNConvState(attrs, true, in, req, out);
                      })
      .SetLayoutSlots([](const NodeAttrs& attrs, const std::vector<Shape>& in,
                         const std::vector<Shape>& out,
                         int dtype) { return OneDNNConvSlots(attrs, true, in, out, dtype); })
#endif
      .SetBackwardOf("Convolution");
}

}  // namespace mx
