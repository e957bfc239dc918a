// Ops that move data between shapes without arithmetic: Reshape, reshape_like, Flatten,
// expand_dims (views: in place when the planner allows, else one copy), Concat, SliceChannel and
// slice_axis (block copies along one axis).
//
// Gradients whose shape is the forward input's (Reshape & co., Concat, slice_axis) take that
// input as an extra operand: only its shape is read, and it is what lets a backward node infer
// its output shape on its own.
// dmlc::optional's copy of its aligned storage trips GCC 12's -Wmaybe-uninitialized inside the
// dmlc headers (a false positive); the warning is emitted at code generation, so it is silenced
// for this file rather than around the include.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (the fuzz build)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <dmlc/optional.h>

#include <algorithm>
#include <sstream>

#include "op/all_ops.h"
#include "op/cuda_util.h"
#include "op/fill.h"
#include "op/matrix_ops.h"
#include "op/param_types.h"

namespace mx {
namespace matrix {

namespace {
// Row r, element j of a block on the GPU: dst row += src row.
struct AddRowsKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* d, const T* s, int64_t len, int64_t dst_stride,
                             int64_t src_stride) {
    const int64_t r = i / len, j = i % len;
    d[r * dst_stride + j] += s[r * src_stride + j];
  }
};
}  // namespace

void CopyRows(const engine::RunContext& rctx, const TBlob& src, int64_t src_off, int64_t src_stride,
              const TBlob& dst, int64_t dst_off, int64_t dst_stride, int64_t rows, int64_t len,
              OpReq req, const std::string& op) {
  if (req == OpReq::kNull || rows == 0 || len == 0) return;
  if (rctx.ctx.is_gpu()) {
#if MX_USE_CUDA
    if (req != OpReq::kAdd) {
      const size_t es = DTypeSize(dst.dtype);
      cuda::Check(
          cudaMemcpy2DAsync(static_cast<char*>(dst.dptr) + dst_off * es, dst_stride * es,
                            static_cast<const char*>(src.dptr) + src_off * es, src_stride * es,
                            len * es, rows, cudaMemcpyDeviceToDevice, cuda::StreamOf(rctx)),
          "cudaMemcpy2DAsync");
      return;
    }
    MX_NUMERIC_TYPE_SWITCH(dst.dtype, T, op, {
      Kernel<AddRowsKernel>::LaunchGPU(rctx, rows * len, dst.data<T>() + dst_off,
                                       src.data<T>() + src_off, len, dst_stride, src_stride);
    });
    return;
#endif
  }
  if (req != OpReq::kAdd) {
    const size_t es = DTypeSize(dst.dtype);
    const char* s = static_cast<const char*>(src.dptr) + src_off * es;
    char* d = static_cast<char*>(dst.dptr) + dst_off * es;
    MX_OMP_FOR_IF(rows > 1 && rows * len >= kOmpMinWork)
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(d + r * dst_stride * es, s + r * src_stride * es, len * es);
    }
    return;
  }
  MX_NUMERIC_TYPE_SWITCH(dst.dtype, T, op, {
    const T* s = src.data<T>() + src_off;
    T* d = dst.data<T>() + dst_off;
    MX_OMP_FOR_IF(rows > 1 && rows * len >= kOmpMinWork)
    for (int64_t r = 0; r < rows; ++r) {
      const T* sr = s + r * src_stride;
      T* dr = d + r * dst_stride;
      for (int64_t j = 0; j < len; ++j) dr[j] += sr[j];
    }
  });
}

}  // namespace matrix

