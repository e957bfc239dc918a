// BatchNorm: normalise each channel by its batch statistics (training) or by the moving
// statistics (inference, use_global_stats), then scale and shift.
//
// The moving mean and variance are auxiliary states: inputs 3 and 4, which the op writes
// (SetMutateInputs), so the executor lists them in list_auxiliary_states, gives them memory that
// nothing else shares, and checkpoints save them as aux: entries. The batch mean and variance are
// hidden outputs 1 and 2 (visible with output_mean_var): the backward op reads them instead of
// recomputing them.
#include "op/batch_norm.h"

#include <cmath>

#include "op/cnn_ops.h"
#include "op/kernel.h"
#include "op/op_util.h"

namespace mx {
namespace {

const BatchNormParam& Param(const NodeAttrs& attrs) {
  return std::any_cast<const BatchNormParam&>(attrs.parsed);
}

int NormalizeAxis(const BatchNormParam& p, int ndim) {
  const int axis = p.axis < 0 ? p.axis + ndim : p.axis;
  MX_CHECK(axis >= 0 && axis < ndim, kInvalidArgument)
      << "axis " << p.axis << " is out of range for input 'data' with " << ndim << " dimensions";
  return axis;
}

// Calls f(channel, offset of element k of that channel) for every element of a channel, in
// memory order: the channel's elements are `outer` runs of `inner` contiguous values.
template <typename F>
inline void ForChannel(const ChannelView& v, int64_t c, F f) {
  for (int64_t o = 0; o < v.outer; ++o) {
    const int64_t base = (o * v.c + c) * v.inner;
    for (int64_t i = 0; i < v.inner; ++i) f(base + i);
  }
}

template <typename T>
void Forward(const BatchNormParam& p, bool training, const std::vector<TBlob>& in,
             const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const ChannelView v = ChannelViewOf(p, in[0].shape);
  const T* x = in[0].data<T>();
  const T* gamma = in[1].data<T>();
  const T* beta = in[2].data<T>();
  T* moving_mean = in[3].data<T>();
  T* moving_var = in[4].data<T>();
  T* y = out[0].data<T>();
  T* mean_out = out[1].data<T>();
  T* var_out = out[2].data<T>();
  const T m = static_cast<T>(v.Count());
  MX_OMP_FOR_IF(in[0].Size() >= kOmpMinWork)
  for (int64_t c = 0; c < v.c; ++c) {
    T mean, var;
    if (training) {
      T s = 0;
      ForChannel(v, c, [&](int64_t k) { s += x[k]; });
      mean = s / m;
      T ss = 0;
      ForChannel(v, c, [&](int64_t k) { ss += (x[k] - mean) * (x[k] - mean); });
      var = ss / m;
      const T mom = static_cast<T>(p.momentum);
      moving_mean[c] = moving_mean[c] * mom + mean * (1 - mom);
      moving_var[c] = moving_var[c] * mom + var * (1 - mom);
    } else {
      mean = moving_mean[c];
      var = moving_var[c];
    }
    if (req[1] != OpReq::kNull) mean_out[c] = mean;
    if (req[2] != OpReq::kNull) var_out[c] = var;
    const T scale = (p.fix_gamma ? T(1) : gamma[c]) / std::sqrt(var + static_cast<T>(p.eps));
    const T shift = beta[c] - mean * scale;
    if (req[0] == OpReq::kAdd) {
      ForChannel(v, c, [&](int64_t k) { y[k] += x[k] * scale + shift; });
    } else if (req[0] != OpReq::kNull) {
      ForChannel(v, c, [&](int64_t k) { y[k] = x[k] * scale + shift; });
    }
  }
}

// in = (ograd, data, gamma, mean, var); out = (data_grad, gamma_grad, beta_grad).
template <typename T>
void Backward(const BatchNormParam& p, const std::vector<TBlob>& in, const std::vector<OpReq>& req,
              const std::vector<TBlob>& out) {
  const ChannelView v = ChannelViewOf(p, in[1].shape);
  const T* dy = in[0].data<T>();
  const T* x = in[1].data<T>();
  const T* gamma = in[2].data<T>();
  const T* mean = in[3].data<T>();
  const T* var = in[4].data<T>();
  T* dx = out[0].data<T>();
  T* dgamma = out[1].data<T>();
  T* dbeta = out[2].data<T>();
  const T m = static_cast<T>(v.Count());
  // Takes the pointer, not a reference: an output not requested has no memory at all.
  auto assign = [](OpReq r, T* dst, int64_t i, T value) {
    if (r == OpReq::kAdd) {
      dst[i] += value;
    } else if (r != OpReq::kNull) {
      dst[i] = value;
    }
  };
  MX_OMP_FOR_IF(in[1].Size() >= kOmpMinWork)
  for (int64_t c = 0; c < v.c; ++c) {
    const T mu = mean[c];
    const T invstd = 1 / std::sqrt(var[c] + static_cast<T>(p.eps));
    T sum_dy = 0, sum_dy_xhat = 0;
    ForChannel(v, c, [&](int64_t k) {
      sum_dy += dy[k];
      sum_dy_xhat += dy[k] * (x[k] - mu) * invstd;
    });
    assign(req[1], dgamma, c, p.fix_gamma ? T(0) : sum_dy_xhat);
    assign(req[2], dbeta, c, sum_dy);
    if (req[0] == OpReq::kNull) continue;
    const T g = (p.fix_gamma ? T(1) : gamma[c]) * invstd;
    if (p.use_global_stats) {
      // The statistics are constants: the op is an affine map of x.
      ForChannel(v, c, [&](int64_t k) { assign(req[0], dx, k, dy[k] * g); });
    } else {
      // The batch statistics depend on x too: project out their directions.
      const T a = sum_dy / m, b = sum_dy_xhat / m;
      ForChannel(v, c, [&](int64_t k) {
        const T xhat = (x[k] - mu) * invstd;
        assign(req[0], dx, k, g * (dy[k] - a - xhat * b));
      });
    }
  }
}

void ForwardCPU(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const BatchNormParam& p = Param(attrs);
  const bool training = ctx.is_train && !p.use_global_stats;
#if MX_USE_ONEDNN
  if (OneDNNBatchNormForward(p, training, ctx, in, req, out)) return;
#endif
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, { Forward<T>(p, training, in, req, out); });
}

void BackwardCPU(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const BatchNormParam& p = Param(attrs);
#if MX_USE_ONEDNN
  if (OneDNNBatchNormBackward(p, ctx, in, req, out)) return;
#endif
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, { Backward<T>(p, in, req, out); });
}

