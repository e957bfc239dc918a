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
#include "op/layout.h"
#include "op/math_functors.h"
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

// One channel of the forward pass, on either device (the CPU runs channels on its OpenMP
// threads, the GPU one thread per channel: slow for large channels, so the GPU's usual path is
// cuDNN's, cudnn_batch_norm.cc; this one serves cudnn_off and what cuDNN does not cover). The
// channel's elements are `outer` runs of `inner` contiguous values, starting at (o * channels + c)
// * inner. Outputs with request kNull have no memory: their flags keep them untouched.
struct ForwardChannel {
  template <typename T>
  MX_XINLINE static void Map(int64_t c, ChannelView v, bool training, bool fix_gamma, T eps,
                             T momentum, OpReq req_y, bool want_mean, bool want_var, const T* x,
                             const T* gamma, const T* beta, T* moving_mean, T* moving_var, T* y,
                             T* mean_out, T* var_out) {
    const T m = static_cast<T>(v.outer * v.inner);
    T mean, var;
    if (training) {
      T s = 0;
      for (int64_t o = 0; o < v.outer; ++o) {
        const T* xo = x + (o * v.c + c) * v.inner;
        for (int64_t i = 0; i < v.inner; ++i) s += xo[i];
      }
      mean = s / m;
      T ss = 0;
      for (int64_t o = 0; o < v.outer; ++o) {
        const T* xo = x + (o * v.c + c) * v.inner;
        for (int64_t i = 0; i < v.inner; ++i) ss += (xo[i] - mean) * (xo[i] - mean);
      }
      var = ss / m;
      moving_mean[c] = moving_mean[c] * momentum + mean * (1 - momentum);
      moving_var[c] = moving_var[c] * momentum + var * (1 - momentum);
    } else {
      mean = moving_mean[c];
      var = moving_var[c];
    }
    if (want_mean) mean_out[c] = mean;
    if (want_var) var_out[c] = var;
    if (req_y == OpReq::kNull) return;
    const T scale = (fix_gamma ? T(1) : gamma[c]) / math::sqrt(var + eps);
    const T shift = beta[c] - mean * scale;
    for (int64_t o = 0; o < v.outer; ++o) {
      const int64_t base = (o * v.c + c) * v.inner;
      for (int64_t i = 0; i < v.inner; ++i) {
        const T value = x[base + i] * scale + shift;
        y[base + i] = req_y == OpReq::kAdd ? T(y[base + i] + value) : value;
      }
    }
  }
};

// One channel of the backward pass: in = (ograd, data, gamma, mean, var), out = (data_grad,
// gamma_grad, beta_grad).
struct BackwardChannel {
  template <typename T>
  MX_XINLINE static void Map(int64_t c, ChannelView v, bool fix_gamma, bool global_stats, T eps,
                             OpReq req_dx, OpReq req_dgamma, OpReq req_dbeta, const T* dy,
                             const T* x, const T* gamma, const T* mean, const T* var, T* dx,
                             T* dgamma, T* dbeta) {
    const T m = static_cast<T>(v.outer * v.inner);
    const T mu = mean[c];
    const T invstd = 1 / math::sqrt(var[c] + eps);
    T sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t o = 0; o < v.outer; ++o) {
      const int64_t base = (o * v.c + c) * v.inner;
      for (int64_t i = 0; i < v.inner; ++i) {
        sum_dy += dy[base + i];
        sum_dy_xhat += dy[base + i] * (x[base + i] - mu) * invstd;
      }
    }
    AssignAt(req_dgamma, dgamma, c, fix_gamma ? T(0) : sum_dy_xhat);
    AssignAt(req_dbeta, dbeta, c, sum_dy);
    if (req_dx == OpReq::kNull) return;
    const T g = (fix_gamma ? T(1) : gamma[c]) * invstd;
    // With global statistics they are constants and the op an affine map of x; otherwise they
    // depend on x too, and their directions are projected out.
    const T a = global_stats ? T(0) : sum_dy / m, b = global_stats ? T(0) : sum_dy_xhat / m;
    for (int64_t o = 0; o < v.outer; ++o) {
      const int64_t base = (o * v.c + c) * v.inner;
      for (int64_t i = 0; i < v.inner; ++i) {
        const T xhat = (x[base + i] - mu) * invstd;
        AssignAt(req_dx, dx, base + i, T(g * (dy[base + i] - a - xhat * b)));
      }
    }
  }
};

