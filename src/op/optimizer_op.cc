// Optimizer update ops: a parameter update is one engine op, run lazily like everything else.
//
// Each writes the updated weight to its output (pass the weight itself as the output to update
// in place) and updates its state inputs (momentum, Adam's mean and variance) in place. The
// formulas are MXNet's (optimizer_op-inl.h), including where weight decay and clipping enter:
//   g = clip(rescale_grad * grad, clip_gradient)       (clipping is off when clip_gradient < 0)
//   sgd:      w = (1 - lr * wd) * w - lr * g
//   sgd_mom:  mom = momentum * mom - lr * wd * w - lr * g;   w = w + mom
//   adam:     g = clip(rescale_grad * grad + wd * w, clip_gradient)
//             mean = beta1 * mean + (1 - beta1) * g;  var = beta2 * var + (1 - beta2) * g^2
//             w = w - lr * mean / (sqrt(var) + epsilon)
// Adam's bias correction is folded into lr by the caller (the Python optimizer does it), as in
// MXNet.
#include "op/elemwise.h"

namespace mx {
namespace {

constexpr const char* kWdDoc =
    "Weight decay: adds wd * weight to the gradient (an L2 penalty of wd/2 * |weight|^2).";
constexpr const char* kRescaleDoc = "Multiplies the gradient by this before anything else.";
constexpr const char* kClipDoc =
    "Clips the rescaled gradient to [-clip_gradient, clip_gradient]; a negative value turns "
    "clipping off.";

struct SGDParam : public dmlc::Parameter<SGDParam> {
  double lr, wd, rescale_grad, clip_gradient;
  DMLC_DECLARE_PARAMETER(SGDParam) {
    DMLC_DECLARE_FIELD(lr).describe("Learning rate.");
    DMLC_DECLARE_FIELD(wd).set_default(0.0).describe(kWdDoc);
    DMLC_DECLARE_FIELD(rescale_grad).set_default(1.0).describe(kRescaleDoc);
    DMLC_DECLARE_FIELD(clip_gradient).set_default(-1.0).describe(kClipDoc);
  }
};

struct SGDMomParam : public dmlc::Parameter<SGDMomParam> {
  double lr, momentum, wd, rescale_grad, clip_gradient;
  DMLC_DECLARE_PARAMETER(SGDMomParam) {
    DMLC_DECLARE_FIELD(lr).describe("Learning rate.");
    DMLC_DECLARE_FIELD(momentum).set_default(0.0).describe(
        "Decay rate of the momentum: the fraction of the previous step kept in this one.");
    DMLC_DECLARE_FIELD(wd).set_default(0.0).describe(kWdDoc);
    DMLC_DECLARE_FIELD(rescale_grad).set_default(1.0).describe(kRescaleDoc);
    DMLC_DECLARE_FIELD(clip_gradient).set_default(-1.0).describe(kClipDoc);
  }
};

struct AdamParam : public dmlc::Parameter<AdamParam> {
  double lr, beta1, beta2, epsilon, wd, rescale_grad, clip_gradient;
  DMLC_DECLARE_PARAMETER(AdamParam) {
    DMLC_DECLARE_FIELD(lr).describe("Learning rate (with Adam's bias correction folded in).");
    DMLC_DECLARE_FIELD(beta1).set_default(0.9).set_range(0.0, 1.0).describe(
        "Decay rate of the first moment (mean) estimate.");
    DMLC_DECLARE_FIELD(beta2).set_default(0.999).set_range(0.0, 1.0).describe(
        "Decay rate of the second moment (variance) estimate.");
    DMLC_DECLARE_FIELD(epsilon).set_default(1e-8).set_lower_bound(0.0).describe(
        "Added to sqrt(var) to keep the step finite.");
    DMLC_DECLARE_FIELD(wd).set_default(0.0).describe(kWdDoc);
    DMLC_DECLARE_FIELD(rescale_grad).set_default(1.0).describe(kRescaleDoc);
    DMLC_DECLARE_FIELD(clip_gradient).set_default(-1.0).describe(kClipDoc);
  }
};

template <typename T>
MX_XINLINE T Clip(T g, T bound) {
  if (bound < T(0)) return g;
  return g > bound ? bound : (g < -bound ? -bound : g);
}

template <OpReq Req>
struct SGDKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* w, const T* g, T lr, T wd, T rescale,
                             T clip) {
    Assign<Req>(out[i], T((T(1) - lr * wd) * w[i] - lr * Clip(rescale * g[i], clip)));
  }
};

template <OpReq Req>
struct SGDMomKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, T* mom, const T* w, const T* g, T lr, T momentum,
                             T wd, T rescale, T clip) {
    mom[i] = momentum * mom[i] - lr * wd * w[i] - lr * Clip(rescale * g[i], clip);
    Assign<Req>(out[i], T(w[i] + mom[i]));
  }
};