namespace {

using matrix::CopyOrAdd;
using matrix::CopyRows;
using matrix::NormalizeAxis;

std::string Str(const Tuple& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

// ---- Reshape ----

struct ReshapeParam : public dmlc::Parameter<ReshapeParam> {
  Tuple shape;
  bool reverse;
  DMLC_DECLARE_PARAMETER(ReshapeParam) {
    DMLC_DECLARE_FIELD(shape).set_default(Tuple()).describe(
        "The target shape. Special values: 0 copies this input dim, -1 infers this dim from the "
        "size (at most one), -2 copies all remaining input dims, -3 merges two consecutive "
        "input dims into one, -4 splits one input dim into the two values that follow it (one "
        "of them may be -1).");
    DMLC_DECLARE_FIELD(reverse).set_default(false).describe(
        "Match the special values against the input dims from the right instead of the left.");
  }
};

// MXNet's reshape rules, left to right. Input dims may be unknown (-1, partial inference): the
// output dims that depend on them are unknown too.
Shape InferReshape(const std::vector<int64_t>& in, const std::vector<int64_t>& spec,
                   const std::string& given) {
  std::vector<int64_t> out;
  size_t src = 0;
  int infer_at = -1;
  const bool in_known = Shape(in).IsKnown();
  const int64_t in_size = in_known ? Shape(in).Size() : -1;
  auto next_in = [&](const char* code) {
    MX_CHECK(src < in.size(), kInvalidArgument)
        << "shape=" << given << ": " << code << " refers to input dim " << src << ", but the input "
        << Shape(in) << " has only " << in.size() << " dims";
    return in[src++];
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    const int64_t v = spec[i];
    if (v == 0) {
      out.push_back(next_in("0"));
    } else if (v == -1) {
      MX_CHECK(infer_at < 0, kInvalidArgument)
          << "shape=" << given << ": at most one dim may be -1 (inferred)";
      infer_at = static_cast<int>(out.size());
      out.push_back(1);
      ++src;
    } else if (v == -2) {
      while (src < in.size()) out.push_back(in[src++]);
    } else if (v == -3) {
      const int64_t d1 = next_in("-3");
      const int64_t d2 = next_in("-3");
      out.push_back(d1 < 0 || d2 < 0 ? -1 : d1 * d2);
    } else if (v == -4) {
      MX_CHECK(i + 2 < spec.size(), kInvalidArgument)
          << "shape=" << given << ": -4 must be followed by two values";
      const int64_t d0 = next_in("-4");
      int64_t d1 = spec[++i], d2 = spec[++i];
      MX_CHECK((d1 > 0 || d1 == -1) && (d2 > 0 || d2 == -1) && !(d1 == -1 && d2 == -1),
               kInvalidArgument)
          << "shape=" << given << ": the two values after -4 must be positive, or one of them -1";
      if (d0 < 0) {  // unknown: so is the part that would follow from it
        out.push_back(d1);
        out.push_back(d2);
        continue;
      }
      if (d1 == -1) d1 = d2 > 0 && d0 % d2 == 0 ? d0 / d2 : -1;
      if (d2 == -1) d2 = d1 > 0 && d0 % d1 == 0 ? d0 / d1 : -1;
      MX_CHECK(d1 >= 0 && d2 >= 0 && d1 * d2 == d0, kInvalidArgument)
          << "shape=" << given << ": -4 cannot split input dim " << src - 1 << " of length " << d0
          << " into " << spec[i - 1] << " x " << spec[i];
      out.push_back(d1);
      out.push_back(d2);
    } else {
      MX_CHECK(v > 0, kInvalidArgument)
          << "shape=" << given << ": " << v << " is not a dim or a special value (0, -1..-4)";
      out.push_back(v);
      ++src;
    }
  }
  if (infer_at >= 0 && !in_known) out[infer_at] = -1;
  if (infer_at >= 0 && in_known) {
    int64_t known = 1;
    for (size_t i = 0; i < out.size(); ++i) known *= static_cast<int>(i) == infer_at ? 1 : out[i];
    MX_CHECK(known > 0 ? in_size % known == 0 : in_size == 0, kInvalidArgument)
        << "cannot reshape " << Shape(in) << " (" << in_size << " elements) with shape=" << given
        << ": the other dims' product " << known << " does not divide the size";
    out[infer_at] = known > 0 ? in_size / known : 0;
  }
  MX_CHECK(static_cast<int>(out.size()) <= Shape::kMaxNDim, kInvalidArgument)
      << "shape=" << given << " gives " << out.size() << " dims (at most " << Shape::kMaxNDim
      << ")";
  const Shape result(out);
  MX_CHECK(!in_known || result.Size() == in_size, kInvalidArgument)
      << "cannot reshape " << Shape(in) << " (" << in_size << " elements) into " << result << " ("
      << result.Size() << " elements), from shape=" << given;
  return result;
}

Shape ReshapeTarget(const Shape& in, const ReshapeParam& p) {
  const std::string given = Str(p.shape);
  if (!p.reverse) return InferReshape(in.ToVector(), p.shape.v, given);
  // Reverse the dims and the spec (keeping each "-4 a b" group together, as "-4 b a"), infer,
  // and reverse the result.
  std::vector<std::vector<int64_t>> groups;
  for (size_t i = 0; i < p.shape.size(); ++i) {
    if (p.shape[i] == -4 && i + 2 < p.shape.size()) {
      groups.push_back({-4, p.shape[i + 2], p.shape[i + 1]});
      i += 2;
    } else {
      groups.push_back({p.shape[i]});
    }
  }
  std::vector<int64_t> spec;
  for (auto g = groups.rbegin(); g != groups.rend(); ++g)
    spec.insert(spec.end(), g->begin(), g->end());
  std::vector<int64_t> dims = in.ToVector();
  std::reverse(dims.begin(), dims.end());
  std::vector<int64_t> out = InferReshape(dims, spec, given).ToVector();
  std::reverse(out.begin(), out.end());
  return Shape(out);
}

// The one unknown dim of `*data` that a known output's size determines (Reshape and Flatten's
// backward inference); nothing when more than one dim is unknown.
void FillOneUnknownDim(Shape* data, const Shape& out, const char* what) {
  if (data->ndim() < 0 || data->IsKnown() || !out.IsKnown()) return;
  int unknown_at = -1;
  int64_t known = 1;
  for (int i = 0; i < data->ndim(); ++i) {
    if ((*data)[i] >= 0) {
      known *= (*data)[i];
    } else if (unknown_at >= 0) {
      return;
    } else {
      unknown_at = i;
    }
  }
  if (known == 0) return;
  MX_CHECK(out.Size() % known == 0, kInvalidArgument)
      << what << ": the output " << out << " has " << out.Size() << " elements, which input 'data' "
      << *data << " cannot have";
  (*data)[unknown_at] = out.Size() / known;
}

bool ReshapeShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape& data = (*in)[0];
  if (data.ndim() < 0) return false;
  FillOneUnknownDim(&data, (*out)[0], "Reshape");
  AssignShape(out, 0, ReshapeTarget(data, attrs.get<ReshapeParam>()), "output");
  return data.IsKnown();
}

// Reshape, reshape_like, Flatten, expand_dims: the bytes do not change.
void CopyCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  CopyOrAdd(ctx.run, in[0], req[0], out[0], attrs.op->name);
}

