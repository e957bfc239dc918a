// Unary math ops (exp, relu, ...) and the *_scalar ops: out = f(data[, scalar]).
//
// Every op here is registered by AddUnary: forward "<name>" and, when differentiable, the hidden
// "_backward_<name>" that computes ograd * f'(v) from v = data or v = output (whichever f' needs,
// so the planner can free the other one early).
#include "op/all_ops.h"
#include "op/elemwise.h"

namespace mx {

DMLC_REGISTER_PARAMETER(ScalarParam);

namespace {

enum class Kind {
  kMath,           // float types; differentiable
  kArith,          // every numeric type; differentiable
  kScalarMath,     // with a scalar; float types; differentiable
  kScalarArith,    // with a scalar; every numeric type; differentiable
  kScalarCompare,  // with a scalar; every numeric type; 0/1 result; not differentiable
  kStep,           // float types; zero gradient almost everywhere (sign)
};

template <typename F, Kind kind>
void AddUnary(OpRegistry* reg, const std::string& name, const std::string& doc) {
  const bool scalar =
      kind == Kind::kScalarMath || kind == Kind::kScalarArith || kind == Kind::kScalarCompare;
  constexpr bool kReal = kind == Kind::kMath || kind == Kind::kScalarMath || kind == Kind::kStep;
  Op& op = reg->Add(name)
               .Describe(doc)
               .SetInputs({"data"})
               .SetNumOutputs(1)
               .SetInferShape(ElemwiseShape)
               .SetInferType(ElemwiseType)
               .SetInplace({{0, 0}})
               .SetComputeAll(UnaryCompute<F, kReal>, kGpuKernels)
               .SetElementwise();
  if (scalar) op.SetParam<ScalarParam>();
  if (scalar) op.SetHidden();  // reached through arithmetic with scalars, not by name
  if (kind == Kind::kScalarCompare) {
    op.SetNotDifferentiable();
    return;
  }
  if (kind == Kind::kStep) {
    op.SetGradient([](const NodePtr&, const std::vector<NodeEntry>&) {
      return std::vector<NodeEntry>{ZeroGradient()};
    });
    return;
  }
  const std::string bwd = "_backward_" + name;
  op.SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& ograds) {
    const NodeEntry v = F::kGradUsesOutput ? OutputOf(n) : InputOf(n, 0);
    return std::vector<NodeEntry>{MakeGradEntry(bwd, n, "backward", {ograds[0], v}, n->attrs.dict)};
  });
  Op& back = reg->Add(bwd)
                 .Describe("Gradient of " + name + ".")
                 .SetInputs({"ograd", F::kGradUsesOutput ? "output" : "data"})
                 .SetNumOutputs(1)
                 .SetInferShape(ElemwiseShape)
                 .SetInferType(ElemwiseType)
                 .SetInplace({{0, 0}})
                 .SetComputeAll(UnaryGradCompute<F>, kGpuKernels)
                 .SetElementwise()
                 .SetBackwardOf(name);
  if (scalar) back.SetParam<ScalarParam>();
}

// Identity-like ops whose gradient is the output gradient itself (or nothing).
void AddIdentity(OpRegistry* reg, const std::string& name, const std::string& doc,
                 bool pass_gradient) {
  Op& op = reg->Add(name)
               .Describe(doc)
               .SetInputs({"data"})
               .SetNumOutputs(1)
               .SetInferShape(ElemwiseShape)
               .SetInferType(ElemwiseType)
               .SetInplace({{0, 0}})
               .SetComputeAll(
                   [](const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
                     if (req[0] == OpReq::kNull || in[0].dptr == out[0].dptr) return;
                     MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
                       MX_REQ_SWITCH(req[0], Req, {
                         Kernel<UnaryKernel<fn::Identity, Req>>::Launch(
                             ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(), T(0));
                       });
                     });
                   },
                   kGpuKernels)
               .SetElementwise();
  if (pass_gradient) {
    op.SetGradient([](const NodePtr&, const std::vector<NodeEntry>& ograds) { return ograds; });
  } else {
    op.SetGradient([](const NodePtr&, const std::vector<NodeEntry>&) {
      return std::vector<NodeEntry>{ZeroGradient()};
    });
  }
}

}  // namespace