template <OpReq Req>
struct AdamKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, T* mean, T* var, const T* w, const T* g, T lr,
                             T beta1, T beta2, T eps, T wd, T rescale, T clip) {
    const T gi = Clip(rescale * g[i] + wd * w[i], clip);
    mean[i] = beta1 * mean[i] + (T(1) - beta1) * gi;
    var[i] = beta2 * var[i] + (T(1) - beta2) * gi * gi;
    Assign<Req>(out[i], T(w[i] - lr * mean[i] / (math::sqrt(var[i]) + eps)));
  }
};

// Launches K<req>. Unlike MX_REQ_SWITCH, kNull still runs: the state inputs must be updated even
// when nobody reads the new weight (Assign<kNull> then leaves the output alone).
template <template <OpReq> class K, typename... Args>
void LaunchWithReq(const OpContext& ctx, OpReq req, int64_t n, Args... args) {
  switch (req) {
    case OpReq::kNull:
      Kernel<K<OpReq::kNull>>::Launch(ctx, n, args...);
      break;
    case OpReq::kAdd:
      Kernel<K<OpReq::kAdd>>::Launch(ctx, n, args...);
      break;
    case OpReq::kWrite:
    case OpReq::kInplace:
      Kernel<K<OpReq::kWrite>>::Launch(ctx, n, args...);
      break;
  }
}

void SGDUpdate(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
               const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const SGDParam& p = std::any_cast<const SGDParam&>(attrs.parsed);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    LaunchWithReq<SGDKernel>(ctx, req[0], out[0].Size(), out[0].data<T>(), in[0].data<T>(),
                             in[1].data<T>(), T(p.lr), T(p.wd), T(p.rescale_grad),
                             T(p.clip_gradient));
  });
}

void SGDMomUpdate(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                  const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const SGDMomParam& p = std::any_cast<const SGDMomParam&>(attrs.parsed);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    LaunchWithReq<SGDMomKernel>(ctx, req[0], out[0].Size(), out[0].data<T>(), in[2].data<T>(),
                                in[0].data<T>(), in[1].data<T>(), T(p.lr), T(p.momentum), T(p.wd),
                                T(p.rescale_grad), T(p.clip_gradient));
  });
}

void AdamUpdate(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const AdamParam& p = std::any_cast<const AdamParam&>(attrs.parsed);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    LaunchWithReq<AdamKernel>(ctx, req[0], out[0].Size(), out[0].data<T>(), in[2].data<T>(),
                              in[3].data<T>(), in[0].data<T>(), in[1].data<T>(), T(p.lr),
                              T(p.beta1), T(p.beta2), T(p.epsilon), T(p.wd), T(p.rescale_grad),
                              T(p.clip_gradient));
  });
}

}  // namespace

DMLC_REGISTER_PARAMETER(SGDParam);
DMLC_REGISTER_PARAMETER(SGDMomParam);
DMLC_REGISTER_PARAMETER(AdamParam);

void RegisterOptimizerOps(OpRegistry* reg) {
  reg->Add("sgd_update")
      .Describe(
          "SGD step: out = (1 - lr*wd) * weight - lr * clip(rescale_grad * grad, "
          "clip_gradient). Pass weight as the output to update it in place.")
      .SetParam<SGDParam>()
      .SetInputs({"weight", "grad"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(SGDUpdate, kGpuKernels)
      .SetNotDifferentiable();

  reg->Add("sgd_mom_update")
      .Describe(
          "SGD step with momentum: mom = momentum * mom - lr*wd * weight - lr * "
          "clip(rescale_grad * grad, clip_gradient); out = weight + mom. mom is updated in "
          "place; pass weight as the output to update it in place.")
      .SetParam<SGDMomParam>()
      .SetInputs({"weight", "grad", "mom"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetMutateInputs([](const NodeAttrs&) { return std::vector<int>{2}; })
      .SetComputeAll(SGDMomUpdate, kGpuKernels)
      .SetNotDifferentiable();

  reg->Add("adam_update")
      .Describe(
          "Adam step: g = clip(rescale_grad * grad + wd * weight, clip_gradient); mean = "
          "beta1 * mean + (1-beta1) * g; var = beta2 * var + (1-beta2) * g^2; out = weight - "
          "lr * mean / (sqrt(var) + epsilon). mean and var are updated in place; pass weight as "
          "the output to update it in place. Bias correction is the caller's, folded into lr.")
      .SetParam<AdamParam>()
      .SetInputs({"weight", "grad", "mean", "var"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetMutateInputs([](const NodeAttrs&) {
        return std::vector<int>{2, 3};
      })
      .SetComputeAll(AdamUpdate, kGpuKernels)
      .SetNotDifferentiable();
}

}  // namespace mx