// The gradient of the view ops: ograd reshaped back to the input's shape.
std::vector<NodeEntry> ReshapeBackGradient(const NodePtr& n, const std::vector<NodeEntry>& og) {
  return {MakeGradEntry("reshape_like", n, "backward", {og[0], InputOf(n, 0)})};
}

bool ReshapeLikeShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& l = (*in)[0];
  const Shape& r = (*in)[1];
  if (r.ndim() >= 0) AssignShape(out, 0, r, "output");
  if (!l.IsKnown() || !r.IsKnown()) return false;
  MX_CHECK(l.Size() == r.Size(), kInvalidArgument)
      << "cannot reshape lhs " << l << " (" << l.Size() << " elements) like rhs " << r << " ("
      << r.Size() << " elements)";
  AssignShape(out, 0, r, "output");
  return true;
}

// The output has lhs's type; rhs lends only its shape and may have any type.
bool FirstInputType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = (*in)[0] >= 0 ? (*in)[0] : (*out)[0];
  if (t < 0) return false;
  MX_CHECK((*out)[0] < 0 || (*out)[0] == t, kInvalidArgument)
      << "output is " << DTypeName(static_cast<DType>((*out)[0])) << ", expected "
      << DTypeName(static_cast<DType>(t));
  (*in)[0] = (*out)[0] = t;
  return true;
}

