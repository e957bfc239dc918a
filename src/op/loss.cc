// Output (loss) layers: SoftmaxOutput and the regression outputs.
//
// Their forward pass is the prediction (softmax, identity, sigmoid); their gradient is that of the
// loss they stand for (cross-entropy, squared error, logistic, absolute error) with respect to the
// input, given the label. Like MXNet, the gradient ignores the output gradient: these ops end a
// network, and the head gradient the executor feeds them is a placeholder.
#include <algorithm>
#include <cmath>
#include <limits>

#include "op/elemwise.h"
#include "op/softmax_impl.h"

namespace mx {
namespace {

// ---- SoftmaxOutput ----

enum Normalization { kNullNorm, kBatchNorm, kValidNorm };

struct SoftmaxOutputParam : public dmlc::Parameter<SoftmaxOutputParam> {
  double grad_scale;
  float ignore_label;
  bool multi_output;
  bool use_ignore;
  bool preserve_shape;
  int normalization;
  DMLC_DECLARE_PARAMETER(SoftmaxOutputParam) {
    DMLC_DECLARE_FIELD(grad_scale).set_default(1.0).describe("Scales the gradient.");
    DMLC_DECLARE_FIELD(ignore_label)
        .set_default(-1.0f)
        .describe(
            "The label whose gradient is zeroed when use_ignore is true (and that "
            "normalization='valid' does not count).");
    DMLC_DECLARE_FIELD(multi_output)
        .set_default(false)
        .describe(
            "Softmax over axis 1 of data (n, k, d1, ...), with one label per position: "
            "label (n, d1, ...). Otherwise the softmax is over the flattened features.");
    DMLC_DECLARE_FIELD(use_ignore)
        .set_default(false)
        .describe("Whether positions labelled ignore_label get a zero gradient.");
    DMLC_DECLARE_FIELD(preserve_shape)
        .set_default(false)
        .describe(
            "Softmax over the last axis only, keeping the other axes (label: data's shape "
            "without the last axis).");
    DMLC_DECLARE_FIELD(normalization)
        .add_enum("null", kNullNorm)
        .add_enum("batch", kBatchNorm)
        .add_enum("valid", kValidNorm)
        .set_default(kNullNorm)
        .describe(
            "Divides the gradient by: nothing ('null'), the batch size ('batch'), or the "
            "number of labels not equal to ignore_label ('valid').");
  }
};

const SoftmaxOutputParam& SoftmaxParamOf(const NodeAttrs& attrs) {
  return std::any_cast<const SoftmaxOutputParam&>(attrs.parsed);
}

// The softmax layout of the data: lanes of `len` classes.
softmax::AxisView SoftmaxOutputView(const SoftmaxOutputParam& p, const Shape& s) {
  if (p.multi_output) return {s[0], s[1], s.ProdDims(2, s.ndim())};
  if (p.preserve_shape) return {s.ProdDims(0, s.ndim() - 1), s[s.ndim() - 1], 1};
  return {s[0], s.ProdDims(1, s.ndim()), 1};
}

bool SoftmaxOutputShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const SoftmaxOutputParam& p = SoftmaxParamOf(attrs);
  AssignShape(in, 0, (*out)[0], "input 'data'");
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  MX_CHECK(data.ndim() >= 2, kInvalidArgument)
      << "input 'data' must have at least 2 dimensions (batch, classes...), got shape " << data;
  AssignShape(out, 0, data, "output");
  Shape& label = (*in)[1];
  // A label of data's shape holds class probabilities instead of indices.
  if (label.ndim() >= 0 && label == data) return data.IsKnown();
  std::vector<int64_t> dims;  // one label per softmax lane
  if (p.multi_output) {
    dims.push_back(data[0]);
    for (int i = 2; i < data.ndim(); ++i) dims.push_back(data[i]);
    // Also accepted, as in MXNet: (n, d1*d2*...) and data's shape with axis 1 set to 1.
    Shape flat{data[0], data.ProdDims(2, data.ndim())};
    Shape keep = data;
    keep[1] = 1;
    if (data.IsKnown() && (label == flat || label == keep)) return true;
  } else if (p.preserve_shape) {
    dims.assign(data.begin(), data.end() - 1);
  } else {
    dims.push_back(data[0]);
  }
  AssignShape(in, 1, Shape(dims), "input 'label'");
  return data.IsKnown() && label.IsKnown();
}

void SoftmaxOutputForward(const NodeAttrs& attrs, const OpContext& ctx,
                          const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                          const std::vector<TBlob>& out) {
  const softmax::AxisView v = SoftmaxOutputView(SoftmaxParamOf(attrs), in[0].shape);
  if (v.len == 0) return;
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      softmax::LaunchLanes<softmax::ForwardLane<false, Req>>(ctx, v, in[0].data<T>(),
                                                             out[0].data<T>());
    });
  });
}