template <typename T>
void Forward(const BatchNormParam& p, bool training, const OpContext& ctx,
             const std::vector<TBlob>& in, const std::vector<OpReq>& req,
             const std::vector<TBlob>& out) {
  const ChannelView v = ChannelViewOf(p, in[0].shape);
  Kernel<ForwardChannel>::LaunchTasks(
      ctx, v.c, in[0].Size(), v, training, bool(p.fix_gamma), static_cast<T>(p.eps),
      static_cast<T>(p.momentum), req[0], req[1] != OpReq::kNull, req[2] != OpReq::kNull,
      in[0].data<T>(), in[1].data<T>(), in[2].data<T>(), in[3].data<T>(), in[4].data<T>(),
      out[0].data<T>(), out[1].data<T>(), out[2].data<T>());
}

template <typename T>
void Backward(const BatchNormParam& p, const OpContext& ctx, const std::vector<TBlob>& in,
              const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const ChannelView v = ChannelViewOf(p, in[1].shape);
  Kernel<BackwardChannel>::LaunchTasks(
      ctx, v.c, in[1].Size(), v, bool(p.fix_gamma), bool(p.use_global_stats), static_cast<T>(p.eps),
      req[0], req[1], req[2], in[0].data<T>(), in[1].data<T>(), in[2].data<T>(), in[3].data<T>(),
      in[4].data<T>(), out[0].data<T>(), out[1].data<T>(), out[2].data<T>());
}

void CpuForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const BatchNormParam& p = Param(attrs);
  const bool training = ctx.is_train && !p.use_global_stats;
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name,
                      { Forward<T>(p, training, ctx, in, req, out); });
}

void CpuBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name,
                      { Backward<T>(Param(attrs), ctx, in, req, out); });
}

// oneDNN first on the CPU (the only path that reads blocked activations: one it declines runs
// the loops on plain copies), cuDNN first on the GPU, then the loops.
void ForwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  [[maybe_unused]] const BatchNormParam& p = Param(attrs);
  [[maybe_unused]] const bool training = ctx.is_train && !p.use_global_stats;
#if MX_USE_ONEDNN
  if (!ctx.run.ctx.is_gpu() && OneDNNBatchNormForward(p, training, ctx, in, req, out)) return;
#endif
#if MX_USE_CUDA && MX_USE_CUDNN
  if (ctx.run.ctx.is_gpu() && !p.cudnn_off && CudnnBatchNormForward(p, training, ctx, in, req, out))
    return;
#endif
  if (AnyBlocked(in, out)) return ComputePlain(CpuForward, attrs, ctx, in, req, out);
  CpuForward(attrs, ctx, in, req, out);
}

void BackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  [[maybe_unused]] const BatchNormParam& p = Param(attrs);
#if MX_USE_ONEDNN
  if (!ctx.run.ctx.is_gpu() && OneDNNBatchNormBackward(p, ctx, in, req, out)) return;
#endif
#if MX_USE_CUDA && MX_USE_CUDNN
  if (ctx.run.ctx.is_gpu() && !p.cudnn_off && CudnnBatchNormBackward(p, ctx, in, req, out)) return;
#endif
  if (AnyBlocked(in, out)) return ComputePlain(CpuBackward, attrs, ctx, in, req, out);
  CpuBackward(attrs, ctx, in, req, out);
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
      .SetResources({ResourceType::kTempSpace})  // the cuDNN path's per-channel scratch
      .SetComputeAll(ForwardCompute, kGpuKernels)
#if MX_USE_ONEDNN
      .SetLayoutSlots([](const NodeAttrs& a, const std::vector<Shape>& in,
                         const std::vector<Shape>&,
                         int dtype) { return OneDNNBatchNormSlots(Param(a), false, in, dtype); })
#endif
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
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(BackwardCompute, kGpuKernels)
#if MX_USE_ONEDNN
      .SetLayoutSlots([](const NodeAttrs& a, const std::vector<Shape>& in,
                         const std::vector<Shape>&,
                         int dtype) { return OneDNNBatchNormSlots(Param(a), true, in, dtype); })
#endif
      .SetBackwardOf("BatchNorm");
}

}  // namespace mx