// ---- Flatten, expand_dims ----

bool FlattenShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape& s = (*in)[0];
  if (s.ndim() < 0) return false;
  MX_CHECK(s.ndim() >= 1, kInvalidArgument) << "input 'data' must have at least 1 axis, got " << s;
  const Shape& o = (*out)[0];
  if (o.ndim() == 2 && s[0] < 0) s[0] = o[0];
  FillOneUnknownDim(&s, o, "Flatten");
  bool rest_known = true;
  for (int i = 1; i < s.ndim(); ++i) rest_known = rest_known && s[i] >= 0;
  AssignShape(out, 0, Shape{s[0], rest_known ? s.ProdDims(1, s.ndim()) : -1}, "output");
  return s.IsKnown();
}

struct ExpandDimsParam : public dmlc::Parameter<ExpandDimsParam> {
  int axis;
  DMLC_DECLARE_PARAMETER(ExpandDimsParam) {
    DMLC_DECLARE_FIELD(axis).describe(
        "Where the new axis of length 1 goes, in [-ndim-1, ndim] (negative counts from the end "
        "of the output).");
  }
};

bool ExpandDimsShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& o = (*out)[0];
  if ((*in)[0].ndim() < 0 && o.ndim() >= 1) {  // backward: the output without the new axis
    std::vector<int64_t> dims = o.ToVector();
    dims.erase(dims.begin() + NormalizeAxis(attrs.get<ExpandDimsParam>().axis, o.ndim()));
    AssignShape(in, 0, Shape(dims), "input 'data'");
  }
  const Shape& s = (*in)[0];
  if (s.ndim() < 0) return false;
  const int axis = NormalizeAxis(attrs.get<ExpandDimsParam>().axis, s.ndim() + 1);
  std::vector<int64_t> dims = s.ToVector();
  dims.insert(dims.begin() + axis, 1);
  MX_CHECK(static_cast<int>(dims.size()) <= Shape::kMaxNDim, kInvalidArgument)
      << "input " << s << " already has the maximum number of axes";
  AssignShape(out, 0, Shape(dims), "output");
  return s.IsKnown();
}

// ---- Concat ----

struct ConcatParam : public dmlc::Parameter<ConcatParam> {
  int num_args;
  int dim;
  DMLC_DECLARE_PARAMETER(ConcatParam) {
    DMLC_DECLARE_FIELD(num_args).set_range(1, kMaxOpArity).describe("The number of inputs.");
    DMLC_DECLARE_FIELD(dim).set_default(1).describe(
        "The axis to concatenate along (negative counts from the end).");
  }
};

std::vector<std::string> ConcatInputs(const NodeAttrs& attrs) {
  return NumberedNames("arg", attrs.get<ConcatParam>().num_args);
}