// Labels are stored as floats; MXNet compares them as ints after truncation.
template <typename T>
MX_XINLINE int64_t LabelIndex(T v) {
  const double d = static_cast<double>(v);
  if (!(d < 9e18 && d > -9e18)) return INT64_MIN;
  return static_cast<int64_t>(d);
}

// Probability labels (label shaped like the output): no normalisation, as in MXNet.
template <OpReq Req>
struct ProbabilityGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* g, const T* y, const T* label, T scale) {
    Assign<Req>(g[i], T((y[i] - label[i]) * scale));
  }
};

// The number of lanes whose label is not `ignore` (at least 1), into count[0]: one thread, for
// normalization 'valid' on the GPU, so the count never leaves the device.
struct CountValidKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t, T* count, const T* label, int64_t lanes, int64_t ignore) {
    int64_t valid = 0;
    for (int64_t l = 0; l < lanes; ++l) valid += LabelIndex(label[l]) != ignore;
    count[0] = T(valid > 0 ? valid : 1);
  }
};

// One softmax lane of data_grad = (softmax - one_hot(label)) * scale [/ count[0]].
template <OpReq Req>
struct ClassGradLane {
  template <typename T>
  MX_XINLINE static void Lane(int64_t base, int64_t len, int64_t stride, T* g, const T* y,
                              const T* label, T scale, const T* count, bool use_ignore,
                              int64_t ignore) {
    const int64_t lane = (base / (len * stride)) * stride + base % stride;
    const int64_t k = LabelIndex(label[lane]);
    const bool skip = use_ignore && k == ignore;
    if (count != nullptr) scale /= count[0];
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = base + j * stride;
      const T target = j == k ? T(1) : T(0);
      Assign<Req>(g[i], skip ? T(0) : T((y[i] - target) * scale));
    }
  }
};

// Inputs (label, output); output data_grad = (softmax - one_hot(label)) * scale.
template <typename T, OpReq Req>
void SoftmaxOutputGrad(const OpContext& ctx, const SoftmaxOutputParam& p, const TBlob& label_blob,
                       const TBlob& out_blob, const TBlob& grad_blob) {
  const T* label = label_blob.data<T>();
  const T* y = out_blob.data<T>();
  T* g = grad_blob.data<T>();
  if (label_blob.shape == out_blob.shape) {
    Kernel<ProbabilityGradKernel<Req>>::Launch(ctx, out_blob.Size(), g, y, label, T(p.grad_scale));
    return;
  }
  const softmax::AxisView v = SoftmaxOutputView(p, out_blob.shape);
  const int64_t lanes = v.outer * v.inner;
  const int64_t ignore = LabelIndex(p.ignore_label);
  double count = 1;
  const T* device_count = nullptr;  // 'valid' on the GPU: counted there
  if (p.normalization == kBatchNorm) {
    count = static_cast<double>(p.multi_output ? v.outer : lanes);
  } else if (p.normalization == kValidNorm && ctx.run.ctx.is_gpu()) {
    T* c = static_cast<T*>(ctx.TempSpace(sizeof(T)));
    Kernel<CountValidKernel>::Launch(ctx, 1, c, label, lanes, ignore);
    device_count = c;
  } else if (p.normalization == kValidNorm) {
    int64_t valid = 0;
    for (int64_t l = 0; l < lanes; ++l) valid += LabelIndex(label[l]) != ignore;
    count = static_cast<double>(std::max<int64_t>(valid, 1));
  }
  // multi_output also averages over positions, except for 'valid', which already counts them.
  if (p.multi_output && p.normalization != kValidNorm) count *= static_cast<double>(v.inner);
  softmax::LaunchLanes<ClassGradLane<Req>>(ctx, v, g, y, label, T(p.grad_scale / count),
                                           device_count, bool(p.use_ignore), ignore);
}

