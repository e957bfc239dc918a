// Reductions: sum, mean, max, min, prod over a set of axes, and argmax/argmin over one axis.
//
// The kernels live in broadcast_reduce_util.h (shared with broadcast.cc, whose gradients are
// reductions). Gradients are hidden "_backward_<op>" ops with inputs (ograd, data) that broadcast
// the output gradient back over the reduced axes.
// g++ 12 reports a false "maybe uninitialized" inside dmlc::optional's swap when a parameter
// field of that type is parsed; the pragma must precede every include to reach that location.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (the fuzz build)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <dmlc/optional.h>

#include "op/all_ops.h"
#include "op/broadcast_reduce_util.h"
#include "op/elemwise.h"
#include "op/param_types.h"

namespace mx {
namespace {

struct ReduceAxesParam : public dmlc::Parameter<ReduceAxesParam> {
  Tuple axis;
  bool keepdims;
  bool exclude;
  DMLC_DECLARE_PARAMETER(ReduceAxesParam) {
    DMLC_DECLARE_FIELD(axis).set_default(Tuple()).describe(
        "The axes to reduce over; negative axes count from the end. Empty (the default) reduces "
        "over every axis, and then `exclude` is ignored (as in MXNet).");
    DMLC_DECLARE_FIELD(keepdims).set_default(false).describe(
        "Keep the reduced axes as dims of size 1, so the result broadcasts against the "
        "input.");
    DMLC_DECLARE_FIELD(exclude).set_default(false).describe(
        "Reduce over the axes NOT listed in `axis` instead of the listed ones.");
  }
};

struct ArgReduceParam : public dmlc::Parameter<ArgReduceParam> {
  dmlc::optional<int> axis;
  bool keepdims;
  DMLC_DECLARE_PARAMETER(ArgReduceParam) {
    DMLC_DECLARE_FIELD(axis)
        .set_default(dmlc::optional<int>())
        .describe(
            "The axis to search along; negative counts from the end. None (the default) "
            "searches the flattened array.");
    DMLC_DECLARE_FIELD(keepdims).set_default(false).describe(
        "Keep the searched axis (or every axis, when axis is None) as a dim of size 1.");
  }
};

DMLC_REGISTER_PARAMETER(ReduceAxesParam);
DMLC_REGISTER_PARAMETER(ArgReduceParam);

// Which dims of `data` the reduction folds; throws for an out-of-range or repeated axis.
std::vector<bool> ReducedDims(const ReduceAxesParam& p, const Shape& data) {
  const int nd = data.ndim();
  if (p.axis.empty()) return std::vector<bool>(nd, true);
  std::vector<bool> listed(nd, false);
  for (int64_t a : p.axis.v) {
    const int d = bcast::NormalizeAxis(a, nd, "axis");
    MX_CHECK(!listed[d], kInvalidArgument) << "axis " << a << " is repeated in axis=" << p.axis;
    listed[d] = true;
  }
  std::vector<bool> reduced(nd);
  for (int d = 0; d < nd; ++d) reduced[d] = listed[d] != p.exclude;
  return reduced;
}

// The result shape. Like MXNet, a reduction to one value without keepdims has shape (1,).
Shape ReducedShape(const Shape& data, const std::vector<bool>& reduced, bool keepdims) {
  if (keepdims) return bcast::KeepDimsShape(data, reduced);
  std::vector<int64_t> dims;
  for (int d = 0; d < data.ndim(); ++d) {
    if (!reduced[d]) dims.push_back(data[d]);
  }
  if (dims.empty()) dims.push_back(1);
  return Shape(dims);
}

bool ReduceAxesShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  const auto& p = attrs.get<ReduceAxesParam>();
  AssignShape(out, 0, ReducedShape(data, ReducedDims(p, data), p.keepdims), "output 0");
  return (*out)[0].IsKnown();
}

template <typename R>
void ReduceAxesCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape& full = in[0].shape;
  const Shape small = bcast::KeepDimsShape(full, ReducedDims(attrs.get<ReduceAxesParam>(), full));
  MX_NUMERIC_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      bcast::Reduce<R, Req>(ctx.run, full, in[0].data<T>(), small, out[0].data<T>());
    });
  });
}

// ---- backward: igrad = G(x, ograd, a, b) with ograd, a, b broadcast over the reduced dims ----

struct SumGrad {  // sum and mean (scale = 1/n)
  template <typename T>
  MX_XINLINE static T Map(T, T og, T, T, T scale) {
    return og * scale;
  }
};

// Every element equal to the max (min) gets the whole output gradient; ties are not split.
struct ArgEqualGrad {  // a = the forward output
  template <typename T>
  MX_XINLINE static T Map(T x, T og, T a, T, T) {
    return x == a ? og : T(0);
  }
};

// d prod / d x_i is the product of the other elements: a = the product of the nonzero elements,
// b = the number of zeros; so the gradient is exact when some elements are zero.
struct ProdGrad {
  template <typename T>
  MX_XINLINE static T Map(T x, T og, T a, T b, T) {
    if (b == T(0)) return og * a / x;
    return b == T(1) && x == T(0) ? og * a : T(0);
  }
};

