// Embedding: a lookup of weight rows by index.
//
// Out-of-range indices are clipped to [0, input_dim - 1] (MXNet's behaviour): an error raised
// inside the engine op would surface only at the next wait, far from the call that caused it,
// and clipping keeps a batch with one bad label from failing a whole training run. Fractional
// indices are truncated toward zero.
#include <algorithm>
#include <cstring>

#include "op/elemwise.h"
#include "op/fill.h"
#include "op/kernel.h"
#include "op/nn_ops.h"

namespace mx {
namespace {

struct EmbeddingParam : public dmlc::Parameter<EmbeddingParam> {
  int input_dim;
  int output_dim;
  int dtype;
  DMLC_DECLARE_PARAMETER(EmbeddingParam) {
    DMLC_DECLARE_FIELD(input_dim).set_lower_bound(1).describe(
        "Vocabulary size: the number of rows of weight. Indices are clipped to [0, input_dim-1].");
    DMLC_DECLARE_FIELD(output_dim)
        .set_lower_bound(1)
        .describe(
            "Embedding size: the number of columns of weight and the output's last dimension.");
    DMLC_DECLARE_FIELD(dtype)
        .add_enum("float32", static_cast<int>(DType::kFloat32))
        .add_enum("float64", static_cast<int>(DType::kFloat64))
        .set_default(static_cast<int>(DType::kFloat32))
        .describe("Element type of weight and output when not given by the weight itself.");
  }
};

const EmbeddingParam& Param(const NodeAttrs& attrs) {
  return std::any_cast<const EmbeddingParam&>(attrs.parsed);
}

bool EmbeddingShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const EmbeddingParam& p = Param(attrs);
  AssignShape(in, 1, Shape{p.input_dim, p.output_dim}, "input 'weight'");
  const Shape& data = (*in)[0];
  if (data.ndim() < 0) {
    // Backward: data is the output without its last axis.
    const Shape& o = (*out)[0];
    if (o.ndim() < 1) return false;
    AssignShape(in, 0, Shape(std::vector<int64_t>(o.begin(), o.end() - 1)), "input 'data'");
  }
  MX_CHECK(data.ndim() < Shape::kMaxNDim, kInvalidArgument)
      << "input 'data' of shape " << data << " has too many dimensions to add the embedding axis";
  std::vector<int64_t> dims(data.begin(), data.end());
  dims.push_back(p.output_dim);
  AssignShape(out, 0, Shape(dims), "output");
  // Backward again, for data dims still unknown.
  const Shape& o = (*out)[0];
  AssignShape(in, 0, Shape(std::vector<int64_t>(o.begin(), o.end() - 1)), "input 'data'");
  return (*in)[0].IsKnown() && (*out)[0].IsKnown();
}

// Indices may be any numeric type; weight and output share the float type.
bool EmbeddingType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  int t = (*in)[1] >= 0 ? (*in)[1] : (*out)[0];
  if (t < 0) t = Param(attrs).dtype;
  MX_CHECK((*in)[1] < 0 || (*in)[1] == t, kInvalidArgument)
      << "input 'weight' is " << DTypeName(static_cast<DType>((*in)[1])) << ", expected "
      << DTypeName(static_cast<DType>(t));
  MX_CHECK((*out)[0] < 0 || (*out)[0] == t, kInvalidArgument)
      << "output is " << DTypeName(static_cast<DType>((*out)[0])) << ", expected "
      << DTypeName(static_cast<DType>(t)) << " (the weight's type)";
  (*in)[1] = t;
  (*out)[0] = t;
  if ((*in)[0] < 0) (*in)[0] = t;
  return true;
}

template <typename I>
MX_XINLINE int64_t ClipIndex(I v, int64_t n) {
  const double d = static_cast<double>(v);
  if (!(d >= 0)) return 0;  // also NaN
  if (d >= static_cast<double>(n - 1)) return n - 1;
  return static_cast<int64_t>(d);
}

// The GPU's lookup: one thread per output element (row e / dim, column e % dim).
template <OpReq Req>
struct LookupKernel {
  template <typename T, typename I>
  MX_XINLINE static void Map(int64_t e, T* y, const T* w, const I* idx, int64_t dim,
                             int64_t input_dim) {
    Assign<Req>(y[e], w[ClipIndex(idx[e / dim], input_dim) * dim + e % dim]);
  }
};

// The GPU's gradient: each ograd element added into its weight row, atomically (indices repeat).
struct LookupGradKernel {
  template <typename T, typename I>
  MX_XINLINE static void Map(int64_t e, T* gw, const T* og, const I* idx, int64_t dim,
                             int64_t input_dim) {
    AtomicAdd(&gw[ClipIndex(idx[e / dim], input_dim) * dim + e % dim], og[e]);
  }
};

template <typename T, typename I>
void Lookup(const I* idx, const T* w, T* y, int64_t rows, int64_t dim, int64_t input_dim,
            bool add) {
#if MX_USE_OPENMP
#pragma omp parallel for schedule(static) if (rows * dim >= kOmpMinWork)
#endif
  for (int64_t i = 0; i < rows; ++i) {
    const T* src = w + ClipIndex(idx[i], input_dim) * dim;
    T* dst = y + i * dim;
    if (add) {
      for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
    } else {
      std::memcpy(dst, src, sizeof(T) * dim);
    }
  }
}

void EmbeddingForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const EmbeddingParam& p = Param(attrs);
  const int64_t rows = in[0].Size(), dim = p.output_dim;
  if (ctx.run.ctx.is_gpu()) {
    MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_NUMERIC_TYPE_SWITCH(in[0].dtype, I, attrs.op->name, {
        MX_REQ_SWITCH(req[0], Req, {
          Kernel<LookupKernel<Req>>::LaunchGPU(ctx.run, out[0].Size(), out[0].data<T>(),
                                               in[1].data<T>(), in[0].data<I>(), dim,
                                               int64_t{p.input_dim});
        });
      });
    });
    return;
  }
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_NUMERIC_TYPE_SWITCH(in[0].dtype, I, attrs.op->name, {
      Lookup(in[0].data<I>(), in[1].data<T>(), out[0].data<T>(), rows, dim, p.input_dim,
             req[0] == OpReq::kAdd);
    });
  });
}

// Inputs (ograd, data); output weight_grad: a scatter-add of the ograd rows by index. Serial on
// the CPU, so repeated indices accumulate deterministically; atomic adds on the GPU.
void EmbeddingBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const EmbeddingParam& p = Param(attrs);
  const int64_t rows = in[1].Size(), dim = p.output_dim;
  if (ctx.run.ctx.is_gpu()) {
    if (req[0] != OpReq::kAdd) FillBlob(ctx.run, out[0], OpReq::kWrite, 0.0, "_backward_Embedding");
    MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_NUMERIC_TYPE_SWITCH(in[1].dtype, I, attrs.op->name, {
        Kernel<LookupGradKernel>::LaunchGPU(ctx.run, in[0].Size(), out[0].data<T>(),
                                            in[0].data<T>(), in[1].data<I>(), dim,
                                            int64_t{p.input_dim});
      });
    });
    return;
  }
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    const T* og = in[0].data<T>();
    T* gw = out[0].data<T>();
    if (req[0] != OpReq::kAdd) std::fill(gw, gw + out[0].Size(), T(0));
    MX_NUMERIC_TYPE_SWITCH(in[1].dtype, I, attrs.op->name, {
      const I* idx = in[1].data<I>();
      for (int64_t i = 0; i < rows; ++i) {
        T* dst = gw + ClipIndex(idx[i], p.input_dim) * dim;
        const T* src = og + i * dim;
        for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
      }
    });
  });
}

bool EmbeddingBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in,
                            std::vector<Shape>* out) {
  const EmbeddingParam& p = Param(attrs);
  AssignShape(out, 0, Shape{p.input_dim, p.output_dim}, "output 'weight_grad'");
  const Shape& data = (*in)[1];
  if (data.ndim() >= 0 && data.ndim() < Shape::kMaxNDim) {
    std::vector<int64_t> dims(data.begin(), data.end());
    dims.push_back(p.output_dim);
    AssignShape(in, 0, Shape(dims), "input 'ograd'");
  }
  return (*in)[0].IsKnown() && (*in)[1].IsKnown();
}

bool EmbeddingBackwardType(const NodeAttrs&, std::vector<int>* in, std::vector<int>* out) {
  if ((*out)[0] < 0) (*out)[0] = (*in)[0];
  if ((*in)[0] < 0) (*in)[0] = (*out)[0];
  MX_CHECK((*in)[0] == (*out)[0], kInvalidArgument)
      << "input 'ograd' is " << DTypeName(static_cast<DType>((*in)[0])) << ", expected "
      << DTypeName(static_cast<DType>((*out)[0]));
  return (*in)[0] >= 0 && (*in)[1] >= 0;
}

}  // namespace

DMLC_REGISTER_PARAMETER(EmbeddingParam);

void RegisterEmbeddingOps(OpRegistry* reg) {
  reg->Add("Embedding")
      .Describe(
          "Maps integer indices to rows of a weight matrix: out[..., :] = weight[data[...], :].\n\n"
          "data holds indices (any numeric type) of any shape; weight has shape "
          "(input_dim, output_dim); the output has data's shape plus a last axis of output_dim. "
          "Indices outside [0, input_dim-1] are clipped to that range. Differentiable with "
          "respect to weight only (a scatter-add of the output gradient rows).")
      .SetParam<EmbeddingParam>()
      .SetInputs({"data", "weight"})
      .SetNumOutputs(1)
      .SetInferShape(EmbeddingShape)
      .SetInferType(EmbeddingType)
      .SetComputeAll(EmbeddingForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{ZeroGradient(),
                                      MakeGradEntry("_backward_Embedding", n, "weight_grad",
                                                    {og[0], InputOf(n, 0)}, n->attrs.dict)};
      });
  reg->Add("_backward_Embedding")
      .Describe("Gradient of Embedding with respect to weight (scatter-add of ograd rows).")
      .SetParam<EmbeddingParam>()
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(EmbeddingBackwardShape)
      .SetInferType(EmbeddingBackwardType)
      .SetComputeAll(EmbeddingBackward, kGpuKernels)
      .SetBackwardOf("Embedding");
}

}  // namespace mx