bool ConcatShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const int n = attrs.get<ConcatParam>().num_args;
  int ndim = (*out)[0].ndim();
  for (const Shape& s : *in) ndim = ndim >= 0 ? ndim : s.ndim();
  if (ndim < 0) return false;
  MX_CHECK(ndim >= 1, kInvalidArgument) << "inputs must have at least 1 axis";
  const int axis = NormalizeAxis(attrs.get<ConcatParam>().dim, ndim, "dim");
  // Every axis but `axis` is common to all inputs and the output.
  Shape common = Shape::Filled(ndim, -1);
  int64_t sum = 0;
  int unknown = -1, n_unknown = 0;
  for (int i = 0; i < n; ++i) {
    const Shape& s = (*in)[i];
    if (s.ndim() < 0) {
      unknown = i, ++n_unknown;
      continue;
    }
    Shape t = s;
    t[axis] = -1;
    MX_CHECK(s.ndim() == ndim && MergeShape(&common, t), kInvalidArgument)
        << "input 'arg" << i << "' has shape " << s << ", which does not match the other inputs "
        << common << " on every axis but dim=" << axis;
    if (s[axis] < 0) {
      unknown = i, ++n_unknown;
    } else {
      sum += s[axis];
    }
  }
  if ((*out)[0].ndim() >= 0) {
    Shape t = (*out)[0];
    t[axis] = -1;
    MX_CHECK(MergeShape(&common, t), kInvalidArgument)
        << "output has shape " << (*out)[0] << ", which does not match the inputs " << common;
  }
  Shape o = common;
  if (n_unknown == 0) o[axis] = sum;
  AssignShape(out, 0, o, "output");
  const int64_t out_axis = (*out)[0][axis];
  for (int i = 0; i < n; ++i) {
    Shape s = common;
    s[axis] = (*in)[i].ndim() >= 0 ? (*in)[i][axis] : -1;
    // One input's extent along the axis follows from the output's.
    if (i == unknown && n_unknown == 1 && out_axis >= 0) {
      MX_CHECK(out_axis >= sum, kInvalidArgument)
          << "output has " << out_axis << " elements on dim=" << axis << " but the inputs have "
          << sum;
      s[axis] = out_axis - sum;
    }
    AssignShape(in, i, s, "input 'arg" + std::to_string(i) + "'");
  }
  for (const Shape& s : *in) {
    if (!s.IsKnown()) return false;
  }
  return (*out)[0].IsKnown();
}

// The rows (product of dims before `axis`) and per-row lengths that Concat and its inverse copy.
struct AxisBlocks {
  int64_t rows = 1;
  int64_t inner = 1;  // product of dims after `axis`
};

AxisBlocks Blocks(const Shape& s, int axis) {
  return {s.ProdDims(0, axis), s.ProdDims(axis + 1, s.ndim())};
}

void ConcatCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                   const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape& os = out[0].shape;
  const int axis = NormalizeAxis(attrs.get<ConcatParam>().dim, os.ndim(), "dim");
  const AxisBlocks b = Blocks(os, axis);
  const int64_t out_row = os[axis] * b.inner;
  int64_t off = 0;
  for (const TBlob& x : in) {
    const int64_t len = x.shape[axis] * b.inner;
    CopyRows(ctx.run, x, 0, len, out[0], off, out_row, b.rows, len, req[0], attrs.op->name);
    off += len;
  }
}

// Inputs (ograd, arg0..); outputs the gradients of arg0.. (the inputs lend their shapes).
void ConcatBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx,
                           const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                           const std::vector<TBlob>& out) {
  const Shape& os = in[0].shape;
  const int axis = NormalizeAxis(attrs.get<ConcatParam>().dim, os.ndim(), "dim");
  const AxisBlocks b = Blocks(os, axis);
  const int64_t row = os[axis] * b.inner;
  int64_t off = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t len = out[i].shape[axis] * b.inner;
    CopyRows(ctx.run, in[0], off, row, out[i], 0, len, b.rows, len, req[i], attrs.op->name);
    off += len;
  }
}

bool ConcatBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  bool known = true;
  for (size_t i = 0; i < out->size(); ++i) {
    AssignShape(out, i, (*in)[i + 1], "output " + std::to_string(i));
    known = known && (*in)[i + 1].IsKnown();
  }
  return known;
}

// ---- SliceChannel ----

struct SliceChannelParam : public dmlc::Parameter<SliceChannelParam> {
  int num_outputs;
  int axis;
  bool squeeze_axis;
  DMLC_DECLARE_PARAMETER(SliceChannelParam) {
    DMLC_DECLARE_FIELD(num_outputs)
        .set_range(1, kMaxOpArity)
        .describe("The number of equal parts to split into.");
    DMLC_DECLARE_FIELD(axis).set_default(1).describe(
        "The axis to split along (negative counts from the end).");
    DMLC_DECLARE_FIELD(squeeze_axis)
        .set_default(false)
        .describe(
            "Drop the split axis from the outputs; needs that axis's length to equal "
            "num_outputs.");
  }
};

