// Ops that pick or convert elements: take, one_hot, clip, Cast, and add_n (also registered as
// ElementWiseSum, its older MXNet name).
#include <algorithm>
#include <type_traits>

#include "op/all_ops.h"
#include "op/fill.h"
#include "op/matrix_ops.h"

namespace mx {
namespace {

using matrix::AddDTypeEnums;
using matrix::CopyRows;
using matrix::NormalizeAxis;

// ---- take ----

enum TakeMode { kTakeClip = 0, kTakeWrap = 1 };

struct TakeParam : public dmlc::Parameter<TakeParam> {
  int axis;
  int mode;
  DMLC_DECLARE_PARAMETER(TakeParam) {
    DMLC_DECLARE_FIELD(axis).set_default(0).describe(
        "The axis of a to take from (negative counts from the end).");
    DMLC_DECLARE_FIELD(mode)
        .set_default(kTakeClip)
        .add_enum("clip", kTakeClip)
        .add_enum("wrap", kTakeWrap)
        .describe(
            "Out-of-range indices: 'clip' uses the nearest valid index, 'wrap' wraps around "
            "(index modulo the axis length).");
  }
};

bool TakeShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& a = (*in)[0];
  const Shape& idx = (*in)[1];
  if (!a.IsKnown() || !idx.IsKnown()) return false;
  MX_CHECK(a.ndim() >= 1, kInvalidArgument) << "input 'a' must have at least 1 axis, got " << a;
  const int axis = NormalizeAxis(attrs.get<TakeParam>().axis, a.ndim());
  MX_CHECK(a[axis] > 0, kInvalidArgument)
      << "axis " << axis << " of input 'a' " << a << " is empty: nothing to take";
  std::vector<int64_t> dims(a.begin(), a.begin() + axis);
  dims.insert(dims.end(), idx.begin(), idx.end());
  dims.insert(dims.end(), a.begin() + axis + 1, a.end());
  MX_CHECK(static_cast<int>(dims.size()) <= Shape::kMaxNDim, kInvalidArgument)
      << "the output of a " << a << " and indices " << idx << " would have " << dims.size()
      << " axes (at most " << Shape::kMaxNDim << ")";
  AssignShape(out, 0, Shape(dims), "output");
  return true;
}

// The output has a's type; indices may have any numeric type (their values are truncated).
bool TakeType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  std::vector<int> data{(*in)[0]};
  const bool ok = ElemwiseType(attrs, &data, out);
  (*in)[0] = data[0];
  if ((*in)[1] < 0) (*in)[1] = data[0];
  return ok;
}

// The integer part of an index of any numeric type. A float index can be NaN or beyond int64,
// and casting those is undefined behaviour: NaN becomes `nan_value`, anything else is clamped to
// +-2^62, past the end of every axis, which changes no clipped or out-of-range result.
template <typename I>
MX_XINLINE int64_t IndexValue(I v, int64_t nan_value) {
  if constexpr (std::is_floating_point_v<I>) {
    if (v != v) return nan_value;
    constexpr double kFar = 4611686018427387904.0;  // 2^62
    const double d = static_cast<double>(v);
    return static_cast<int64_t>(d < -kFar ? -kFar : (d > kFar ? kFar : d));
  } else {
    return static_cast<int64_t>(v);
  }
}

// Index k of `indices`, made valid for an axis of length n (NaN counts as 0).
template <typename I>
MX_XINLINE int64_t TakeIndex(const I* indices, int64_t k, int64_t n, int mode) {
  int64_t j = IndexValue(indices[k], 0);
  if (mode == kTakeWrap) {
    j %= n;
    return j < 0 ? j + n : j;
  }
  return j < 0 ? 0 : (j >= n ? n - 1 : j);
}

// The geometry of a take call: a is (rows, n, inner), the output (rows, k, inner).
struct TakeDims {
  int64_t rows, n, k, inner;
};

TakeDims GetTakeDims(const NodeAttrs& attrs, const Shape& a, const Shape& idx) {
  const int axis = NormalizeAxis(attrs.get<TakeParam>().axis, a.ndim());
  return {a.ProdDims(0, axis), a[axis], idx.Size(), a.ProdDims(axis + 1, a.ndim())};
}

