// Broadcasting ops: binary arithmetic and comparisons under numpy broadcasting (shapes aligned at
// the right, size-1 dims stretch), and broadcast_to / broadcast_axis.
//
// Gradients are reductions: the elementwise gradient over the broadcast shape, summed back to each
// input's shape. Binary ops get a hidden "_backward_broadcast_<op>" with inputs (ograd, lhs, rhs)
// and outputs (lhs_grad, rhs_grad); broadcast_to/axis get one with inputs (ograd, data) whose
// data is only read for its shape.
#include "op/all_ops.h"
#include "op/broadcast_reduce_util.h"
#include "op/elemwise.h"
#include "op/param_types.h"

namespace mx {
namespace {

struct BroadcastToParam : public dmlc::Parameter<BroadcastToParam> {
  Tuple shape;
  DMLC_DECLARE_PARAMETER(BroadcastToParam) {
    DMLC_DECLARE_FIELD(shape).describe(
        "The target shape, with as many dims as the input; each input dim must be 1 or equal to "
        "the target's. A 0 keeps the input's dim.");
  }
};

struct BroadcastAxisParam : public dmlc::Parameter<BroadcastAxisParam> {
  Tuple axis;
  Tuple size;
  DMLC_DECLARE_PARAMETER(BroadcastAxisParam) {
    DMLC_DECLARE_FIELD(axis).set_default(Tuple()).describe(
        "The axes to broadcast along (each of size 1 in the input); negative axes count from the "
        "end.");
    DMLC_DECLARE_FIELD(size).set_default(Tuple()).describe(
        "The target size of each axis in `axis`, in the same order.");
  }
};

DMLC_REGISTER_PARAMETER(BroadcastToParam);
DMLC_REGISTER_PARAMETER(BroadcastAxisParam);

// ---- binary ops ----

bool BroadcastBinaryShape(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& lhs = (*in)[0];
  const Shape& rhs = (*in)[1];
  if (lhs.ndim() < 0 || rhs.ndim() < 0) return false;
  // Partly known inputs give a partly known output; the inputs never follow from the output (a
  // dim of 1 broadcasts to anything).
  AssignShape(out, 0, bcast::BroadcastShapes(lhs, rhs), "output 0");
  return lhs.IsKnown() && rhs.IsKnown();
}

// One element of each on the GPU (offsets of out, lhs, rhs).
template <typename F, OpReq Req>
struct BinaryApply {
  template <typename T>
  MX_XINLINE static void Apply(const int64_t (&off)[3], T* y, const T* a, const T* b) {
    Assign<Req>(y[off[0]], F::Map(a[off[1]], b[off[2]]));
  }
};
template <typename F, bool kLeft, OpReq Req>
struct GradApply {
  template <typename T>
  MX_XINLINE static void Apply(const int64_t (&off)[3], T* d, const T* g, const T* a, const T* b) {
    const T x = a[off[1]], z = b[off[2]];
    Assign<Req>(d[off[0]], T(g[off[0]] * (kLeft ? F::LGrad(x, z) : F::RGrad(x, z))));
  }
};
template <OpReq Req>
struct CopyApply {
  template <typename T>
  MX_XINLINE static void Apply(const int64_t (&off)[2], T* y, const T* x) {
    Assign<Req>(y[off[0]], x[off[1]]);
  }
};

template <typename F, OpReq Req, typename T>
void BroadcastBinary(const engine::RunContext& rctx, const TBlob& out, const TBlob& lhs,
                     const TBlob& rhs) {
  const bcast::Plan<3> p = bcast::MakePlan<3>(out.shape, {out.shape, lhs.shape, rhs.shape});
  const int64_t sa = p.InnerStride(1);
  const int64_t sb = p.InnerStride(2);
  T* y = out.data<T>();
  const T* a = lhs.data<T>();
  const T* b = rhs.data<T>();
  if (rctx.ctx.is_gpu()) {
    bcast::LaunchPlanGpu<BinaryApply<F, Req>>(rctx, p, y, a, b);
    return;
  }
  // One loop per inner-stride pattern, so each stays a plain contiguous loop.
  bcast::ParallelForRange<kWideSimd<T>>(p, [&](const int64_t* off, int64_t len) MX_LAMBDA_INLINE {
    T* yi = y + off[0];
    const T* ai = a + off[1];
    const T* bi = b + off[2];
    if (sa == 1 && sb == 1) {
      for (int64_t j = 0; j < len; ++j) Assign<Req>(yi[j], F::Map(ai[j], bi[j]));
    } else if (sa == 1) {
      const T bv = *bi;
      for (int64_t j = 0; j < len; ++j) Assign<Req>(yi[j], F::Map(ai[j], bv));
    } else if (sb == 1) {
      const T av = *ai;
      for (int64_t j = 0; j < len; ++j) Assign<Req>(yi[j], F::Map(av, bi[j]));
    } else {
      const T v = F::Map(*ai, *bi);
      for (int64_t j = 0; j < len; ++j) Assign<Req>(yi[j], v);
    }
  });
}

template <typename F, bool kReal>
void BroadcastBinaryCompute(const NodeAttrs& attrs, const OpContext& ctx,
                            const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                            const std::vector<TBlob>& out) {
  if constexpr (kReal) {
    MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, { BroadcastBinary<F, Req, T>(ctx.run, out[0], in[0], in[1]); });
    });
  } else {
    MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, { BroadcastBinary<F, Req, T>(ctx.run, out[0], in[0], in[1]); });
    });
  }
}