bool SliceChannelShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<SliceChannelParam>();
  // Every output has the same shape: what any of them knows, all do, and the input follows.
  Shape part = Shape::Unknown();
  for (int i = 0; i < p.num_outputs; ++i) {
    MX_CHECK(MergeShape(&part, (*out)[i]), kInvalidArgument)
        << "output " << i << " has shape " << (*out)[i] << ", the other outputs " << part;
  }
  int ndim = (*in)[0].ndim();
  if (ndim < 0 && part.ndim() >= 0) ndim = part.ndim() + (p.squeeze_axis ? 1 : 0);
  if (ndim < 0) return false;
  MX_CHECK(ndim >= 1, kInvalidArgument)
      << "input 'data' must have at least 1 axis, got " << (*in)[0];
  const int axis = NormalizeAxis(p.axis, ndim);
  if (part.ndim() >= 0) {
    std::vector<int64_t> dims = part.ToVector();
    if (p.squeeze_axis) dims.insert(dims.begin() + std::min<int>(axis, part.ndim()), 1);
    if (dims[axis] >= 0) dims[axis] *= p.num_outputs;
    AssignShape(in, 0, Shape(dims), "input 'data'");
  }
  const Shape& s = (*in)[0];
  MX_CHECK(s[axis] < 0 || s[axis] % p.num_outputs == 0, kInvalidArgument)
      << "axis " << axis << " of input 'data' " << s << " has " << s[axis]
      << " elements, which do not split into num_outputs=" << p.num_outputs << " equal parts";
  std::vector<int64_t> dims = s.ToVector();
  if (dims[axis] >= 0) dims[axis] /= p.num_outputs;
  if (p.squeeze_axis) {
    MX_CHECK(dims[axis] < 0 || dims[axis] == 1, kInvalidArgument)
        << "squeeze_axis=1 needs axis " << axis << " of input 'data' " << s
        << " to have num_outputs=" << p.num_outputs << " elements";
    dims.erase(dims.begin() + axis);
  }
  for (int i = 0; i < p.num_outputs; ++i) {
    AssignShape(out, i, Shape(dims), "output " + std::to_string(i));
  }
  return s.IsKnown();
}

void SliceChannelCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const auto& p = attrs.get<SliceChannelParam>();
  const Shape& s = in[0].shape;
  const int axis = NormalizeAxis(p.axis, s.ndim());
  const AxisBlocks b = Blocks(s, axis);
  const int64_t row = s[axis] * b.inner;
  const int64_t len = row / p.num_outputs;
  for (int i = 0; i < p.num_outputs; ++i) {
    CopyRows(ctx.run, in[0], i * len, row, out[i], 0, len, b.rows, len, req[i], attrs.op->name);
  }
}

// ---- slice_axis ----

struct SliceAxisParam : public dmlc::Parameter<SliceAxisParam> {
  int axis;
  int begin;
  dmlc::optional<int> end;
  DMLC_DECLARE_PARAMETER(SliceAxisParam) {
    DMLC_DECLARE_FIELD(axis).describe("The axis to slice (negative counts from the end).");
    DMLC_DECLARE_FIELD(begin).describe(
        "The first index taken (negative counts from the end of the axis).");
    DMLC_DECLARE_FIELD(end).describe(
        "One past the last index taken (negative counts from the end; None: the end of the "
        "axis).");
  }
};

// The axis and [begin, end) of a slice_axis call on shape `s`.
struct SliceRange {
  int axis;
  int64_t begin, end;
};