void SoftmaxOutputBackward(const NodeAttrs& attrs, const OpContext& ctx,
                           const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                           const std::vector<TBlob>& out) {
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req,
                  { SoftmaxOutputGrad<T, Req>(ctx, SoftmaxParamOf(attrs), in[0], in[1], out[0]); });
  });
}

// The gradient of (label, output): data_grad has the output's shape, and the label must fit the
// output as the forward op's label fits its data. These ops can be invoked by name with any label,
// and their kernels read one label per output (or per softmax lane).
FInferShape LossBackwardShape(FInferShape forward) {
  return [forward](const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
    AssignShape(out, 0, (*in)[1], "output 'data_grad'");
    AssignShape(in, 1, (*out)[0], "input 'output'");
    std::vector<Shape> fwd_in{(*in)[1], (*in)[0]}, fwd_out{(*out)[0]};
    const bool known = forward(attrs, &fwd_in, &fwd_out);
    AssignShape(in, 0, fwd_in[1], "input 'label'");
    AssignShape(in, 1, fwd_in[0], "input 'output'");
    AssignShape(out, 0, fwd_out[0], "output 'data_grad'");
    return known;
  };
}

// ---- regression outputs ----

struct RegressionOutputParam : public dmlc::Parameter<RegressionOutputParam> {
  double grad_scale;
  DMLC_DECLARE_PARAMETER(RegressionOutputParam) {
    DMLC_DECLARE_FIELD(grad_scale)
        .set_default(1.0)
        .describe(
            "Scales the gradient (which is also divided by the number of outputs per "
            "example).");
  }
};

// Label: data's shape, or (n) for data (n, 1); any label with data's batch size and element
// count is accepted.
bool RegressionShape(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(in, 0, (*out)[0], "input 'data'");
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  MX_CHECK(data.ndim() >= 1, kInvalidArgument) << "input 'data' must have at least 1 dimension";
  AssignShape(out, 0, data, "output");
  Shape& label = (*in)[1];
  if (label.IsKnown() && data.IsKnown()) {
    MX_CHECK(label.ndim() >= 1 && label[0] == data[0] && label.Size() == data.Size(),
             kInvalidArgument)
        << "input 'label' has shape " << label << ", expected " << data
        << " or another shape with the same batch size and number of elements";
    return true;
  }
  if (label.ndim() < 0 && data.ndim() == 2 && data[1] == 1) {
    AssignShape(in, 1, Shape{data[0]}, "input 'label'");
  } else if (label.ndim() < 0 || label.ndim() == data.ndim()) {
    AssignShape(in, 1, data, "input 'label'");
  }
  return data.IsKnown() && label.IsKnown();
}

// Backward functors: d loss / d output, from the output and the label.
struct SquaredErrorGrad {
  template <typename T>
  MX_XINLINE static T Map(T out, T label) {
    return out - label;
  }
};
struct AbsErrorGrad {
  template <typename T>
  MX_XINLINE static T Map(T out, T label) {
    return T(out > label ? 1 : (out < label ? -1 : 0));
  }
};

template <typename G, OpReq Req>
struct RegressionGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* grad, const T* label, const T* out, T scale) {
    Assign<Req>(grad[i], T(G::Map(out[i], label[i]) * scale));
  }
};

// Inputs (label, output): grad = G(out, label) * grad_scale / (outputs per example).
template <typename G>
void RegressionBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const double gs = std::any_cast<const RegressionOutputParam&>(attrs.parsed).grad_scale;
  const Shape& ls = in[0].shape;
  const int64_t batch = ls.ndim() >= 1 ? ls[0] : 1;
  const double per_example = batch > 0 ? static_cast<double>(in[0].Size()) / batch : 1.0;
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<RegressionGradKernel<G, Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(),
                                                   in[0].data<T>(), in[1].data<T>(),
                                                   T(gs / per_example));
    });
  });
}

// Gradient graph of a loss op: its backward from (label, output); the label gets none.
FGradient LossGradient(const std::string& backward) {
  return [backward](const NodePtr& n, const std::vector<NodeEntry>&) {
    return std::vector<NodeEntry>{
        MakeGradEntry(backward, n, "backward", {InputOf(n, 1), OutputOf(n)}, n->attrs.dict),
        ZeroGradient()};
  };
}