bool InferShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const BatchNormParam& p = Param(attrs);
  Shape data = (*in)[0];
  MergeShape(&data, (*out)[0]);
  if (data.ndim() < 0) return false;
  MX_CHECK(data.ndim() >= 1, kInvalidArgument) << "input 'data' must have at least 1 dimension";
  const int axis = NormalizeAxis(p, data.ndim());
  // The channel count may be known only from a statistic (backward inference).
  for (const Shape* s : {&(*in)[1], &(*in)[2], &(*in)[3], &(*in)[4], &(*out)[1], &(*out)[2]}) {
    if (data[axis] < 0 && s->ndim() == 1) data[axis] = (*s)[0];
  }
  const int64_t c = data[axis];
  static const char* const kNames[] = {"input 'gamma'", "input 'beta'", "input 'moving_mean'",
                                       "input 'moving_var'"};
  for (int i = 1; i < 5; ++i) AssignShape(in, i, Shape{c}, kNames[i - 1]);
  AssignShape(in, 0, data, "input 'data'");
  AssignShape(out, 0, data, "output");
  AssignShape(out, 1, Shape{c}, "output 'mean'");
  AssignShape(out, 2, Shape{c}, "output 'var'");
  return data.IsKnown();
}

// Inputs (ograd, data, gamma, mean, var), checked by the forward's inference as its output, data,
// gamma and batch statistics: the op can be invoked by name with any arrays, and its kernel reads
// them with data's channel geometry.
bool BackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  std::vector<Shape> fwd_in{(*in)[1], (*in)[2], Shape::Unknown(), Shape::Unknown(),
                            Shape::Unknown()};
  std::vector<Shape> fwd_out{(*in)[0], (*in)[3], (*in)[4]};
  InferShape(attrs, &fwd_in, &fwd_out);
  AssignShape(in, 0, fwd_out[0], "input 'ograd'");
  AssignShape(in, 1, fwd_in[0], "input 'data'");
  AssignShape(in, 2, fwd_in[1], "input 'gamma'");
  AssignShape(in, 3, fwd_out[1], "input 'mean'");
  AssignShape(in, 4, fwd_out[2], "input 'var'");
  AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  AssignShape(out, 1, (*in)[2], "output 'gamma_grad'");
  AssignShape(out, 2, (*in)[2], "output 'beta_grad'");
  bool known = true;
  for (const Shape& s : *out) known = known && s.IsKnown();
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(BatchNormParam);