// On the GPU, one thread per output element (r, kk, i): out[r, kk, i] = a[r, j(kk), i].
template <OpReq Req>
struct TakeKernel {
  template <typename T, typename I>
  MX_XINLINE static void Map(int64_t e, T* out, const T* a, const I* idx, TakeDims d, int mode) {
    const int64_t i = e % d.inner, kk = (e / d.inner) % d.k, r = e / (d.inner * d.k);
    Assign<Req>(out[e], a[(r * d.n + TakeIndex(idx, kk, d.n, mode)) * d.inner + i]);
  }
};
// Its gradient: ograd element (r, kk, i) added into row j(kk) (atomically: indices repeat).
struct TakeGradKernel {
  template <typename T, typename I>
  MX_XINLINE static void Map(int64_t e, T* grad, const T* ograd, const I* idx, TakeDims d,
                             int mode) {
    const int64_t i = e % d.inner, kk = (e / d.inner) % d.k, r = e / (d.inner * d.k);
    AtomicAdd(&grad[(r * d.n + TakeIndex(idx, kk, d.n, mode)) * d.inner + i], ograd[e]);
  }
};

void TakeCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const TakeDims d = GetTakeDims(attrs, in[0].shape, in[1].shape);
  const int mode = attrs.get<TakeParam>().mode;
  if (ctx.run.ctx.is_gpu()) {
    MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_NUMERIC_TYPE_SWITCH(in[1].dtype, I, attrs.op->name, {
        MX_REQ_SWITCH(req[0], Req, {
          Kernel<TakeKernel<Req>>::LaunchGPU(ctx.run, out[0].Size(), out[0].data<T>(),
                                             in[0].data<T>(), in[1].data<I>(), d, mode);
        });
      });
    });
    return;
  }
  MX_NUMERIC_TYPE_SWITCH(in[1].dtype, I, attrs.op->name, {
    const I* idx = in[1].data<I>();
    for (int64_t kk = 0; kk < d.k; ++kk) {
      const int64_t j = TakeIndex(idx, kk, d.n, mode);
      // Row kk of every outer block: d.rows copies of d.inner elements.
      CopyRows(ctx.run, in[0], j * d.inner, d.n * d.inner, out[0], kk * d.inner, d.k * d.inner,
               d.rows, d.inner, req[0], attrs.op->name);
    }
  });
}

// Inputs (ograd, a, indices); the output is a's gradient: ograd rows summed into the rows they
// were taken from (a lends only its shape).
void TakeBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const TakeDims d = GetTakeDims(attrs, in[1].shape, in[2].shape);
  const int mode = attrs.get<TakeParam>().mode;
  if (req[0] != OpReq::kAdd) FillBlob(ctx.run, out[0], OpReq::kWrite, 0.0, "_backward_take");
  if (ctx.run.ctx.is_gpu()) {
    MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_NUMERIC_TYPE_SWITCH(in[2].dtype, I, attrs.op->name, {
        Kernel<TakeGradKernel>::LaunchGPU(ctx.run, in[0].Size(), out[0].data<T>(), in[0].data<T>(),
                                          in[2].data<I>(), d, mode);
      });
    });
    return;
  }
  MX_NUMERIC_TYPE_SWITCH(in[2].dtype, I, attrs.op->name, {
    const I* idx = in[2].data<I>();
    for (int64_t kk = 0; kk < d.k; ++kk) {
      const int64_t j = TakeIndex(idx, kk, d.n, mode);
      CopyRows(ctx.run, in[0], kk * d.inner, d.k * d.inner, out[0], j * d.inner, d.n * d.inner,
               d.rows, d.inner, OpReq::kAdd, attrs.op->name);
    }
  });
}

// Inputs (ograd, a, indices): ograd must have take's output shape for a and indices. The op can
// be invoked by name with any arrays, and its kernel reads ograd with their geometry.
bool TakeBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  std::vector<Shape> fwd_in{(*in)[1], (*in)[2]}, fwd_out{Shape::Unknown()};
  if (TakeShape(attrs, &fwd_in, &fwd_out)) AssignShape(in, 0, fwd_out[0], "input 'ograd'");
  AssignShape(out, 0, (*in)[1], "output");
  return (*in)[1].IsKnown();
}

bool TakeBackwardType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  std::vector<int> data{(*in)[0], (*in)[1]};
  const bool ok = ElemwiseType(attrs, &data, out);
  (*in)[0] = data[0], (*in)[1] = data[1];
  return ok;
}