// dst = ograd * dF/d(lhs or rhs), over the broadcast shape.
template <typename F, bool kLeft, OpReq Req, typename T>
void ElemwiseGrad(const engine::RunContext& rctx, const Shape& full, T* dst, const TBlob& ograd,
                  const TBlob& lhs, const TBlob& rhs) {
  const bcast::Plan<3> p = bcast::MakePlan<3>(full, {full, lhs.shape, rhs.shape});
  const int64_t sa = p.InnerStride(1);
  const int64_t sb = p.InnerStride(2);
  const T* og = ograd.data<T>();
  const T* a = lhs.data<T>();
  const T* b = rhs.data<T>();
  if (rctx.ctx.is_gpu()) {
    bcast::LaunchPlanGpu<GradApply<F, kLeft, Req>>(rctx, p, dst, og, a, b);
    return;
  }
  bcast::ParallelForRange<kWideSimd<T>>(p, [&](const int64_t* off, int64_t len) MX_LAMBDA_INLINE {
    T* d = dst + off[0];
    const T* g = og + off[0];
    const T* ai = a + off[1];
    const T* bi = b + off[2];
    for (int64_t j = 0; j < len; ++j) {
      const T x = ai[j * sa];
      const T z = bi[j * sb];
      Assign<Req>(d[j], T(g[j] * (kLeft ? F::LGrad(x, z) : F::RGrad(x, z))));
    }
  });
}

// One input's gradient: written directly when the input has the broadcast shape's size, else
// computed over the broadcast shape into `temp` and summed down to the input's shape.
template <typename F, bool kLeft, OpReq Req, typename T>
void InputGrad(const engine::RunContext& rctx, const Shape& full, T* temp, const TBlob& grad,
               const TBlob& ograd, const TBlob& lhs, const TBlob& rhs) {
  if (grad.Size() == full.Size()) {
    ElemwiseGrad<F, kLeft, Req>(rctx, full, grad.data<T>(), ograd, lhs, rhs);
    return;
  }
  const T* summand = ograd.data<T>();
  // d(a+b)/da, d(a+b)/db and d(a-b)/da are 1: sum ograd itself.
  constexpr bool kUnit =
      std::is_same<F, fn::Plus>::value || (kLeft && std::is_same<F, fn::Minus>::value);
  if constexpr (!kUnit) {
    ElemwiseGrad<F, kLeft, OpReq::kWrite>(rctx, full, temp, ograd, lhs, rhs);
    summand = temp;
  }
  bcast::Reduce<bcast::SumReducer, Req>(rctx, full, summand, grad.shape, grad.data<T>());
}

template <typename F>
void BroadcastBinaryBackward(const NodeAttrs& attrs, const OpContext& ctx,
                             const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                             const std::vector<TBlob>& out) {
  const Shape& full = in[0].shape;
  const bool needs_temp = out[0].Size() != full.Size() || out[1].Size() != full.Size();
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, {
    T* temp = needs_temp ? static_cast<T*>(ctx.TempSpace(full.Size() * sizeof(T))) : nullptr;
    MX_REQ_SWITCH(req[0], Req,
                  { InputGrad<F, true, Req>(ctx.run, full, temp, out[0], in[0], in[1], in[2]); });
    MX_REQ_SWITCH(req[1], Req,
                  { InputGrad<F, false, Req>(ctx.run, full, temp, out[1], in[0], in[1], in[2]); });
  });
}

