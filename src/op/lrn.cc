// LRN: local response normalisation across channels (AlexNet), MXNet's formula:
//
//   s[c] = knorm + alpha / nsize * sum_{|c' - c| <= nsize / 2} x[c']^2,   out[c] = x[c] *
//   s[c]^-beta
//
// Every element computes its own window sum (nsize reads a channel stride apart) instead of a
// running sum along the channels: no cancellation error in float32, and one independent element
// per index is the launch/map shape a GPU kernel wants. nsize is small (5 in AlexNet).
//
// The backward op recomputes s from the input rather than keeping it as a hidden output (MXNet's
// tmp_norm): one extra pass over the data, but no extra array alive between forward and backward.
// On the GPU, cuDNN's cross-channel LRN computes the same (cudnn_lrn.cc) where its ranges allow.
#include "op/cudnn_ops.h"
#include "op/kernel.h"
#include "op/math_functors.h"
#include "op/nn_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

struct LRNParam : public dmlc::Parameter<LRNParam> {
  float alpha;
  float beta;
  float knorm;
  int nsize;
  DMLC_DECLARE_PARAMETER(LRNParam) {
    DMLC_DECLARE_FIELD(alpha).set_default(1e-4f).describe(
        "The variance scaling alpha: the window's sum of squares is scaled by alpha / nsize.");
    DMLC_DECLARE_FIELD(beta).set_default(0.75f).describe("The power beta.");
    DMLC_DECLARE_FIELD(knorm).set_default(2.0f).describe("The additive constant k.");
    DMLC_DECLARE_FIELD(nsize).set_lower_bound(1).describe(
        "The normalisation window width in channels; must be odd (the window is centred).");
  }
};

const LRNParam& Param(const NodeAttrs& attrs) { return attrs.get<LRNParam>(); }

bool LRNShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  MX_CHECK(Param(attrs).nsize % 2 == 1, kInvalidArgument)
      << "nsize=" << Param(attrs).nsize << " must be odd (the window is centred on the channel)";
  const bool known = ElemwiseShape(attrs, in, out);
  const Shape& data = (*in)[0];
  MX_CHECK(data.ndim() < 0 || data.ndim() == 4, kInvalidArgument)
      << "input 'data' must be 4-D (batch, channel, height, width), got shape " << data;
  return known;
}

// The (batch, channel, inner) view of an NCHW array: the window runs along the middle axis.
struct ChannelView {
  int64_t channels, inner;
  explicit ChannelView(const Shape& s) : channels(s[1]), inner(s.ProdDims(2, s.ndim())) {}
};

// The window sum of v^2 (or of v itself, for the backward's second pass) around element i.
template <bool kSquare, typename T>
MX_XINLINE T WindowSum(const T* v, int64_t i, int64_t channels, int64_t inner, int half) {
  const int64_t c = (i / inner) % channels;
  const int64_t lo = c - half < 0 ? 0 : c - half;
  const int64_t hi = c + half >= channels ? channels - 1 : c + half;
  const T* col = v + (i - c * inner);  // channel 0 of i's column
  T sum = 0;
  for (int64_t k = lo; k <= hi; ++k) {
    const T e = col[k * inner];
    sum += kSquare ? e * e : e;
  }
  return sum;
}

template <OpReq Req>
struct LRNKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* x, int64_t channels, int64_t inner, int half,
                             T salpha, T knorm, T beta) {
    const T s = knorm + salpha * WindowSum<true>(x, i, channels, inner, half);
    Assign<Req>(y[i], x[i] * math::pow(s, -beta));
  }
};

void LRNForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const LRNParam& p = Param(attrs);
#if MX_USE_CUDA && MX_USE_CUDNN
  if (ctx.run.ctx.is_gpu() &&
      CudnnLRNForward(p.nsize, p.alpha, p.beta, p.knorm, ctx, in[0], req[0], out[0])) {
    return;
  }
#endif
  const ChannelView v(in[0].shape);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<LRNKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(),
                                     v.channels, v.inner, p.nsize / 2, T(p.alpha) / T(p.nsize),
                                     T(p.knorm), T(p.beta));
    });
  });
}

// ---- backward: inputs (ograd, data) ----
//
// With s as above and y = x s^-beta, for a centred (symmetric) window:
//   dx[k] = dy[k] s[k]^-beta - 2 beta alpha / nsize * x[k] * sum_{c in window(k)} t[c],
//   t[c] = dy[c] x[c] s[c]^(-beta-1).
// Pass 1 stores s^-beta and t in temp space; pass 2 sums t over each window.

struct LRNGradPrepKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* s_pow, T* t, const T* dy, const T* x, int64_t channels,
                             int64_t inner, int half, T salpha, T knorm, T beta) {
    const T s = knorm + salpha * WindowSum<true>(x, i, channels, inner, half);
    s_pow[i] = math::pow(s, -beta);
    t[i] = dy[i] * x[i] * s_pow[i] / s;
  }
};

template <OpReq Req>
struct LRNGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* dx, const T* s_pow, const T* t, const T* dy, const T* x,
                             int64_t channels, int64_t inner, int half, T scale) {
    Assign<Req>(dx[i],
                dy[i] * s_pow[i] - scale * x[i] * WindowSum<false>(t, i, channels, inner, half));
  }
};

void LRNBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const LRNParam& p = Param(attrs);
#if MX_USE_CUDA && MX_USE_CUDNN
  if (ctx.run.ctx.is_gpu() &&
      CudnnLRNBackward(p.nsize, p.alpha, p.beta, p.knorm, ctx, in[0], in[1], req[0], out[0])) {
    return;
  }
#endif
  const ChannelView v(in[1].shape);
  const int64_t n = in[1].Size();
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    T* s_pow = static_cast<T*>(ctx.TempSpace(2 * n * sizeof(T)));
    T* t = s_pow + n;
    const T* dy = in[0].data<T>();
    const T* x = in[1].data<T>();
    const T salpha = T(p.alpha) / T(p.nsize);
    Kernel<LRNGradPrepKernel>::Launch(ctx, n, s_pow, t, dy, x, v.channels, v.inner, p.nsize / 2,
                                      salpha, T(p.knorm), T(p.beta));
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<LRNGradKernel<Req>>::Launch(ctx, n, out[0].data<T>(), s_pow, t, dy, x, v.channels,
                                         v.inner, p.nsize / 2, T(2) * T(p.beta) * salpha);
    });
  });
}

}  // namespace

DMLC_REGISTER_PARAMETER(LRNParam);

void RegisterLRNOps(OpRegistry* reg) {
  reg->Add("LRN")
      .Describe(
          "Local response normalisation across channels of NCHW data:\n\n"
          "  out[n,c,h,w] = x[n,c,h,w] / (knorm + alpha / nsize * sum x[n,c',h,w]^2)^beta\n\n"
          "where c' runs over the nsize channels centred on c (clipped at the edges; nsize odd).")
      .SetParam<LRNParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(LRNShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(LRNForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("_backward_LRN", n, "backward", {og[0], InputOf(n, 0)}, n->attrs.dict)};
      });

  reg->Add("_backward_LRN")
      .Describe("Gradient of LRN with respect to data, recomputing the norms from the input.")
      .SetParam<LRNParam>()
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(LRNShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(LRNBackward, kGpuKernels)
      .SetBackwardOf("LRN");
}

}  // namespace mx
