// Activation (relu, sigmoid, tanh, softrelu), softmax and log_softmax.
//
// Every gradient here is computed from the forward output, like MXNet, so the planner can free the
// input as soon as the forward op has run. On the GPU, relu, sigmoid, tanh and both softmaxes go
// to cuDNN (cudnn_activation.cc); the kernels below serve the CPU and what cuDNN does not take.
#include <algorithm>

#include "op/cudnn_ops.h"
#include "op/elemwise.h"
#include "op/nn_ops.h"
#include "op/softmax_impl.h"

namespace mx {
namespace {

using softmax::AxisView;
using softmax::LaunchLanes;
using softmax::NormalizeAxis;
using softmax::ViewAround;

enum ActType { kRelu, kSigmoid, kTanh, kSoftRelu };

struct ActivationParam : public dmlc::Parameter<ActivationParam> {
  int act_type;
  DMLC_DECLARE_PARAMETER(ActivationParam) {
    DMLC_DECLARE_FIELD(act_type)
        .add_enum("relu", kRelu)
        .add_enum("sigmoid", kSigmoid)
        .add_enum("tanh", kTanh)
        .add_enum("softrelu", kSoftRelu)
        .describe(
            "The activation function: relu max(x, 0), sigmoid 1/(1+e^-x), tanh, or "
            "softrelu log(1+e^x).");
  }
};

struct SoftmaxParam : public dmlc::Parameter<SoftmaxParam> {
  int axis;
  DMLC_DECLARE_PARAMETER(SoftmaxParam) {
    DMLC_DECLARE_FIELD(axis).set_default(-1).describe(
        "The axis along which to normalise; negative counts from the last axis.");
  }
};

// Runs `body` with F bound to the functor of the op's act_type.
template <typename Body>
void WithActFunctor(const NodeAttrs& attrs, Body body) {
  switch (std::any_cast<const ActivationParam&>(attrs.parsed).act_type) {
    case kRelu:
      return body(fn::Relu{});
    case kSigmoid:
      return body(fn::Sigmoid{});
    case kTanh:
      return body(fn::Tanh{});
    case kSoftRelu:
      return body(fn::SoftRelu{});
  }
}

#if MX_USE_CUDA && MX_USE_CUDNN
// cuDNN's mode for the op's act_type on a GPU array; false for softrelu (not in cuDNN) and for
// CPU arrays.
bool DnnActivationOf(const NodeAttrs& attrs, const OpContext& ctx, DnnActivation* act) {
  if (!ctx.run.ctx.is_gpu()) return false;
  switch (std::any_cast<const ActivationParam&>(attrs.parsed).act_type) {
    case kRelu:
      *act = DnnActivation::kRelu;
      return true;
    case kSigmoid:
      *act = DnnActivation::kSigmoid;
      return true;
    case kTanh:
      *act = DnnActivation::kTanh;
      return true;
    default:
      return false;
  }
}
#endif

void ActivationForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
#if MX_USE_CUDA && MX_USE_CUDNN
  DnnActivation act;
  if (DnnActivationOf(attrs, ctx, &act) &&
      CudnnActivationForward(act, ctx, in[0], req[0], out[0])) {
    return;
  }
#endif
  WithActFunctor(attrs, [&](auto f) {
    using F = decltype(f);
    static_assert(F::kGradUsesOutput, "the backward op reads the output");
    UnaryCompute<F, true>(attrs, ctx, in, req, out);
  });
}

void ActivationBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
#if MX_USE_CUDA && MX_USE_CUDNN
  DnnActivation act;
  if (DnnActivationOf(attrs, ctx, &act) &&
      CudnnActivationBackward(act, ctx, in[0], in[1], req[0], out[0])) {
    return;
  }
#endif
  WithActFunctor(attrs, [&](auto f) { UnaryGradCompute<decltype(f)>(attrs, ctx, in, req, out); });
}

// ---- softmax ----