SliceRange GetSliceRange(const SliceAxisParam& p, const Shape& s) {
  MX_CHECK(s.ndim() >= 1, kInvalidArgument) << "input 'data' must have at least 1 axis, got " << s;
  SliceRange r;
  r.axis = NormalizeAxis(p.axis, s.ndim());
  const int64_t len = s[r.axis];
  r.begin = p.begin < 0 ? p.begin + len : p.begin;
  r.end = p.end.has_value() ? (p.end.value() < 0 ? p.end.value() + len : p.end.value()) : len;
  MX_CHECK(0 <= r.begin && r.begin < r.end && r.end <= len, kInvalidArgument)
      << "begin=" << p.begin
      << ", end=" << (p.end.has_value() ? std::to_string(p.end.value()) : std::string("None"))
      << " is not a non-empty range of axis " << r.axis << " (length " << len << ") of input " << s;
  return r;
}

bool SliceAxisShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].IsKnown()) return false;
  const SliceRange r = GetSliceRange(attrs.get<SliceAxisParam>(), (*in)[0]);
  Shape o = (*in)[0];
  o[r.axis] = r.end - r.begin;
  AssignShape(out, 0, o, "output");
  return true;
}

void SliceAxisCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape& s = in[0].shape;
  const SliceRange r = GetSliceRange(attrs.get<SliceAxisParam>(), s);
  const AxisBlocks b = Blocks(s, r.axis);
  const int64_t len = (r.end - r.begin) * b.inner;
  CopyRows(ctx.run, in[0], r.begin * b.inner, s[r.axis] * b.inner, out[0], 0, len, b.rows, len,
           req[0], attrs.op->name);
}

// Inputs (ograd, data); the output is ograd inside the slice and zero elsewhere.
void SliceAxisBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx,
                              const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                              const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const Shape& s = out[0].shape;
  const SliceRange r = GetSliceRange(attrs.get<SliceAxisParam>(), s);
  const AxisBlocks b = Blocks(s, r.axis);
  // An empty output's data pointer may be null, which memset must not get even for 0 bytes.
  if (req[0] != OpReq::kAdd) FillBlob(ctx.run, out[0], OpReq::kWrite, 0.0, "slice_axis");
  const int64_t len = (r.end - r.begin) * b.inner;
  CopyRows(ctx.run, in[0], 0, len, out[0], r.begin * b.inner, s[r.axis] * b.inner, b.rows, len,
           req[0], attrs.op->name);
}

// Inputs (ograd, data): ograd must have the slice's shape. The op can be invoked by name with any
// arrays, and its kernel copies ograd with the slice's geometry.
bool SliceAxisBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in,
                            std::vector<Shape>* out) {
  std::vector<Shape> fwd_in{(*in)[1]}, fwd_out{Shape::Unknown()};
  if (SliceAxisShape(attrs, &fwd_in, &fwd_out)) AssignShape(in, 0, fwd_out[0], "input 'ograd'");
  AssignShape(out, 0, (*in)[1], "output");
  return (*in)[1].IsKnown();
}

DMLC_REGISTER_PARAMETER(ReshapeParam);
DMLC_REGISTER_PARAMETER(ExpandDimsParam);
DMLC_REGISTER_PARAMETER(ConcatParam);
DMLC_REGISTER_PARAMETER(SliceChannelParam);
DMLC_REGISTER_PARAMETER(SliceAxisParam);

}  // namespace

