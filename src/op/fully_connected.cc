// FullyConnected: out = data . weight^T + bias, through one GEMM each way.
//
// data is viewed as a 2-D matrix (rows x input_dim): with flatten=true the rows are the first
// axis and input_dim the product of the others; with flatten=false input_dim is the last axis and
// every leading axis is a row. Either way it is the same contiguous memory, so no copy is made.
#include <algorithm>
#include <cstring>

#include "op/blas.h"
#include "op/kernel.h"
#include "op/nn_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

struct FullyConnectedParam : public dmlc::Parameter<FullyConnectedParam> {
  int num_hidden;
  bool no_bias;
  bool flatten;
  DMLC_DECLARE_PARAMETER(FullyConnectedParam) {
    DMLC_DECLARE_FIELD(num_hidden)
        .set_lower_bound(1)
        .describe("Number of hidden units (the output's last dimension).");
    DMLC_DECLARE_FIELD(no_bias).set_default(false).describe(
        "Whether to leave out the bias (then the op takes only data and weight).");
    DMLC_DECLARE_FIELD(flatten).set_default(true).describe(
        "Whether to collapse all axes of data but the first into the input dimension; if false, "
        "only the last axis is the input dimension and the leading axes are kept in the output.");
  }
};

const FullyConnectedParam& Param(const NodeAttrs& attrs) {
  return std::any_cast<const FullyConnectedParam&>(attrs.parsed);
}

std::vector<std::string> FCInputs(const NodeAttrs& attrs) {
  if (Param(attrs).no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

// Forward and backward shape inference: weight and bias follow from data and num_hidden (so a
// symbol can allocate them), and data's batch axes follow from the output.
bool FCInferShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const FullyConnectedParam& p = Param(attrs);
  const int64_t nh = p.num_hidden;
  if (!p.no_bias) AssignShape(in, 2, Shape{nh}, "input 'bias'");
  Shape& data = (*in)[0];
  const Shape& weight = (*in)[1];
  if (data.ndim() < 0) {
    AssignShape(in, 1, Shape{nh, -1}, "input 'weight'");
    return false;
  }
  const int min_ndim = p.flatten ? 2 : 1;
  MX_CHECK(data.ndim() >= min_ndim, kInvalidArgument)
      << "input 'data' must have at least " << min_ndim << " dimensions"
      << (p.flatten ? " (batch, features...) with flatten=true" : "") << ", got shape " << data;
  const int last = data.ndim() - 1;
  // The input dimension, when the data shape tells it; otherwise take it from the weight.
  int64_t input_dim = p.flatten ? data.ProdDims(1, data.ndim()) : data[last];
  bool input_known = true;
  for (int i = p.flatten ? 1 : last; i < data.ndim(); ++i)
    input_known = input_known && data[i] >= 0;
  if (!input_known) {
    input_dim = -1;
    if (weight.ndim() == 2 && weight[1] >= 0 && (!p.flatten || data.ndim() == 2)) {
      Shape d = data;
      d[last] = weight[1];
      AssignShape(in, 0, d, "input 'data'");
      input_dim = weight[1];
    }
  }
  AssignShape(in, 1, Shape{nh, input_dim}, "input 'weight'");
  // Output: (batch, num_hidden) or data's shape with the last axis replaced.
  Shape oshape = p.flatten ? Shape{data[0], nh} : data;
  oshape[oshape.ndim() - 1] = nh;
  AssignShape(out, 0, oshape, "output");
  // Backward: the batch axes of data from the output's.
  const Shape& o = (*out)[0];
  Shape d = data;
  for (int i = 0; i < (p.flatten ? 1 : last); ++i) d[i] = o[i];
  AssignShape(in, 0, d, "input 'data'");
  bool known = true;
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known && (*out)[0].IsKnown();
}

// Bias rows for the GPU, one thread per element: y[i] = bias[i % n] (+ y[i] for kAdd).
template <OpReq Req>
struct AddBiasKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* bias, int64_t n) {
    Assign<Req>(y[i], bias[i % n]);
  }
};

// Column sums of ograd (m x n) into the bias gradient, one thread per column (adjacent threads
// read adjacent elements).
template <OpReq Req>
struct ColumnSumKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t j, T* gb, const T* og, int64_t m, int64_t n) {
    T sum = 0;
    for (int64_t i = 0; i < m; ++i) sum += og[i * n + j];
    Assign<Req>(gb[j], sum);
  }
};

template <typename T>
void FCForward(const OpContext& ctx, const FullyConnectedParam& p, const std::vector<TBlob>& in,
               OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  const int64_t n = p.num_hidden;
  const int64_t k = in[1].shape[1];
  const int64_t m = out.Size() / n;
  T* y = out.data<T>();
  const T* bias = p.no_bias ? nullptr : in[2].data<T>();
  T beta = req == OpReq::kAdd ? T(1) : T(0);
  const bool gpu = ctx.run.ctx.is_gpu();
  if (bias != nullptr && req != OpReq::kAdd) {
    // Start from the bias rows and let the GEMM accumulate: one pass over the output, not two.
    if (gpu) {
      Kernel<AddBiasKernel<OpReq::kWrite>>::LaunchGPU(ctx.run, m * n, y, bias, n);
    } else {
      for (int64_t i = 0; i < m; ++i) std::memcpy(y + i * n, bias, sizeof(T) * n);
    }
    beta = T(1);
  }
  blas::Gemm(ctx.run, false, true, m, n, k, T(1), in[0].data<T>(), k, in[1].data<T>(), k, beta, y,
             n);
  if (bias != nullptr && req == OpReq::kAdd) {
    if (gpu) {
      Kernel<AddBiasKernel<OpReq::kAdd>>::LaunchGPU(ctx.run, m * n, y, bias, n);
      return;
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) y[i * n + j] += bias[j];
    }
  }
}

void FCForwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name,
                      { FCForward<T>(ctx, Param(attrs), in, req[0], out[0]); });
}

// Inputs (ograd, data, weight); outputs (data_grad, weight_grad[, bias_grad]).
template <typename T>
void FCBackward(const OpContext& ctx, const FullyConnectedParam& p, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const int64_t n = p.num_hidden;
  const int64_t k = in[2].shape[1];
  const int64_t m = in[0].Size() / n;
  const T* og = in[0].data<T>();
  const T* x = in[1].data<T>();
  const T* w = in[2].data<T>();
  auto beta = [](OpReq r) { return r == OpReq::kAdd ? T(1) : T(0); };
  // data_grad (m x k) = ograd (m x n) . weight (n x k)
  if (req[0] != OpReq::kNull) {
    blas::Gemm(ctx.run, false, false, m, k, n, T(1), og, n, w, k, beta(req[0]), out[0].data<T>(),
               k);
  }
  // weight_grad (n x k) = ograd^T (n x m) . data (m x k)
  if (req[1] != OpReq::kNull) {
    blas::Gemm(ctx.run, true, false, n, k, m, T(1), og, n, x, k, beta(req[1]), out[1].data<T>(), k);
  }
  if (p.no_bias || req[2] == OpReq::kNull) return;
  T* gb = out[2].data<T>();
  if (ctx.run.ctx.is_gpu()) {
    MX_REQ_SWITCH(req[2], Req,
                  { Kernel<ColumnSumKernel<Req>>::LaunchGPU(ctx.run, n, gb, og, m, n); });
    return;
  }
  // bias_grad (n) = column sums of ograd, accumulated row by row so the loop vectorises.
  if (req[2] != OpReq::kAdd) std::fill(gb, gb + n, T(0));
  for (int64_t i = 0; i < m; ++i) {
    const T* row = og + i * n;
    for (int64_t j = 0; j < n; ++j) gb[j] += row[j];
  }
}

void FCBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name,
                      { FCBackward<T>(ctx, Param(attrs), in, req, out); });
}

// Inputs (ograd, data, weight); the gradients have the shapes of data, weight and bias. The
// forward's inference checks data and weight against each other and gives ograd's shape: the op
// can be invoked by name with any arrays, and its kernels trust these shapes.
bool FCBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const FullyConnectedParam& p = Param(attrs);
  std::vector<Shape> fwd_in{(*in)[1], (*in)[2]}, fwd_out{(*in)[0]};
  if (!p.no_bias) fwd_in.push_back(Shape{p.num_hidden});
  FCInferShape(attrs, &fwd_in, &fwd_out);
  AssignShape(in, 0, fwd_out[0], "input 'ograd'");
  AssignShape(in, 1, fwd_in[0], "input 'data'");
  AssignShape(in, 2, fwd_in[1], "input 'weight'");
  AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  AssignShape(out, 1, (*in)[2], "output 'weight_grad'");
  if (!p.no_bias) AssignShape(out, 2, Shape{p.num_hidden}, "output 'bias_grad'");
  const Shape& data = (*in)[1];
  if (data.ndim() >= 1) {
    Shape ograd = p.flatten ? Shape{data[0], p.num_hidden} : data;
    ograd[ograd.ndim() - 1] = p.num_hidden;
    AssignShape(in, 0, ograd, "input 'ograd'");
  }
  bool known = true;
  for (const Shape& s : *in) known = known && s.IsKnown();
  for (const Shape& s : *out) known = known && s.IsKnown();
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(FullyConnectedParam);

void RegisterFullyConnectedOps(OpRegistry* reg) {
  reg->Add("FullyConnected")
      .Describe(
          "Fully connected (dense) layer: out = data . weight^T + bias.\n\n"
          "weight has shape (num_hidden, input_dim) and bias (num_hidden). With flatten=true, "
          "data of shape (batch, d1, d2, ...) is treated as (batch, d1*d2*...) and the output is "
          "(batch, num_hidden); with flatten=false, the last axis of data is input_dim and the "
          "output keeps the leading axes: (..., num_hidden). weight and bias shapes are inferred "
          "from data and num_hidden. Computed by one BLAS GEMM.")
      .SetParam<FullyConnectedParam>()
      .SetInputs(FCInputs)
      .SetNumOutputs(1)
      .SetInferShape(FCInferShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(FCForwardCompute, kGpuKernels)
      .SetWork([](const NodeAttrs&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
        return ProductWork(in, out);
      })
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return MakeGradNode("_backward_FullyConnected", n, {og[0], InputOf(n, 0), InputOf(n, 1)},
                            n->attrs.dict);
      });

  reg->Add("_backward_FullyConnected")
      .Describe("Gradient of FullyConnected: data, weight and (unless no_bias) bias gradients.")
      .SetParam<FullyConnectedParam>()
      .SetInputs({"ograd", "data", "weight"})
      .SetNumOutputs([](const NodeAttrs& attrs) { return Param(attrs).no_bias ? 2 : 3; })
      .SetInferShape(FCBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(FCBackwardCompute, kGpuKernels)
      .SetBackwardOf("FullyConnected");
}

}  // namespace mx