bool SoftmaxShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const bool known = ElemwiseShape(attrs, in, out);
  const Shape& s = (*in)[0];
  if (s.ndim() >= 0) {
    MX_CHECK(s.ndim() >= 1, kInvalidArgument) << "input 'data' must have at least 1 dimension";
    NormalizeAxis(std::any_cast<const SoftmaxParam&>(attrs.parsed).axis, s);
  }
  return known;
}

template <bool kLog>
void SoftmaxForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const AxisView v = ViewAround(in[0].shape, std::any_cast<const SoftmaxParam&>(attrs.parsed).axis);
  if (v.len == 0) return;
#if MX_USE_CUDA && MX_USE_CUDNN
  if (ctx.run.ctx.is_gpu() &&
      CudnnSoftmaxForward(kLog, v.outer, v.len, v.inner, ctx, in[0], req[0], out[0])) {
    return;
  }
#endif
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      LaunchLanes<softmax::ForwardLane<kLog, Req>>(ctx, v, in[0].data<T>(), out[0].data<T>());
    });
  });
}

// Inputs (ograd, output).
template <bool kLog>
void SoftmaxBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const AxisView v = ViewAround(in[1].shape, std::any_cast<const SoftmaxParam&>(attrs.parsed).axis);
  if (v.len == 0) return;
#if MX_USE_CUDA && MX_USE_CUDNN
  if (ctx.run.ctx.is_gpu() &&
      CudnnSoftmaxBackward(kLog, v.outer, v.len, v.inner, ctx, in[0], in[1], req[0], out[0])) {
    return;
  }
#endif
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      LaunchLanes<softmax::BackwardLane<kLog, Req>>(ctx, v, in[0].data<T>(), in[1].data<T>(),
                                                    out[0].data<T>());
    });
  });
}

template <bool kLog>
void AddSoftmax(OpRegistry* reg, const std::string& name, const std::string& doc) {
  const std::string bwd = "_backward_" + name;
  reg->Add(name)
      .Describe(doc)
      .SetParam<SoftmaxParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(SoftmaxShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(SoftmaxForward<kLog>, kGpuKernels)
      .SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry(bwd, n, "backward", {og[0], OutputOf(n)}, n->attrs.dict)};
      });
  reg->Add(bwd)
      .Describe("Gradient of " + name + ", from the output gradient and the output.")
      .SetParam<SoftmaxParam>()
      .SetInputs({"ograd", "output"})
      .SetNumOutputs(1)
      .SetInferShape(SoftmaxShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(SoftmaxBackward<kLog>, kGpuKernels)
      .SetBackwardOf(name);
}

}  // namespace

DMLC_REGISTER_PARAMETER(ActivationParam);
DMLC_REGISTER_PARAMETER(SoftmaxParam);

void RegisterActivationOps(OpRegistry* reg) {
  reg->Add("Activation")
      .Describe(
          "Applies an activation function elementwise: relu, sigmoid, tanh or softrelu "
          "(act_type). The gradient is computed from the output.")
      .SetParam<ActivationParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(ActivationForward, kGpuKernels)
      .SetElementwise()
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{MakeGradEntry("_backward_Activation", n, "backward",
                                                    {og[0], OutputOf(n)}, n->attrs.dict)};
      });
  reg->Add("_backward_Activation")
      .Describe("Gradient of Activation, from the output gradient and the output.")
      .SetParam<ActivationParam>()
      .SetInputs({"ograd", "output"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(ActivationBackward, kGpuKernels)
      .SetElementwise()
      .SetBackwardOf("Activation");

  AddSoftmax<false>(reg, "softmax",
                    "Softmax along `axis`: out = exp(x - max) / sum(exp(x - max)), computed "
                    "stably by shifting by the maximum of each slice.");
  AddSoftmax<true>(reg, "log_softmax",
                   "Log of the softmax along `axis`: out = x - max - log(sum(exp(x - max))), "
                   "computed stably without forming the softmax.");
}

}  // namespace mx