void RegisterElemwiseUnaryOps(OpRegistry* reg) {
  AddIdentity(reg, "_copy", "Returns a copy of the input.", true);
  AddIdentity(reg, "BlockGrad",
              "Returns the input unchanged and stops gradients from flowing through it.", false);

  AddUnary<fn::Negative, Kind::kArith>(reg, "negative", "Numerical negative, -x.");
  AddUnary<fn::Abs, Kind::kMath>(reg, "abs", "Absolute value, |x|.");
  AddUnary<fn::Sign, Kind::kStep>(reg, "sign", "Sign of x: -1, 0 or 1.");
  AddUnary<fn::Exp, Kind::kMath>(reg, "exp", "Exponential, e^x.");
  AddUnary<fn::Log, Kind::kMath>(reg, "log", "Natural logarithm, ln x.");
  AddUnary<fn::Sqrt, Kind::kMath>(reg, "sqrt", "Square root.");
  AddUnary<fn::Square, Kind::kMath>(reg, "square", "Square, x^2.");
  AddUnary<fn::Rsqrt, Kind::kMath>(reg, "rsqrt", "Reciprocal square root, 1/sqrt(x).");
  AddUnary<fn::Sin, Kind::kMath>(reg, "sin", "Sine (radians).");
  AddUnary<fn::Cos, Kind::kMath>(reg, "cos", "Cosine (radians).");
  AddUnary<fn::Tanh, Kind::kMath>(reg, "tanh", "Hyperbolic tangent.");
  AddUnary<fn::Sigmoid, Kind::kMath>(reg, "sigmoid", "Logistic sigmoid, 1/(1+e^-x).");
  AddUnary<fn::Relu, Kind::kMath>(reg, "relu", "Rectified linear unit, max(x, 0).");
  AddUnary<fn::SoftRelu, Kind::kMath>(reg, "softrelu", "Soft ReLU (softplus), log(1+e^x).");

  AddUnary<fn::PlusScalar, Kind::kScalarArith>(reg, "_plus_scalar", "x + scalar.");
  AddUnary<fn::MinusScalar, Kind::kScalarArith>(reg, "_minus_scalar", "x - scalar.");
  AddUnary<fn::RMinusScalar, Kind::kScalarArith>(reg, "_rminus_scalar", "scalar - x.");
  AddUnary<fn::MulScalar, Kind::kScalarArith>(reg, "_mul_scalar", "x * scalar.");
  AddUnary<fn::DivScalar, Kind::kScalarMath>(reg, "_div_scalar", "x / scalar.");
  AddUnary<fn::RDivScalar, Kind::kScalarMath>(reg, "_rdiv_scalar", "scalar / x.");
  AddUnary<fn::PowerScalar, Kind::kScalarMath>(reg, "_power_scalar", "x ^ scalar.");
  AddUnary<fn::RPowerScalar, Kind::kScalarMath>(reg, "_rpower_scalar", "scalar ^ x.");
  AddUnary<fn::MaximumScalar, Kind::kScalarArith>(reg, "_maximum_scalar", "max(x, scalar).");
  AddUnary<fn::MinimumScalar, Kind::kScalarArith>(reg, "_minimum_scalar", "min(x, scalar).");
  AddUnary<fn::EqualScalar, Kind::kScalarCompare>(reg, "_equal_scalar",
                                                  "1 where x == scalar, else 0.");
  AddUnary<fn::NotEqualScalar, Kind::kScalarCompare>(reg, "_not_equal_scalar",
                                                     "1 where x != scalar, else 0.");
  AddUnary<fn::GreaterScalar, Kind::kScalarCompare>(reg, "_greater_scalar",
                                                    "1 where x > scalar, else 0.");
  AddUnary<fn::GreaterEqualScalar, Kind::kScalarCompare>(reg, "_greater_equal_scalar",
                                                         "1 where x >= scalar, else 0.");
  AddUnary<fn::LesserScalar, Kind::kScalarCompare>(reg, "_lesser_scalar",
                                                   "1 where x < scalar, else 0.");
  AddUnary<fn::LesserEqualScalar, Kind::kScalarCompare>(reg, "_lesser_equal_scalar",
                                                        "1 where x <= scalar, else 0.");
}

}  // namespace mx