template <typename F, typename G>
void AddRegression(OpRegistry* reg, const std::string& name, const std::string& backward,
                   const std::string& doc) {
  reg->Add(name)
      .Describe(doc)
      .SetParam<RegressionOutputParam>()
      .SetInputs({"data", "label"})
      .SetNumOutputs(1)
      .SetInferShape(RegressionShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(UnaryCompute<F, true>, kGpuKernels)
      .SetGradient(LossGradient(backward));
  reg->Add(backward)
      .Describe("Gradient of " + name + " with respect to data, from the label and the output.")
      .SetParam<RegressionOutputParam>()
      .SetInputs({"label", "output"})
      .SetNumOutputs(1)
      .SetInferShape(LossBackwardShape(RegressionShape))
      .SetInferType(ElemwiseType)
      .SetInplace({{1, 0}})
      .SetComputeAll(RegressionBackward<G>, kGpuKernels)
      .SetBackwardOf(name);
}

}  // namespace

DMLC_REGISTER_PARAMETER(SoftmaxOutputParam);
DMLC_REGISTER_PARAMETER(RegressionOutputParam);

void RegisterLossOps(OpRegistry* reg) {
  reg->Add("SoftmaxOutput")
      .Describe(
          "Softmax with cross-entropy loss, for the last layer of a classifier.\n\n"
          "Forward: the softmax of data over the class axis (the flattened features of each "
          "example; the last axis with preserve_shape; axis 1 with multi_output). Backward: "
          "(softmax - one_hot(label)) * grad_scale / normalizer, ignoring the output gradient. "
          "label holds class indices (data's shape without the class axis) or, with data's own "
          "shape, class probabilities. A label outside [0, classes) contributes no one-hot term. "
          "label gets no gradient.")
      .SetParam<SoftmaxOutputParam>()
      .SetInputs({"data", "label"})
      .SetNumOutputs(1)
      .SetInferShape(SoftmaxOutputShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(SoftmaxOutputForward, kGpuKernels)
      .SetGradient(LossGradient("_backward_SoftmaxOutput"));
  reg->Add("_backward_SoftmaxOutput")
      .Describe("Gradient of SoftmaxOutput with respect to data, from the label and the output.")
      .SetParam<SoftmaxOutputParam>()
      .SetInputs({"label", "output"})
      .SetNumOutputs(1)
      .SetInferShape(LossBackwardShape(SoftmaxOutputShape))
      .SetInferType(ElemwiseType)
      .SetInplace({{1, 0}})
      .SetComputeAll(SoftmaxOutputBackward, kGpuKernels)
      // Normalization 'valid' counts the labels on the op's device, in scratch memory.
      .SetResources([](const NodeAttrs& attrs) {
        return SoftmaxParamOf(attrs).normalization == kValidNorm
                   ? std::vector<ResourceType>{ResourceType::kTempSpace}
                   : std::vector<ResourceType>{};
      })
      .SetBackwardOf("SoftmaxOutput");

  AddRegression<fn::Identity, SquaredErrorGrad>(
      reg, "LinearRegressionOutput", "_backward_linear_reg_out",
      "Least-squares regression output: forward is the identity; the gradient with respect to "
      "data is (out - label) * grad_scale / m, m being the number of outputs per example. The "
      "output gradient is ignored; label gets no gradient.");
  AddRegression<fn::Sigmoid, SquaredErrorGrad>(
      reg, "LogisticRegressionOutput", "_backward_logistic_reg_out",
      "Logistic regression output: forward is sigmoid(data); the gradient with respect to data "
      "(of the cross-entropy loss) is (out - label) * grad_scale / m, m being the number of "
      "outputs per example. The output gradient is ignored; label gets no gradient.");
  AddRegression<fn::Identity, AbsErrorGrad>(
      reg, "MAERegressionOutput", "_backward_mae_reg_out",
      "Mean-absolute-error regression output: forward is the identity; the gradient with "
      "respect to data is sign(out - label) * grad_scale / m, m being the number of outputs per "
      "example. The output gradient is ignored; label gets no gradient.");
}

}  // namespace mx