// ---- one_hot ----

struct OneHotParam : public dmlc::Parameter<OneHotParam> {
  int depth;
  double on_value;
  double off_value;
  int dtype;
  DMLC_DECLARE_PARAMETER(OneHotParam) {
    DMLC_DECLARE_FIELD(depth).set_lower_bound(1).describe(
        "The length of the new last axis (the number of classes).");
    DMLC_DECLARE_FIELD(on_value).set_default(1.0).describe("The value at each index.");
    DMLC_DECLARE_FIELD(off_value).set_default(0.0).describe("The value everywhere else.");
    AddDTypeEnums(DMLC_DECLARE_FIELD(dtype))
        .set_default(static_cast<int>(DType::kFloat32))
        .describe("The output's element type.");
  }
};

bool OneHotShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& s = (*in)[0];
  if (!s.IsKnown()) return false;
  MX_CHECK(s.ndim() < Shape::kMaxNDim, kInvalidArgument)
      << "input 'indices' " << s << " already has the maximum number of axes";
  std::vector<int64_t> dims = s.ToVector();
  dims.push_back(attrs.get<OneHotParam>().depth);
  AssignShape(out, 0, Shape(dims), "output");
  return true;
}

bool OneHotType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = attrs.get<OneHotParam>().dtype;
  MX_CHECK((*out)[0] < 0 || (*out)[0] == t, kInvalidArgument)
      << "output is " << DTypeName(static_cast<DType>((*out)[0])) << ", expected "
      << DTypeName(static_cast<DType>(t)) << " (dtype)";
  (*out)[0] = t;
  return true;
}

// On the GPU, one thread per output element (i, c).
template <OpReq Req>
struct OneHotKernel {
  template <typename T, typename I>
  MX_XINLINE static void Map(int64_t e, T* o, const I* idx, int64_t depth, T on, T off) {
    const int64_t i = e / depth, c = e % depth;
    Assign<Req>(o[e], c == IndexValue(idx[i], -1) ? on : off);
  }
};

void OneHotCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                   const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const auto& p = attrs.get<OneHotParam>();
  const int64_t n = in[0].Size(), depth = p.depth;
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_NUMERIC_TYPE_SWITCH(in[0].dtype, I, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, {
        const I* idx = in[0].data<I>();
        T* o = out[0].data<T>();
        const T on = static_cast<T>(p.on_value), off = static_cast<T>(p.off_value);
        if (ctx.run.ctx.is_gpu()) {
          Kernel<OneHotKernel<Req>>::LaunchGPU(ctx.run, n * depth, o, idx, depth, on, off);
          return;
        }
        MX_OMP_FOR_IF(n * depth >= kOmpMinWork)
        for (int64_t i = 0; i < n; ++i) {
          // Out-of-range indices (and NaN) give a row of off_value, as in MXNet.
          const int64_t j = IndexValue(idx[i], -1);
          T* row = o + i * depth;
          for (int64_t c = 0; c < depth; ++c) Assign<Req>(row[c], c == j ? on : off);
        }
      });
    });
  });
}

// ---- clip ----

struct ClipParam : public dmlc::Parameter<ClipParam> {
  double a_min;
  double a_max;
  DMLC_DECLARE_PARAMETER(ClipParam) {
    DMLC_DECLARE_FIELD(a_min).describe("The lower bound.");
    DMLC_DECLARE_FIELD(a_max).describe("The upper bound (at least a_min).");
  }
};

bool ClipShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<ClipParam>();
  MX_CHECK(p.a_min <= p.a_max, kInvalidArgument)
      << "a_min=" << p.a_min << " is greater than a_max=" << p.a_max;
  return ElemwiseShape(attrs, in, out);
}

template <OpReq Req>
struct ClipKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* x, T lo, T hi) {
    const T v = x[i];
    Assign<Req>(out[i], v < lo ? lo : (v > hi ? hi : v));
  }
};

// The gradient passes where the input was inside [a_min, a_max].
template <OpReq Req>
struct ClipGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* igrad, const T* ograd, const T* x, T lo, T hi) {
    Assign<Req>(igrad[i], (x[i] < lo || x[i] > hi) ? T(0) : ograd[i]);
  }
};

void ClipCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const auto& p = attrs.get<ClipParam>();
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<ClipKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(),
                                      static_cast<T>(p.a_min), static_cast<T>(p.a_max));
    });
  });
}

void ClipBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const auto& p = attrs.get<ClipParam>();
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<ClipGradKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(),
                                          in[1].data<T>(), static_cast<T>(p.a_min),
                                          static_cast<T>(p.a_max));
    });
  });
}

// ---- Cast ----

struct CastParam : public dmlc::Parameter<CastParam> {
  int dtype;
  DMLC_DECLARE_PARAMETER(CastParam) {
    AddDTypeEnums(DMLC_DECLARE_FIELD(dtype)).describe("The output's element type.");
  }
};

bool CastType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = attrs.get<CastParam>().dtype;
  MX_CHECK((*out)[0] < 0 || (*out)[0] == t, kInvalidArgument)
      << "output is " << DTypeName(static_cast<DType>((*out)[0])) << ", expected "
      << DTypeName(static_cast<DType>(t)) << " (dtype)";
  (*out)[0] = t;
  return (*in)[0] >= 0;
}

template <OpReq Req>
struct CastKernel {
  template <typename O, typename I>
  MX_XINLINE static void Map(int64_t i, O* out, const I* in) {
    Assign<Req>(out[i], static_cast<O>(in[i]));
  }
};

// in[0] converted to out[0]'s type (Cast, and _backward_Cast whose in[1] lends the type).
void CastCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] != OpReq::kAdd && in[0].dtype == out[0].dtype) {
    matrix::CopyOrAdd(ctx.run, in[0], req[0], out[0], attrs.op->name);
    return;
  }
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, O, attrs.op->name, {
    MX_NUMERIC_TYPE_SWITCH(in[0].dtype, I, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<CastKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<O>(), in[0].data<I>());
      });
    });
  });
}

bool SecondInputType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = (*in)[1];
  if (t < 0) return false;
  MX_CHECK((*out)[0] < 0 || (*out)[0] == t, kInvalidArgument)
      << "output is " << DTypeName(static_cast<DType>((*out)[0])) << ", expected "
      << DTypeName(static_cast<DType>(t));
  (*out)[0] = t;
  return (*in)[0] >= 0;
}

// ---- add_n ----

struct AddNParam : public dmlc::Parameter<AddNParam> {
  int num_args;
  DMLC_DECLARE_PARAMETER(AddNParam) {
    DMLC_DECLARE_FIELD(num_args).set_range(1, kMaxOpArity).describe("The number of inputs.");
  }
};

void AddNCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const int64_t n = out[0].Size();
  const bool acc = req[0] == OpReq::kAdd;
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    T* o = out[0].data<T>();
    if (ctx.run.ctx.is_gpu()) {
      // One kernel per input, in the CPU's order: arg0 + arg1, then += each other input.
      size_t first = 0;
      if (!acc && in.size() >= 2) {
        Kernel<BinaryKernel<fn::Plus, OpReq::kWrite>>::LaunchGPU(ctx.run, n, o, in[0].data<T>(),
                                                                 in[1].data<T>());
        first = 2;
      } else if (!acc) {
        Kernel<UnaryKernel<fn::Identity, OpReq::kWrite>>::LaunchGPU(ctx.run, n, o, in[0].data<T>(),
                                                                    T(0));
        first = 1;
      }
      for (size_t k = first; k < in.size(); ++k) {
        Kernel<UnaryKernel<fn::Identity, OpReq::kAdd>>::LaunchGPU(ctx.run, n, o, in[k].data<T>(),
                                                                  T(0));
      }
      return;
    }
    // In blocks, one input at a time: contiguous loops that stay in cache. Every input element
    // is read before the output element is written, so an output aliasing arg0 is fine.
    constexpr int64_t kBlock = 4096;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    MX_OMP_FOR_IF(n >= kOmpMinWork)
    for (int64_t bi = 0; bi < blocks; ++bi) {
      const int64_t lo = bi * kBlock, hi = std::min(n, lo + kBlock);
      size_t first = 0;
      if (!acc) {
        const T* a = in[0].data<T>();
        if (in.size() >= 2) {
          const T* b = in[1].data<T>();
          for (int64_t i = lo; i < hi; ++i) o[i] = a[i] + b[i];
          first = 2;
        } else {
          for (int64_t i = lo; i < hi; ++i) o[i] = a[i];
          first = 1;
        }
      }
      for (size_t k = first; k < in.size(); ++k) {
        const T* a = in[k].data<T>();
        for (int64_t i = lo; i < hi; ++i) o[i] += a[i];
      }
    }
  });
}