// One element of it on the GPU (offsets of the full and the reduced shape).
template <typename G, OpReq Req>
struct BroadcastGradApply {
  template <typename T>
  MX_XINLINE static void Apply(const int64_t (&off)[2], T* igrad, const T* x, const T* og,
                               const T* a, const T* b, T scale) {
    Assign<Req>(igrad[off[0]], G::Map(x[off[0]], og[off[1]], a[off[1]], b[off[1]], scale));
  }
};

template <typename G, OpReq Req, typename T>
void BroadcastGrad(const engine::RunContext& rctx, const Shape& full, const Shape& small, T* igrad,
                   const T* x, const T* og, const T* a, const T* b, T scale) {
  const bcast::Plan<2> p = bcast::MakePlan<2>(full, {full, small});
  const int64_t s = p.InnerStride(1);
  if (rctx.ctx.is_gpu()) {
    bcast::LaunchPlanGpu<BroadcastGradApply<G, Req>>(rctx, p, igrad, x, og, a, b, scale);
    return;
  }
  bcast::ParallelForRange<kWideSimd<T>>(p, [&](const int64_t* off, int64_t len) MX_LAMBDA_INLINE {
    T* gi = igrad + off[0];
    const T* xi = x + off[0];
    const T* ogi = og + off[1];
    const T* ai = a + off[1];
    const T* bi = b + off[1];
    for (int64_t j = 0; j < len; ++j) {
      Assign<Req>(gi[j], G::Map(xi[j], ogi[j * s], ai[j * s], bi[j * s], scale));
    }
  });
}

enum class Kind { kSum, kMean, kMaxMin, kProd };

template <Kind kind>
void ReduceBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx,
                           const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                           const std::vector<TBlob>& out) {
  const Shape& full = in[1].shape;
  const Shape small = bcast::KeepDimsShape(full, ReducedDims(attrs.get<ReduceAxesParam>(), full));
  const int64_t n = small.Size() > 0 ? full.Size() / small.Size() : 0;
  MX_REAL_TYPE_SWITCH(in[1].dtype, T, attrs.op->name, {
    const T* og = in[0].data<T>();
    const T* x = in[1].data<T>();
    T* igrad = out[0].data<T>();
    MX_REQ_SWITCH(req[0], Req, {
      if constexpr (kind == Kind::kSum || kind == Kind::kMean) {
        const T scale = kind == Kind::kMean ? T(1.0 / double(n)) : T(1);
        BroadcastGrad<SumGrad, Req>(ctx.run, full, small, igrad, x, og, og, og, scale);
      } else if constexpr (kind == Kind::kMaxMin) {
        BroadcastGrad<ArgEqualGrad, Req>(ctx.run, full, small, igrad, x, og, in[2].data<T>(), og,
                                         T(1));
      } else {
        T* nonzero_prod = static_cast<T*>(ctx.TempSpace(2 * small.Size() * sizeof(T)));
        T* zeros = nonzero_prod + small.Size();
        bcast::Reduce<bcast::NonzeroProdReducer, OpReq::kWrite>(ctx.run, full, x, small,
                                                                nonzero_prod);
        bcast::Reduce<bcast::ZeroCountReducer, OpReq::kWrite>(ctx.run, full, x, small, zeros);
        BroadcastGrad<ProdGrad, Req>(ctx.run, full, small, igrad, x, og, nonzero_prod, zeros, T(1));
      }
    });
  });
}

bool ReduceBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[1];
  if (data.ndim() < 0) return false;
  const auto& p = attrs.get<ReduceAxesParam>();
  AssignShape(in, 0, ReducedShape(data, ReducedDims(p, data), p.keepdims), "input 'ograd'");
  if (in->size() > 2) {
    AssignShape(in, 2, ReducedShape(data, ReducedDims(p, data), p.keepdims), "input 'output'");
  }
  AssignShape(out, 0, data, "output 0");
  return data.IsKnown();
}

template <typename R, Kind kind>
void AddReduce(OpRegistry* reg, const std::string& name, const std::string& doc) {
  const std::string bwd = "_backward_" + name;
  constexpr bool uses_output = kind == Kind::kMaxMin;
  reg->Add(name)
      .Describe(doc +
                " Reduces over `axis` (all axes when empty; the other axes with exclude=true); "
                "keepdims=true keeps reduced axes as size-1 dims. Integer types are accumulated in "
                "int64 and floating types in float64, then cast to the input type.")
      .SetParam<ReduceAxesParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ReduceAxesShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(ReduceAxesCompute<R>, kGpuKernels)
      .SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& og) {
        std::vector<NodeEntry> ins{og[0], InputOf(n, 0)};
        if (uses_output) ins.push_back(OutputOf(n));
        return std::vector<NodeEntry>{MakeGradEntry(bwd, n, "backward", ins, n->attrs.dict)};
      });
  Op& back = reg->Add(bwd)
                 .Describe("Gradient of " + name +
                           ": the output gradient broadcast back over "
                           "the reduced axes.")
                 .SetParam<ReduceAxesParam>()
                 .SetNumOutputs(1)
                 .SetInferShape(ReduceBackwardShape)
                 .SetInferType(ElemwiseType)
                 .SetComputeAll(ReduceBackwardCompute<kind>, kGpuKernels)
                 .SetNotDifferentiable()
                 .SetHidden()
                 .SetBackwardOf(name);
  if (uses_output) {
    back.SetInputs({"ograd", "data", "output"});
  } else {
    back.SetInputs({"ograd", "data"});
  }
  if (kind == Kind::kProd) back.SetResources({ResourceType::kTempSpace});
}

