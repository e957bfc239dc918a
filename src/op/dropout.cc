// Dropout: in training, zero each element with probability p and scale the rest by 1 / (1 - p),
// so the expected output equals the input; at inference, the identity.
//
// The mask (0 or 1 / (1 - p) per element) is a hidden output the backward op multiplies with,
// drawn from the device's seeded counter-based generator (ResourceType::kRandom): the same seed
// gives the same masks, for any thread count.
#include <algorithm>
#include <cstring>

#include "op/cnn_ops.h"
#include "op/elemwise.h"
#include "op/fill.h"
#include "op/kernel.h"
#include "op/matrix_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

enum DropoutMode { kTraining = 0, kAlways = 1 };

struct DropoutParam : public dmlc::Parameter<DropoutParam> {
  float p;
  int mode;
  bool cudnn_off;
  DMLC_DECLARE_PARAMETER(DropoutParam) {
    DMLC_DECLARE_FIELD(p).set_default(0.5f).set_range(0, 1).describe(
        "Probability of zeroing an element.");
    DMLC_DECLARE_FIELD(mode)
        .add_enum("training", kTraining)
        .add_enum("always", kAlways)
        .set_default(kTraining)
        .describe("training: drop only in training passes; always: also at inference.");
    DMLC_DECLARE_FIELD(cudnn_off).set_default(false).describe(
        "Do not use cuDNN on the GPU (accepted for MXNet compatibility).");
  }
};

const DropoutParam& Param(const NodeAttrs& attrs) {
  return std::any_cast<const DropoutParam&>(attrs.parsed);
}

// Each of the output and the mask is written only when something reads it: an executor gives an
// output nobody needs no memory (request kNull), e.g. the mask in a forward-only executor.
template <bool KeepOutput, bool KeepMask>
struct DropoutKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, T* mask, const T* x, RandomGenerator rng,
                             uint64_t base, float keep, T scale) {
    const T m = rng.Uniform(base + static_cast<uint64_t>(i)) < keep ? scale : T(0);
    if (KeepMask) mask[i] = m;
    if (KeepOutput) y[i] = x[i] * m;
  }
};

template <typename T>
void Forward(const DropoutParam& p, const OpContext& ctx, const std::vector<TBlob>& in,
             const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const int64_t n = in[0].Size();
  const T* x = in[0].data<T>();
  T* y = out[0].data<T>();
  T* mask = out[1].data<T>();
  const bool drop = (ctx.is_train || p.mode == kAlways) && p.p > 0;
  if (!drop) {
    matrix::CopyOrAdd(ctx.run, in[0], req[0], out[0], "Dropout");
    // A backward pass after a pass that dropped nothing passes the gradient through.
    FillBlob(ctx.run, out[1], req[1], 1.0, "Dropout");
    return;
  }
  RandomGenerator* rng = ctx.Random();
  const float keep = 1.0f - p.p;
  const T scale = keep > 0 ? T(1) / static_cast<T>(keep) : T(0);
  const uint64_t base = rng->Reserve(static_cast<uint64_t>(n));
  // The generator goes by value: its draws are a function of (seed, index), on either device.
  const RandomGenerator gen = *rng;
  if (req[0] == OpReq::kNull) {
    Kernel<DropoutKernel<false, true>>::Launch(ctx, n, y, mask, x, gen, base, keep, scale);
  } else if (req[1] == OpReq::kNull) {
    Kernel<DropoutKernel<true, false>>::Launch(ctx, n, y, mask, x, gen, base, keep, scale);
  } else {
    Kernel<DropoutKernel<true, true>>::Launch(ctx, n, y, mask, x, gen, base, keep, scale);
  }
}

void ForwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_CHECK(req[0] != OpReq::kAdd, kUnsupported) << "Dropout cannot accumulate into its output";
  if (req[0] == OpReq::kNull && req[1] == OpReq::kNull) return;
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name,
                      { Forward<T>(Param(attrs), ctx, in, req, out); });
}

// in = (ograd, mask).
void BackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<BinaryKernel<fn::Mul, Req>>::Launch(ctx, in[0].Size(), out[0].data<T>(),
                                                 in[0].data<T>(), in[1].data<T>());
    });
  });
}

bool InferShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  return ElemwiseShape(attrs, in, out);
}

}  // namespace

DMLC_REGISTER_PARAMETER(DropoutParam);

void RegisterDropoutOps(OpRegistry* reg) {
  reg->Add("Dropout")
      .Describe(
          "Dropout: in training, each element is zeroed with probability p and the others are "
          "scaled by 1/(1-p); at inference the op is the identity (unless mode=always).\n\n"
          "The mask is drawn from the seeded generator of the device (mx_random_seed), so a seed "
          "reproduces a training run.")
      .SetParam<DropoutParam>()
      .SetInputs({"data"})
      .SetNumOutputs(2)
      .SetNumVisibleOutputs([](const NodeAttrs&) { return 1; })
      .SetOutputNames([](const NodeAttrs&) {
        return std::vector<std::string>{"output", "mask"};
      })
      .SetInferShape(InferShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetResources({ResourceType::kRandom})
      .SetComputeAll(ForwardCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("_backward_Dropout", n, "backward", {og[0], OutputOf(n, 1)})};
      });

  reg->Add("_backward_Dropout")
      .Describe("Gradient of Dropout: the output gradient times the mask.")
      .SetNoParam()
      .SetInputs({"ograd", "mask"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(BackwardCompute, kGpuKernels)
      .SetBackwardOf("Dropout");
}

}  // namespace mx