void AddAddN(OpRegistry* reg, const std::string& name, const std::string& doc) {
  reg->Add(name)
      .Describe(doc)
      .SetParam<AddNParam>()
      .SetInputs(
          [](const NodeAttrs& a) { return NumberedNames("arg", a.get<AddNParam>().num_args); })
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(AddNCompute, kGpuKernels)
      .SetElementwise()
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>(n->inputs.size(), og[0]);
      });
}

DMLC_REGISTER_PARAMETER(TakeParam);
DMLC_REGISTER_PARAMETER(OneHotParam);
DMLC_REGISTER_PARAMETER(ClipParam);
DMLC_REGISTER_PARAMETER(CastParam);
DMLC_REGISTER_PARAMETER(AddNParam);

}  // namespace

void RegisterIndexingOps(OpRegistry* reg) {
  reg->Add("take")
      .Describe(
          "Takes slices of a along axis at the given indices: the output's shape is a's axes "
          "before axis, then indices' shape, then a's axes after axis. Indices of any numeric "
          "type are truncated to integers.")
      .SetParam<TakeParam>()
      .SetInputs({"a", "indices"})
      .SetNumOutputs(1)
      .SetInferShape(TakeShape)
      .SetInferType(TakeType)
      .SetComputeAll(TakeCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("_backward_take", n, "backward", {og[0], InputOf(n, 0), InputOf(n, 1)},
                          n->attrs.dict),
            ZeroGradient()};
      });
  reg->Add("_backward_take")
      .Describe("Gradient of take with respect to a: ograd summed into the rows taken.")
      .SetParam<TakeParam>()
      .SetInputs({"ograd", "a", "indices"})
      .SetNumOutputs(1)
      .SetInferShape(TakeBackwardShape)
      .SetInferType(TakeBackwardType)
      .SetComputeAll(TakeBackwardCompute, kGpuKernels)
      .SetBackwardOf("take");

  reg->Add("one_hot")
      .Describe(
          "One-hot encoding: adds a last axis of length depth holding on_value at each index "
          "and off_value elsewhere (an out-of-range index gives a row of off_value).")
      .SetParam<OneHotParam>()
      .SetInputs({"indices"})
      .SetNumOutputs(1)
      .SetInferShape(OneHotShape)
      .SetInferType(OneHotType)
      .SetComputeAll(OneHotCompute, kGpuKernels)
      .SetGradient([](const NodePtr&, const std::vector<NodeEntry>&) {
        return std::vector<NodeEntry>{ZeroGradient()};  // piecewise constant in the indices
      });

  reg->Add("clip")
      .Describe(
          "Clips values to [a_min, a_max]. The gradient passes where the input lies inside the "
          "interval and is zero outside.")
      .SetParam<ClipParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ClipShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(ClipCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("_backward_clip", n, "backward", {og[0], InputOf(n, 0)}, n->attrs.dict)};
      });
  reg->Add("_backward_clip")
      .Describe("Gradient of clip: ograd where a_min <= data <= a_max, else 0.")
      .SetParam<ClipParam>()
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(ClipShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(ClipBackwardCompute, kGpuKernels)
      .SetBackwardOf("clip");

  reg->Add("Cast")
      .Describe(
          "Converts the elements to dtype (C++ conversion: floats to integers truncate toward "
          "zero). The gradient is converted back to the input's type.")
      .SetParam<CastParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(CastType)
      .SetComputeAll(CastCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("_backward_Cast", n, "backward", {og[0], InputOf(n, 0)})};
      });
  reg->Add("_backward_Cast")
      .Describe("Gradient of Cast: ograd converted to the type of data (which lends its type).")
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      // ograd, data and the gradient have one shape: CastCompute reads ograd at every element.
      .SetInferShape(ElemwiseShape)
      .SetInferType(SecondInputType)
      .SetComputeAll(CastCompute, kGpuKernels)
      .SetBackwardOf("Cast");

  AddAddN(reg, "add_n", "Adds num_args arrays of the same shape elementwise.");
  AddAddN(reg, "ElementWiseSum",
          "Adds num_args arrays of the same shape elementwise (the older name of add_n).");
}

}  // namespace mx