// ---- argmax / argmin ----

// Positions of the searched axis: `n` elements `inner` apart, `outer` times.
struct ArgExtent {
  int64_t outer = 1, n = 1, inner = 1;
};

ArgExtent ArgExtentOf(const ArgReduceParam& p, const Shape& data) {
  ArgExtent e;
  if (!p.axis.has_value()) {
    e.n = data.Size();
    return e;
  }
  const int ax = bcast::NormalizeAxis(p.axis.value(), data.ndim(), "axis");
  e.outer = data.ProdDims(0, ax);
  e.n = data[ax];
  e.inner = data.ProdDims(ax + 1, data.ndim());
  return e;
}

bool ArgReduceShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  const auto& p = attrs.get<ArgReduceParam>();
  std::vector<bool> reduced(data.ndim(), true);
  if (p.axis.has_value()) {
    const int ax = bcast::NormalizeAxis(p.axis.value(), data.ndim(), "axis");
    std::fill(reduced.begin(), reduced.end(), false);
    reduced[ax] = true;
    MX_CHECK(data[ax] != 0, kInvalidArgument)
        << "input 'data' has shape " << data << ": axis " << p.axis.value() << " is empty";
  } else {
    MX_CHECK(!data.IsKnown() || data.Size() > 0, kInvalidArgument)
        << "input 'data' has shape " << data << ": cannot search an empty array";
  }
  AssignShape(out, 0, ReducedShape(data, reduced, p.keepdims), "output 0");
  return (*out)[0].IsKnown();
}

template <bool kMax, OpReq Req>
struct ArgReduceKernel {
  // Ties go to the first position; a NaN wins (the first one), like numpy.
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* in, int64_t n, int64_t inner) {
    const int64_t o = i / inner;
    const T* x = in + o * n * inner + (i - o * inner);
    T best = x[0];
    int64_t best_k = 0;
    for (int64_t k = 1; k < n; ++k) {
      const T v = x[k * inner];
      const bool better = kMax ? v > best : v < best;
      if (best == best && (better || v != v)) {
        best = v;
        best_k = k;
      }
    }
    Assign<Req>(out[i], T(best_k));
  }
};

template <bool kMax>
void ArgReduceCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const ArgExtent e = ArgExtentOf(attrs.get<ArgReduceParam>(), in[0].shape);
  MX_NUMERIC_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<ArgReduceKernel<kMax, Req>>::Launch(ctx, e.outer * e.inner, out[0].data<T>(),
                                                 in[0].data<T>(), e.n, e.inner);
    });
  });
}

template <bool kMax>
void AddArgReduce(OpRegistry* reg, const std::string& name) {
  const std::string what = kMax ? "largest" : "smallest";
  reg->Add(name)
      .Describe("The index of the " + what +
                " element along `axis` (of the flattened array when axis is None), stored in "
                "the input's element type as MXNet does. Ties give the first index; NaN counts "
                "as " +
                what + ".")
      .SetParam<ArgReduceParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ArgReduceShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(ArgReduceCompute<kMax>, kGpuKernels)
      .SetNotDifferentiable();
}

}  // namespace

void RegisterReduceOps(OpRegistry* reg) {
  AddReduce<bcast::SumReducer, Kind::kSum>(reg, "sum", "The sum of the elements.");
  AddReduce<bcast::MeanReducer, Kind::kMean>(reg, "mean", "The mean of the elements.");
  AddReduce<bcast::MaxReducer, Kind::kMaxMin>(
      reg, "max",
      "The largest element (NaN if any is NaN). Gradient: every element equal to the maximum "
      "receives the full output gradient (ties are not split).");
  AddReduce<bcast::MinReducer, Kind::kMaxMin>(
      reg, "min",
      "The smallest element (NaN if any is NaN). Gradient: every element equal to the minimum "
      "receives the full output gradient (ties are not split).");
  AddReduce<bcast::ProdReducer, Kind::kProd>(
      reg, "prod",
      "The product of the elements. Gradient: the product of the other elements, exact also "
      "when some elements are zero.");
  AddArgReduce<true>(reg, "argmax");
  AddArgReduce<false>(reg, "argmin");
}

}  // namespace mx
