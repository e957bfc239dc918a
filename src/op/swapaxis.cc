// SwapAxis (also named swapaxes): exchanges two axes. Its gradient swaps the same axes back.
//
// The array is viewed as (A, n1, B, n2, C) around the two axes (dim1 < dim2 after sorting); the
// output is (A, n2, B, n1, C). Each output element reads one input element, and the innermost
// run C stays contiguous, so the kernel is a plain launch/map.
#include <algorithm>
#include <utility>

#include "op/elemwise.h"
#include "op/kernel.h"
#include "op/matrix_ops.h"
#include "op/nn_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

struct SwapAxisParam : public dmlc::Parameter<SwapAxisParam> {
  int dim1, dim2;
  DMLC_DECLARE_PARAMETER(SwapAxisParam) {
    DMLC_DECLARE_FIELD(dim1).set_default(0).describe(
        "The first axis to swap; negative counts from the last axis.");
    DMLC_DECLARE_FIELD(dim2).set_default(0).describe(
        "The second axis to swap; negative counts from the last axis.");
  }
};

// The two axes of `ndim`, normalised and sorted.
std::pair<int, int> Axes(const NodeAttrs& attrs, int ndim) {
  const SwapAxisParam& p = attrs.get<SwapAxisParam>();
  const int a = matrix::NormalizeAxis(p.dim1, ndim, "dim1");
  const int b = matrix::NormalizeAxis(p.dim2, ndim, "dim2");
  return {std::min(a, b), std::max(a, b)};
}

Shape Swapped(Shape s, int a, int b) {
  std::swap(s[a], s[b]);
  return s;
}

bool SwapAxisShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  // The same swap maps the input to the output and back.
  const int ndim = (*in)[0].ndim() >= 0 ? (*in)[0].ndim() : (*out)[0].ndim();
  if (ndim < 0) return false;
  MX_CHECK(ndim >= 1, kInvalidArgument) << "input 'data' must have at least one axis";
  const auto [a, b] = Axes(attrs, ndim);
  if ((*in)[0].ndim() >= 0) AssignShape(out, 0, Swapped((*in)[0], a, b), "output");
  AssignShape(in, 0, Swapped((*out)[0], a, b), "input 'data'");
  return (*in)[0].IsKnown() && (*out)[0].IsKnown();
}

template <OpReq Req>
struct SwapKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* x, int64_t n1, int64_t mid, int64_t n2,
                             int64_t inner) {
    // i indexes the output (A, n2, mid, n1, inner).
    const int64_t c = i % inner;
    int64_t r = i / inner;
    const int64_t j1 = r % n1;
    r /= n1;
    const int64_t m = r % mid;
    r /= mid;
    const int64_t j2 = r % n2;
    const int64_t a = r / n2;
    Assign<Req>(y[i], x[(((a * n1 + j1) * mid + m) * n2 + j2) * inner + c]);
  }
};

void SwapAxisCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape& s = in[0].shape;
  const auto [a, b] = Axes(attrs, s.ndim());
  if (a == b) return matrix::CopyOrAdd(ctx.run, in[0], req[0], out[0], attrs.op->name);
  const int64_t n1 = s[a], mid = s.ProdDims(a + 1, b), n2 = s[b];
  const int64_t inner = s.ProdDims(b + 1, s.ndim());
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<SwapKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(), n1,
                                      mid, n2, inner);
    });
  });
}

void AddSwapAxis(OpRegistry* reg, const std::string& name) {
  const std::string bwd = "_backward_" + name;
  reg->Add(name)
      .Describe(
          "Interchanges axes dim1 and dim2: out[..., i, ..., j, ...] = data[..., j, ..., i, ...]. "
          "Any numeric type; dim1 == dim2 copies.")
      .SetParam<SwapAxisParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(SwapAxisShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(SwapAxisCompute, kGpuKernels)
      .SetGradient([bwd](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{MakeGradEntry(bwd, n, "backward", {og[0]}, n->attrs.dict)};
      });
  reg->Add(bwd)
      .Describe("Gradient of " + name + ": the same swap applied to the output gradient.")
      .SetParam<SwapAxisParam>()
      .SetInputs({"ograd"})
      .SetNumOutputs(1)
      .SetInferShape(SwapAxisShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(SwapAxisCompute, kGpuKernels)
      .SetBackwardOf(name);
}

}  // namespace

DMLC_REGISTER_PARAMETER(SwapAxisParam);

void RegisterSwapAxisOps(OpRegistry* reg) {
  AddSwapAxis(reg, "SwapAxis");
  AddSwapAxis(reg, "swapaxes");
}

}  // namespace mx
