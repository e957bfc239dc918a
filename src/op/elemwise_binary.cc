// Elementwise binary ops on equal shapes: out = f(lhs, rhs). Broadcasting versions live in
// broadcast.cc. Differentiable ops get a hidden "_backward_<name>" with inputs
// (ograd, lhs, rhs) and outputs (lhs_grad, rhs_grad); plus and minus pass ograd through instead.
#include "op/all_ops.h"
#include "op/elemwise.h"

namespace mx {
namespace {

template <typename F, bool kReal>
void BinaryCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                   const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const int64_t n = out[0].Size();
  if constexpr (kReal) {
    MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<BinaryKernel<F, Req>>::Launch(ctx, n, out[0].data<T>(), in[0].data<T>(),
                                             in[1].data<T>());
      });
    });
  } else {
    MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<BinaryKernel<F, Req>>::Launch(ctx, n, out[0].data<T>(), in[0].data<T>(),
                                             in[1].data<T>());
      });
    });
  }
}

template <typename F>
void BinaryGradCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const int64_t n = out[0].Size();
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    const T* og = in[0].data<T>();
    const T* a = in[1].data<T>();
    const T* b = in[2].data<T>();
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<BinaryGradKernel<F, Req, true>>::Launch(ctx, n, out[0].data<T>(), og, a, b);
    });
    MX_REQ_SWITCH(req[1], Req, {
      Kernel<BinaryGradKernel<F, Req, false>>::Launch(ctx, n, out[1].data<T>(), og, a, b);
    });
  });
}

enum class Grad { kUseInputs, kPlus, kMinus, kNone };

template <typename F, bool kReal = false>
void AddBinary(OpRegistry* reg, const std::string& name, const std::string& doc, Grad grad) {
  Op& op = reg->Add(name)
               .Describe(doc)
               .SetInputs({"lhs", "rhs"})
               .SetNumOutputs(1)
               .SetInferShape(ElemwiseShape)
               .SetInferType(ElemwiseType)
               .SetInplace({{0, 0}, {1, 0}})
               .SetComputeAll(BinaryCompute<F, kReal>, kGpuKernels)
               .SetElementwise();
  switch (grad) {
    case Grad::kNone:
      op.SetNotDifferentiable();
      return;
    case Grad::kPlus:
      op.SetGradient([](const NodePtr&, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{og[0], og[0]};
      });
      return;
    case Grad::kMinus:
      op.SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{og[0], MakeGradEntry("negative", n, "rhs_grad", {og[0]})};
      });
      return;
    case Grad::kUseInputs:
      break;
  }
  const std::string bwd = "_backward_" + name;
  op.SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& og) {
    return MakeGradNode(bwd, n, {og[0], InputOf(n, 0), InputOf(n, 1)});
  });
  reg->Add(bwd)
      .Describe("Gradient of " + name + ".")
      .SetInputs({"ograd", "lhs", "rhs"})
      .SetNumOutputs(2)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(BinaryGradCompute<F>, kGpuKernels)
      .SetElementwise()
      .SetBackwardOf(name);
}

}  // namespace

void RegisterElemwiseBinaryOps(OpRegistry* reg) {
  AddBinary<fn::Plus>(reg, "elemwise_add", "lhs + rhs, elementwise.", Grad::kPlus);
  AddBinary<fn::Minus>(reg, "elemwise_sub", "lhs - rhs, elementwise.", Grad::kMinus);
  AddBinary<fn::Mul>(reg, "elemwise_mul", "lhs * rhs, elementwise.", Grad::kUseInputs);
  AddBinary<fn::Div>(reg, "elemwise_div", "lhs / rhs, elementwise.", Grad::kUseInputs);
  AddBinary<fn::Power, true>(reg, "_power", "lhs ^ rhs, elementwise.", Grad::kUseInputs);
  AddBinary<fn::Maximum>(reg, "_maximum", "max(lhs, rhs), elementwise.", Grad::kUseInputs);
  AddBinary<fn::Minimum>(reg, "_minimum", "min(lhs, rhs), elementwise.", Grad::kUseInputs);
  AddBinary<fn::Equal>(reg, "_equal", "1 where lhs == rhs, else 0.", Grad::kNone);
  AddBinary<fn::NotEqual>(reg, "_not_equal", "1 where lhs != rhs, else 0.", Grad::kNone);
  AddBinary<fn::Greater>(reg, "_greater", "1 where lhs > rhs, else 0.", Grad::kNone);
  AddBinary<fn::GreaterEqual>(reg, "_greater_equal", "1 where lhs >= rhs, else 0.", Grad::kNone);
  AddBinary<fn::Lesser>(reg, "_lesser", "1 where lhs < rhs, else 0.", Grad::kNone);
  AddBinary<fn::LesserEqual>(reg, "_lesser_equal", "1 where lhs <= rhs, else 0.", Grad::kNone);
}

}  // namespace mx