ChannelView ChannelViewOf(const BatchNormParam& p, const Shape& data) {
  const int axis = NormalizeAxis(p, data.ndim());
  ChannelView v;
  v.outer = data.ProdDims(0, axis);
  v.c = data[axis];
  v.inner = data.ProdDims(axis + 1, data.ndim());
  return v;
}

void RegisterBatchNormOps(OpRegistry* reg) {
  reg->Add("BatchNorm")
      .Describe(
          "Batch normalisation: out = gamma * (data - mean) / sqrt(var + eps) + beta per channel "
          "(axis).\n\n"
          "In training, mean and var are the batch's (biased) statistics and the auxiliary "
          "states moving_mean and moving_var move toward them by (1 - momentum); in inference "
          "and with use_global_stats the moving statistics are used. fix_gamma (the default, as "
          "in MXNet) uses a scale of 1. With output_mean_var the batch mean and variance are "
          "outputs 1 and 2.")
      .SetParam<BatchNormParam>()
      .SetInputs({"data", "gamma", "beta", "moving_mean", "moving_var"})
      .SetNumOutputs(3)
      .SetNumVisibleOutputs([](const NodeAttrs& a) { return Param(a).output_mean_var ? 3 : 1; })
      .SetOutputNames([](const NodeAttrs&) {
        return std::vector<std::string>{"output", "mean", "var"};
      })
      .SetMutateInputs(
          [](const NodeAttrs&) {
            return std::vector<int>{3, 4};
          },
          /*in_inference=*/false)
      // Each channel's statistics are read before its outputs are written (and oneDNN allows
      // src == dst), so inference may normalise in place.
      .SetInplace({{0, 0}})
      .SetInferShape(InferShape)
      .SetInferType(ElemwiseType)
      .SetCompute(DeviceType::kCPU, ForwardCPU)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        std::vector<NodeEntry> g = MakeGradNode(
            "_backward_BatchNorm", n,
            {og[0], InputOf(n, 0), InputOf(n, 1), OutputOf(n, 1), OutputOf(n, 2)}, n->attrs.dict);
        g.push_back(ZeroGradient());  // the moving statistics are states, not parameters
        g.push_back(ZeroGradient());
        return g;
      });

  reg->Add("_backward_BatchNorm")
      .Describe("Gradient of BatchNorm: data, gamma and beta gradients.")
      .SetParam<BatchNormParam>()
      .SetInputs({"ograd", "data", "gamma", "mean", "var"})
      .SetNumOutputs(3)
      .SetInferShape(BackwardShape)
      .SetInferType(ElemwiseType)
      .SetCompute(DeviceType::kCPU, BackwardCPU)
      .SetBackwardOf("BatchNorm");
}

}  // namespace mx