bool BroadcastBinaryBackwardShape(const NodeAttrs&, std::vector<Shape>* in,
                                  std::vector<Shape>* out) {
  const Shape& lhs = (*in)[1];
  const Shape& rhs = (*in)[2];
  if (!lhs.IsKnown() || !rhs.IsKnown()) return false;
  AssignShape(in, 0, bcast::BroadcastShapes(lhs, rhs), "input 'ograd'");
  AssignShape(out, 0, lhs, "output 0");
  AssignShape(out, 1, rhs, "output 1");
  return true;
}

template <typename F, bool kReal = false>
void AddBroadcastBinary(OpRegistry* reg, const std::string& name, const std::string& doc,
                        bool differentiable) {
  Op& op = reg->Add(name)
               .Describe(doc +
                         " Shapes broadcast as in numpy: aligned at the right, each pair of dims "
                         "equal or one of them 1 (missing leading dims count as 1).")
               .SetInputs({"lhs", "rhs"})
               .SetNumOutputs(1)
               .SetInferShape(BroadcastBinaryShape)
               .SetInferType(ElemwiseType)
               .SetComputeAll(BroadcastBinaryCompute<F, kReal>, kGpuKernels);
  if (!differentiable) {
    op.SetNotDifferentiable();
    return;
  }
  const std::string bwd = "_backward_" + name;
  op.SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& og) {
    return MakeGradNode(bwd, n, {og[0], InputOf(n, 0), InputOf(n, 1)});
  });
  reg->Add(bwd)
      .Describe("Gradient of " + name +
                ": the elementwise gradients summed back to each input's "
                "shape.")
      .SetInputs({"ograd", "lhs", "rhs"})
      .SetNumOutputs(2)
      .SetInferShape(BroadcastBinaryBackwardShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(BroadcastBinaryBackward<F>, kGpuKernels)
      .SetNotDifferentiable()
      .SetHidden()
      .SetBackwardOf(name);
}

// ---- broadcast_to / broadcast_axis ----

bool BroadcastToShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  const Tuple& target = attrs.get<BroadcastToParam>().shape;
  MX_CHECK(static_cast<int>(target.size()) == data.ndim(), kInvalidArgument)
      << "shape=" << target << " has " << target.size() << " dims but input 'data' has shape "
      << data << " with " << data.ndim();
  Shape s = data;
  for (int d = 0; d < data.ndim(); ++d) {
    if (target[d] == 0) continue;
    MX_CHECK(target[d] > 0 && (data[d] == 1 || data[d] == target[d] || data[d] < 0),
             kInvalidArgument)
        << "input 'data' has shape " << data << ", which does not broadcast to shape=" << target
        << " (dim " << d << " is " << data[d] << "; only dims of 1 stretch)";
    s[d] = target[d];
  }
  AssignShape(out, 0, s, "output 0");
  return (*out)[0].IsKnown();
}

bool BroadcastAxisShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  const auto& p = attrs.get<BroadcastAxisParam>();
  MX_CHECK(p.axis.size() == p.size.size(), kInvalidArgument)
      << "axis=" << p.axis << " and size=" << p.size << " must have the same length";
  Shape s = data;
  for (size_t i = 0; i < p.axis.size(); ++i) {
    const int ax = bcast::NormalizeAxis(p.axis[i], data.ndim(), "axis");
    MX_CHECK(p.size[i] > 0, kInvalidArgument)
        << "size=" << p.size << ": the size for axis " << p.axis[i] << " must be positive";
    MX_CHECK(data[ax] == 1 || data[ax] == p.size[i] || data[ax] < 0, kInvalidArgument)
        << "input 'data' has shape " << data << ": axis " << p.axis[i] << " has size " << data[ax]
        << ", only size-1 axes can be broadcast (to " << p.size[i] << ")";
    s[ax] = p.size[i];
  }
  AssignShape(out, 0, s, "output 0");
  return (*out)[0].IsKnown();
}

template <OpReq Req, typename T>
void BroadcastCopy(const engine::RunContext& rctx, const TBlob& out, const TBlob& in) {
  const bcast::Plan<2> p = bcast::MakePlan<2>(out.shape, {out.shape, in.shape});
  const int64_t s = p.InnerStride(1);
  T* y = out.data<T>();
  const T* x = in.data<T>();
  if (rctx.ctx.is_gpu()) {
    bcast::LaunchPlanGpu<CopyApply<Req>>(rctx, p, y, x);
    return;
  }
  bcast::ParallelForRange<kWideSimd<T>>(p, [&](const int64_t* off, int64_t len) MX_LAMBDA_INLINE {
    T* yi = y + off[0];
    const T* xi = x + off[1];
    if (s == 1) {
      for (int64_t j = 0; j < len; ++j) Assign<Req>(yi[j], xi[j]);
    } else {
      const T v = *xi;
      for (int64_t j = 0; j < len; ++j) Assign<Req>(yi[j], v);
    }
  });
}

void BroadcastToCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, { BroadcastCopy<Req, T>(ctx.run, out[0], in[0]); });
  });
}

// Inputs (ograd, data): ograd summed down to data's shape.
void SumToDataCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      bcast::Reduce<bcast::SumReducer, Req>(ctx.run, in[0].shape, in[0].data<T>(), out[0].shape,
                                            out[0].data<T>());
    });
  });
}

// Data must broadcast to ograd, as it did in the forward op: the op can also be invoked by name
// with any two arrays, and its kernel walks ograd at data's strides.
bool SumToDataShape(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& ograd = (*in)[0];
  const Shape& data = (*in)[1];
  if (data.ndim() < 0) return false;
  if (ograd.IsKnown() && data.IsKnown()) {
    const int lead = ograd.ndim() - data.ndim();
    bool fits = lead >= 0;
    for (int d = 0; fits && d < data.ndim(); ++d) fits = data[d] == 1 || data[d] == ograd[lead + d];
    MX_CHECK(fits, kInvalidArgument) << "input 'data' of shape " << data
                                     << " does not broadcast to input 'ograd' of shape " << ograd;
  }
  AssignShape(out, 0, data, "output 0");
  return data.IsKnown();
}

template <typename P>
void AddBroadcastTo(OpRegistry* reg, const std::string& name, const std::string& doc,
                    FInferShape infer_shape) {
  const std::string bwd = "_backward_" + name;
  reg->Add(name)
      .Describe(doc)
      .SetParam<P>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(infer_shape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(BroadcastToCompute, kGpuKernels)
      .SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{MakeGradEntry(bwd, n, "backward", {og[0], InputOf(n, 0)})};
      });
  reg->Add(bwd)
      .Describe("Gradient of " + name + ": the output gradient summed back to the input's shape.")
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(SumToDataShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(SumToDataCompute, kGpuKernels)
      .SetNotDifferentiable()
      .SetHidden()
      .SetBackwardOf(name);
}

}  // namespace

void RegisterBroadcastOps(OpRegistry* reg) {
  AddBroadcastBinary<fn::Plus>(reg, "broadcast_add", "lhs + rhs, broadcasting.", true);
  AddBroadcastBinary<fn::Minus>(reg, "broadcast_sub", "lhs - rhs, broadcasting.", true);
  AddBroadcastBinary<fn::Mul>(reg, "broadcast_mul", "lhs * rhs, broadcasting.", true);
  AddBroadcastBinary<fn::Div>(reg, "broadcast_div", "lhs / rhs, broadcasting.", true);
  AddBroadcastBinary<fn::Power, true>(reg, "broadcast_power", "lhs ^ rhs, broadcasting.", true);
  AddBroadcastBinary<fn::Maximum>(
      reg, "broadcast_maximum",
      "max(lhs, rhs), broadcasting. Where they tie the gradient goes to lhs.", true);
  AddBroadcastBinary<fn::Minimum>(
      reg, "broadcast_minimum",
      "min(lhs, rhs), broadcasting. Where they tie the gradient goes to lhs.", true);
  AddBroadcastBinary<fn::Equal>(reg, "broadcast_equal", "1 where lhs == rhs, else 0.", false);
  AddBroadcastBinary<fn::NotEqual>(reg, "broadcast_not_equal", "1 where lhs != rhs, else 0.",
                                   false);
  AddBroadcastBinary<fn::Greater>(reg, "broadcast_greater", "1 where lhs > rhs, else 0.", false);
  AddBroadcastBinary<fn::GreaterEqual>(reg, "broadcast_greater_equal",
                                       "1 where lhs >= rhs, else 0.", false);
  AddBroadcastBinary<fn::Lesser>(reg, "broadcast_lesser", "1 where lhs < rhs, else 0.", false);
  AddBroadcastBinary<fn::LesserEqual>(reg, "broadcast_lesser_equal", "1 where lhs <= rhs, else 0.",
                                      false);
  AddBroadcastTo<BroadcastToParam>(
      reg, "broadcast_to",
      "Repeats the input along its size-1 dims to reach `shape` (no data is shared).",
      BroadcastToShape);
  AddBroadcastTo<BroadcastAxisParam>(
      reg, "broadcast_axis", "Repeats the input along the size-1 axes `axis` to the sizes `size`.",
      BroadcastAxisShape);
}

}  // namespace mx