void RegisterShapeOps(OpRegistry* reg) {
  reg->Add("Reshape")
      .Describe(
          "Gives the input a new shape with the same number of elements, e.g. (2,3,4) with "
          "shape=(-1,4) gives (6,4) and with shape=(0,-3) gives (2,12). See the shape parameter "
          "for the special values.")
      .SetParam<ReshapeParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ReshapeShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(CopyCompute, kGpuKernels)
      .SetGradient(ReshapeBackGradient);

  reg->Add("reshape_like")
      .Describe("Gives lhs the shape of rhs (which must have as many elements).")
      .SetInputs({"lhs", "rhs"})
      .SetNumOutputs(1)
      .SetInferShape(ReshapeLikeShape)
      .SetInferType(FirstInputType)
      .SetInplace({{0, 0}})
      .SetComputeAll(CopyCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("reshape_like", n, "backward", {og[0], InputOf(n, 0)}), ZeroGradient()};
      });

  reg->Add("Flatten")
      .Describe(
          "Flattens the input to 2-D, keeping the first axis: (d0, d1, ..., dk) becomes "
          "(d0, d1*...*dk).")
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(FlattenShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(CopyCompute, kGpuKernels)
      .SetGradient(ReshapeBackGradient);

  reg->Add("expand_dims")
      .Describe("Inserts an axis of length 1 at position axis.")
      .SetParam<ExpandDimsParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ExpandDimsShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(CopyCompute, kGpuKernels)
      .SetGradient(ReshapeBackGradient);

  reg->Add("Concat")
      .Describe("Joins num_args arrays along axis dim. The inputs must agree on every other axis.")
      .SetParam<ConcatParam>()
      .SetInputs(ConcatInputs)
      .SetNumOutputs(1)
      .SetInferShape(ConcatShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(ConcatCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        std::vector<NodeEntry> ins{og[0]};
        ins.insert(ins.end(), n->inputs.begin(), n->inputs.end());
        return MakeGradNode("_backward_Concat", n, ins, n->attrs.dict);
      });
  reg->Add("_backward_Concat")
      .Describe("Gradient of Concat: ograd split back into the inputs' extents along dim.")
      .SetParam<ConcatParam>()
      .SetInputs([](const NodeAttrs& attrs) {
        std::vector<std::string> names{"ograd"};
        for (auto& s : ConcatInputs(attrs)) names.push_back(s);
        return names;
      })
      .SetNumOutputs([](const NodeAttrs& attrs) { return attrs.get<ConcatParam>().num_args; })
      .SetInferShape(ConcatBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(ConcatBackwardCompute, kGpuKernels)
      .SetBackwardOf("Concat");

  reg->Add("SliceChannel")
      .Describe(
          "Splits the input into num_outputs equal parts along axis (also known as split). With "
          "squeeze_axis the split axis, then of length 1, is dropped from the outputs.")
      .SetParam<SliceChannelParam>()
      .SetInputs({"data"})
      .SetNumOutputs([](const NodeAttrs& a) { return a.get<SliceChannelParam>().num_outputs; })
      .SetInferShape(SliceChannelShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(SliceChannelCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        // The output gradients joined back along the axis (restored first when squeezed).
        const auto& p = n->attrs.get<SliceChannelParam>();
        const std::string axis = std::to_string(p.axis);
        std::vector<NodeEntry> parts = og;
        if (p.squeeze_axis) {
          // expand_dims counts the axis in its output, which has the input's rank.
          for (size_t i = 0; i < parts.size(); ++i) {
            parts[i] = MakeGradEntry("expand_dims", n, "unsqueeze" + std::to_string(i), {og[i]},
                                     {{"axis", axis}});
          }
        }
        return std::vector<NodeEntry>{
            MakeGradEntry("Concat", n, "backward", parts,
                          {{"num_args", std::to_string(p.num_outputs)}, {"dim", axis}})};
      });

  reg->Add("slice_axis")
      .Describe(
          "Takes indices [begin, end) of one axis, e.g. axis=1, begin=1, end=3 on (2,4) gives "
          "columns 1 and 2, shape (2,2).")
      .SetParam<SliceAxisParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(SliceAxisShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(SliceAxisCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{MakeGradEntry("_backward_slice_axis", n, "backward",
                                                    {og[0], InputOf(n, 0)}, n->attrs.dict)};
      });
  reg->Add("_backward_slice_axis")
      .Describe("Gradient of slice_axis: ograd placed at the slice, zero elsewhere.")
      .SetParam<SliceAxisParam>()
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(SliceAxisBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(SliceAxisBackwardCompute, kGpuKernels)
      .SetBackwardOf("slice_axis");
}

}  // namespace mx
