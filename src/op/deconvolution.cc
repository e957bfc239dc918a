// Deconvolution: the transposed convolution (the adjoint of Convolution's data-to-output map),
// used to upsample. Its forward pass is a convolution's data-gradient computation and its
// data-gradient a convolution's forward pass, so both run as one GEMM plus col2im / im2col per
// sample and group (conv_util.h).
//
// With weight w of shape (C, F / g, kh, kw) for data of C channels, the output has F channels and
// extent (in - 1) * stride - 2 * pad + dilate * (kernel - 1) + 1 + adj per spatial axis; a
// target_shape picks pad and adj to reach that extent instead.
#include <algorithm>

#include "op/blas.h"
#include "op/cnn_ops.h"
#include "op/conv_util.h"
#include "op/convolution.h"
#include "op/cuda_util.h"
#include "op/kernel.h"
#include "op/op_util.h"

namespace mx {
namespace {

struct DeconvolutionParam : public dmlc::Parameter<DeconvolutionParam> {
  Tuple kernel, stride, dilate, pad, adj, target_shape;
  int num_filter;
  int num_group;
  uint64_t workspace;
  bool no_bias;
  int cudnn_tune;
  bool cudnn_off;
  int layout;
  DMLC_DECLARE_PARAMETER(DeconvolutionParam) {
    DMLC_DECLARE_FIELD(kernel).describe("Window size: (w,) for NCW data, (h, w) for NCHW data.");
    DMLC_DECLARE_FIELD(stride).set_default(Tuple()).describe(
        "Upsampling step per spatial axis; empty means 1.");
    DMLC_DECLARE_FIELD(dilate).set_default(Tuple()).describe(
        "Spacing between kernel taps per spatial axis; empty means 1.");
    DMLC_DECLARE_FIELD(pad).set_default(Tuple()).describe(
        "Rows/columns removed from both sides of the output; empty means 0.");
    DMLC_DECLARE_FIELD(adj).set_default(Tuple()).describe(
        "Extra rows/columns at the end of the output (each < stride); empty means 0.");
    DMLC_DECLARE_FIELD(target_shape)
        .set_default(Tuple())
        .describe("Output spatial extent; when given, pad and adj are derived from it.");
    DMLC_DECLARE_FIELD(num_filter).set_lower_bound(1).describe("Number of output channels.");
    DMLC_DECLARE_FIELD(num_group).set_default(1).set_lower_bound(1).describe(
        "Split input and output channels into this many independent groups.");
    DMLC_DECLARE_FIELD(workspace).set_default(512).describe(
        "Scratch memory bound in MB (accepted for MXNet compatibility).");
    DMLC_DECLARE_FIELD(no_bias).set_default(true).describe(
        "Leave out the bias input (the default, as in MXNet).");
    DMLC_DECLARE_FIELD(cudnn_tune)
        .add_enum("None", -1)
        .add_enum("off", 0)
        .add_enum("limited_workspace", 1)
        .add_enum("fastest", 2)
        .set_default(-1)
        .describe("cuDNN algorithm choice on the GPU (accepted for MXNet compatibility).");
    DMLC_DECLARE_FIELD(cudnn_off).set_default(false).describe(
        "Do not use cuDNN on the GPU (accepted for MXNet compatibility).");
    DMLC_DECLARE_FIELD(layout)
        .add_enum("None", -1)
        .add_enum("NCW", 1)
        .add_enum("NCHW", 2)
        .set_default(-1)
        .describe("Data layout; only channel-first layouts are supported (the default).");
  }
};

const DeconvolutionParam& Param(const NodeAttrs& attrs) {
  return std::any_cast<const DeconvolutionParam&>(attrs.parsed);
}

// The window of the convolution this op transposes, with pad (and adj) resolved for `data`'s
// spatial extents; adj[a] is the extra output along axis a.
Window DeconvWindow(const DeconvolutionParam& p, const std::string& op, const Shape& data,
                    int64_t adj[2]) {
  Window w = Window::FromParams(op, p.kernel, p.stride, p.dilate, p.pad);
  int64_t a2[2] = {0, 0};
  adj[0] = adj[1] = 0;
  if (!p.adj.empty()) {
    MX_CHECK(p.adj.size() == p.kernel.size(), kInvalidArgument)
        << "adj " << p.adj << " must have " << p.kernel.size() << " value(s), like kernel";
    for (size_t i = 0; i < p.adj.size(); ++i) a2[w.ndim == 1 ? 1 : i] = p.adj[i];
  }
  if (!p.target_shape.empty()) {
    MX_CHECK(p.target_shape.size() == p.kernel.size(), kInvalidArgument)
        << "target_shape " << p.target_shape << " must have " << p.kernel.size()
        << " value(s), like kernel";
    for (int i = 0; i < w.ndim; ++i) {
      const int a = w.ndim == 1 ? 1 : i;
      const int64_t in = data[2 + i];
      if (in < 0) continue;
      const int64_t full = w.stride[a] * (in - 1) + w.Span(a);
      MX_CHECK(full >= p.target_shape[i], kInvalidArgument)
          << "target_shape " << p.target_shape << " is larger than the largest output (" << full
          << " along spatial axis " << i << ")";
      const int64_t total = full - p.target_shape[i];
      w.pad[a] = (total + 1) / 2;
      a2[a] = total % 2;
    }
  }
  for (int a = 0; a < 2; ++a) {
    MX_CHECK(a2[a] >= 0 && (a2[a] < w.stride[a] || a2[a] == 0), kInvalidArgument)
        << "adj " << a2[a] << " must be smaller than the stride " << w.stride[a];
    adj[a] = a2[a];
  }
  return w;
}

int64_t DeconvOut(const Window& w, int a, int64_t in, int64_t adj) {
  if (in < 0) return -1;
  return w.stride[a] * (in - 1) + w.Span(a) - 2 * w.pad[a] + adj;
}

struct Dims {
  Plane x, y;  // data (N, C, IH, IW) and output (N, F, OH, OW)
  int64_t g, cg, fg, k;
};

Dims DimsOf(const DeconvolutionParam& p, const Window& w, const Shape& data, const Shape& out) {
  Dims d;
  d.x = Plane::Of(data);
  d.y = Plane::Of(out);
  d.g = p.num_group;
  d.cg = d.x.c / d.g;
  d.fg = d.y.c / d.g;
  d.k = d.fg * w.KernelSize();
  return d;
}

template <typename T>
void Forward(const DeconvolutionParam& p, const Window& w, const OpContext& ctx,
             const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  const Dims d = DimsOf(p, w, in[0].shape, out.shape);
  const T* x = in[0].data<T>();
  const T* wt = in[1].data<T>();
  T* y = out.data<T>();
  if (req != OpReq::kAdd) std::fill(y, y + out.Size(), T(0));
  const int64_t ia = d.x.Area();
  T* col = static_cast<T*>(ctx.TempSpace(sizeof(T) * d.k * ia));
  for (int64_t n = 0; n < d.x.n; ++n) {
    for (int64_t g = 0; g < d.g; ++g) {
      // col (fg*kh*kw x ih*iw) = w_g^T . x[n, g], then fold it onto the output.
      blas::Gemm(true, false, d.k, ia, d.cg, T(1), wt + g * d.cg * d.k, d.k,
                 x + (n * d.x.c + g * d.cg) * ia, ia, T(0), col, ia);
      Col2Im(col, ia, d.fg, d.y.h, d.y.w, w, d.x.h, d.x.w, y + (n * d.y.c + g * d.fg) * d.y.Area());
    }
  }
  if (!p.no_bias) {
    const T* b = in[2].data<T>();
    for (int64_t nf = 0; nf < d.y.n * d.y.c; ++nf) {
      T* ys = y + nf * d.y.Area();
      for (int64_t i = 0; i < d.y.Area(); ++i) ys[i] += b[nf % d.y.c];
    }
  }
}

// in = (ograd, data, weight); out = (data_grad, weight_grad[, bias_grad]).
template <typename T>
void Backward(const DeconvolutionParam& p, const Window& w, const OpContext& ctx,
              const std::vector<TBlob>& in, const std::vector<OpReq>& req,
              const std::vector<TBlob>& out) {
  const Dims d = DimsOf(p, w, in[1].shape, in[0].shape);
  const T* dy = in[0].data<T>();
  const T* x = in[1].data<T>();
  const T* wt = in[2].data<T>();
  T* dx = out[0].data<T>();
  T* dw = out[1].data<T>();
  const int64_t ia = d.x.Area();
  T* col = static_cast<T*>(ctx.TempSpace(sizeof(T) * d.k * ia));
  for (int64_t n = 0; n < d.x.n; ++n) {
    for (int64_t g = 0; g < d.g; ++g) {
      if (req[0] == OpReq::kNull && req[1] == OpReq::kNull) break;
      Im2Col(dy + (n * d.y.c + g * d.fg) * d.y.Area(), d.fg, d.y.h, d.y.w, w, d.x.h, d.x.w, col,
             ia);
      if (req[0] != OpReq::kNull) {
        // dx[n, g] (cg x ih*iw) = w_g (cg x k) . col
        blas::Gemm(false, false, d.cg, ia, d.k, T(1), wt + g * d.cg * d.k, d.k, col, ia,
                   req[0] == OpReq::kAdd ? T(1) : T(0), dx + (n * d.x.c + g * d.cg) * ia, ia);
      }
      if (req[1] != OpReq::kNull) {
        // dw_g (cg x k) += x[n, g] (cg x ih*iw) . col^T
        const bool first = n == 0 && req[1] != OpReq::kAdd;
        blas::Gemm(false, true, d.cg, d.k, ia, T(1), x + (n * d.x.c + g * d.cg) * ia, ia, col, ia,
                   first ? T(0) : T(1), dw + g * d.cg * d.k, d.k);
      }
    }
  }
  if (!p.no_bias && req[2] != OpReq::kNull) {
    T* db = out[2].data<T>();
    if (req[2] != OpReq::kAdd) std::fill(db, db + d.y.c, T(0));
    for (int64_t nf = 0; nf < d.y.n * d.y.c; ++nf) {
      const T* row = dy + nf * d.y.Area();
      T s = 0;
      for (int64_t i = 0; i < d.y.Area(); ++i) s += row[i];
      db[nf % d.y.c] += s;
    }
  }
}

void ForwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  int64_t adj[2];
  const Window w = DeconvWindow(Param(attrs), attrs.op->name, in[0].shape, adj);
  if (ctx.run.ctx.is_gpu()) {
#if MX_USE_CUDA && MX_USE_CUDNN
    const DeconvolutionParam& p = Param(attrs);
    CudnnDeconvForward(w, p.num_group, p.no_bias, ctx, in, req[0], out[0]);
#else
    ThrowNeedsCudnn(attrs, ctx);
#endif
    return;
  }
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name,
                      { Forward<T>(Param(attrs), w, ctx, in, req[0], out[0]); });
}

void BackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  int64_t adj[2];
  const Window w = DeconvWindow(Param(attrs), attrs.op->name, in[1].shape, adj);
  if (ctx.run.ctx.is_gpu()) {
#if MX_USE_CUDA && MX_USE_CUDNN
    const DeconvolutionParam& p = Param(attrs);
    CudnnDeconvBackward(w, p.num_group, p.no_bias, ctx, in, req, out);
#else
    ThrowNeedsCudnn(attrs, ctx);
#endif
    return;
  }
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name,
                      { Backward<T>(Param(attrs), w, ctx, in, req, out); });
}

std::vector<std::string> Inputs(const NodeAttrs& attrs) {
  if (Param(attrs).no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

bool InferShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const DeconvolutionParam& p = Param(attrs);
  MX_CHECK(p.kernel.size() == 1 || p.kernel.size() == 2, kInvalidArgument)
      << "kernel " << p.kernel << " must have 1 (NCW data) or 2 (NCHW data) values";
  const int sd = static_cast<int>(p.kernel.size());
  const int nd = sd + 2;
  MX_CHECK(p.layout < 0 || p.layout == sd, kInvalidArgument)
      << "layout does not match the kernel " << p.kernel << " (only NCW and NCHW are supported)";
  MX_CHECK(p.num_filter % p.num_group == 0, kInvalidArgument)
      << "num_filter " << p.num_filter << " is not divisible by num_group " << p.num_group;
  if (!p.no_bias) AssignShape(in, 2, Shape{p.num_filter}, "input 'bias'");
  Shape& data = (*in)[0];
  // The batch size comes back from the output, the channels from the weight (backward
  // inference), as for Convolution.
  if (data.ndim() < 0 && (*out)[0].ndim() == nd) data = Shape::Filled(nd, -1);
  if (data.ndim() < 0) return false;
  MX_CHECK(data.ndim() == nd, kInvalidArgument)
      << "input 'data' must be " << nd << "-D for a kernel of " << sd << " value(s), got shape "
      << data;
  {
    Shape d = data;
    if ((*out)[0].ndim() == nd) d[0] = (*out)[0][0];
    if ((*in)[1].ndim() == nd) d[1] = (*in)[1][0];
    AssignShape(in, 0, d, "input 'data'");
  }
  MX_CHECK(data[1] < 0 || data[1] % p.num_group == 0, kInvalidArgument)
      << "input 'data' has " << data[1] << " channels, not divisible by num_group " << p.num_group;
  int64_t adj[2];
  const Window w = DeconvWindow(p, attrs.op->name, data, adj);
  Shape wshape = Shape::Filled(nd, -1);
  wshape[0] = data[1];
  wshape[1] = p.num_filter / p.num_group;
  for (int a = 0; a < sd; ++a) wshape[2 + a] = p.kernel[a];
  AssignShape(in, 1, wshape, "input 'weight'");
  Shape o = Shape::Filled(nd, -1);
  o[0] = data[0];
  o[1] = p.num_filter;
  for (int i = 0; i < sd; ++i) {
    const int a = sd == 1 ? 1 : i;
    o[2 + i] = DeconvOut(w, a, data[2 + i], adj[a]);
    MX_CHECK(o[2 + i] < 0 || o[2 + i] > 0, kInvalidArgument)
        << "the output would be empty along spatial axis " << i << " (pad " << w.pad[a]
        << " too large)";
  }
  AssignShape(out, 0, o, "output");
  bool known = (*out)[0].IsKnown();
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known;
}

// Inputs (ograd, data, weight). The forward's inference checks data and weight against each other
// and gives ograd's shape: the op can be invoked by name with any arrays, and its kernels trust
// these shapes.
bool BackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  std::vector<Shape> fwd_in{(*in)[1], (*in)[2]}, fwd_out{(*in)[0]};
  if (!Param(attrs).no_bias) fwd_in.push_back(Shape{Param(attrs).num_filter});
  InferShape(attrs, &fwd_in, &fwd_out);
  AssignShape(in, 0, fwd_out[0], "input 'ograd'");
  AssignShape(in, 1, fwd_in[0], "input 'data'");
  AssignShape(in, 2, fwd_in[1], "input 'weight'");
  AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  AssignShape(out, 1, (*in)[2], "output 'weight_grad'");
  if (!Param(attrs).no_bias)
    AssignShape(out, 2, Shape{Param(attrs).num_filter}, "output 'bias_grad'");
  bool known = true;
  for (const Shape& s : *in) known = known && s.IsKnown();
  for (const Shape& s : *out) known = known && s.IsKnown();
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(DeconvolutionParam);

void RegisterDeconvolutionOps(OpRegistry* reg) {
  reg->Add("Deconvolution")
      .Describe(
          "Transposed convolution over 1-D (N, C, W) or 2-D (N, C, H, W) data.\n\n"
          "weight has shape (C, num_filter / num_group, kernel...). Output extent per spatial "
          "axis: (in - 1) * stride - 2 * pad + dilate * (kernel - 1) + 1 + adj, or target_shape "
          "when given (pad and adj then follow from it). no_bias defaults to true, as in MXNet.")
      .SetParam<DeconvolutionParam>()
      .SetInputs(Inputs)
      .SetNumOutputs(1)
      .SetInferShape(InferShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(ForwardCompute, kGpuKernels)
      .SetWork([](const NodeAttrs&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
        return FilterWork(in[0], in);
      })
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return MakeGradNode("_backward_Deconvolution", n, {og[0], InputOf(n, 0), InputOf(n, 1)},
                            n->attrs.dict);
      });

  reg->Add("_backward_Deconvolution")
      .Describe("Gradient of Deconvolution: data, weight and (with a bias) bias gradients.")
      .SetParam<DeconvolutionParam>()
      .SetInputs({"ograd", "data", "weight"})
      .SetNumOutputs([](const NodeAttrs& attrs) { return Param(attrs).no_bias ? 2 : 3; })
      .SetInferShape(BackwardShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(BackwardCompute, kGpuKernels)
      .SetBackwardOf("Deconvolution");
}

}  // namespace mx
