// BatchNorm on the GPU through cuDNN (spatial mode), forward and backward, float32.
//
// The data is viewed as NCHW (outer, channels, inner, 1) around the channel axis, so any axis
// works. cuDNN normalises with the batch mean and biased variance, as the CPU does, but it moves
// the running variance toward the *unbiased* one. So it is given no moving statistics to update:
// it writes the batch mean and unbiased variance into scratch (running statistics zeroed, with
// an averaging factor of 1), and one small kernel turns the variance into the biased one and
// moves the op's statistics exactly as the CPU loop does (batch_norm.cc).
//
// The backward pass hands cuDNN the forward's mean and 1 / sqrt(var + eps) as its saved
// statistics, so it uses the same statistics as the CPU (the op's inputs 3 and 4). Parameter
// gradients come back in scratch and are assigned with their requests (fix_gamma: 0).
//
// Cases cuDNN's API does not cover go to the portable kernels (CudnnBatchNorm* returns false):
// other types than float32, use_global_stats in backward (an affine map: its gradient is not
// the batch one), a channel of one element (no unbiased variance), a forward in place or without
// its output, a backward without the data gradient.
#include "op/batch_norm.h"

#if MX_USE_CUDA && MX_USE_CUDNN

#include <cudnn.h>

#include <cmath>
#include <vector>

#include "base/error.h"
#include "op/cuda_util.h"
#include "op/kernel.h"
#include "op/math_functors.h"

namespace mx {
namespace {

using cuda::Check;
using cuda::DnnOf;
using cuda::DnnTensor;

// The descriptors of one call: data (outer, c, inner, 1) and the per-channel statistics.
struct BnDescs {
  DnnTensor x;
  cuda::DnnTensorDesc stats;

  explicit BnDescs(const ChannelView& v)
      : x(v.outer, v.c, v.inner, 1, DType::kFloat32, "BatchNorm") {
    Check(cudnnDeriveBNTensorDescriptor(stats, x, CUDNN_BATCHNORM_SPATIAL),
          "cudnnDeriveBNTensorDescriptor");
  }
};

// After the forward pass, per channel: the biased batch variance from cuDNN's unbiased one, the
// moving statistics moved (the CPU's formula), the batch statistics written where requested.
struct FinishForward {
  MX_XINLINE static void Map(int64_t c, float m, float momentum, bool want_mean, bool want_var,
                             const float* batch_mean, const float* unbiased_var, float* moving_mean,
                             float* moving_var, float* mean_out, float* var_out) {
    const float mean = batch_mean[c], var = unbiased_var[c] * ((m - 1) / m);
    moving_mean[c] = moving_mean[c] * momentum + mean * (1 - momentum);
    moving_var[c] = moving_var[c] * momentum + var * (1 - momentum);
    if (want_mean) mean_out[c] = mean;
    if (want_var) var_out[c] = var;
  }
};

// Before the backward pass: cuDNN's saved inverse standard deviation from the op's variance, and
// the scale of 1 that fix_gamma uses.
struct PrepareBackward {
  MX_XINLINE static void Map(int64_t c, float eps, const float* var, float* inv_std, float* ones) {
    inv_std[c] = 1 / math::sqrt(var[c] + eps);
    ones[c] = 1;
  }
};

struct Ones {
  MX_XINLINE static void Map(int64_t c, float* ones) { ones[c] = 1; }
};

// After the backward pass: the parameter gradients assigned with their requests.
struct AssignParamGrads {
  MX_XINLINE static void Map(int64_t c, bool fix_gamma, OpReq req_dgamma, OpReq req_dbeta,
                             const float* dscale, const float* dbias, float* dgamma, float* dbeta) {
    AssignAt(req_dgamma, dgamma, c, fix_gamma ? 0.0f : dscale[c]);
    AssignAt(req_dbeta, dbeta, c, dbias[c]);
  }
};

}  // namespace

bool CudnnBatchNormForward(const BatchNormParam& p, bool training, const OpContext& ctx,
                           const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                           const std::vector<TBlob>& out) {
  const ChannelView v = ChannelViewOf(p, in[0].shape);
  if (in[0].dtype != DType::kFloat32 || p.eps < CUDNN_BN_MIN_EPSILON || req[0] == OpReq::kNull ||
      v.c == 0 || v.Count() == 0 || (training && v.Count() < 2) ||
      (training && in[0].dptr == out[0].dptr)) {
    return false;
  }
  const BnDescs d(v);
  cudnnHandle_t h = DnnOf(ctx.run);
  cudaStream_t stream = cuda::StreamOf(ctx.run);
  const float alpha = 1, beta = req[0] == OpReq::kAdd ? 1.0f : 0.0f;
  // Scratch: a scale of ones (fix_gamma), and for training the batch mean and unbiased variance.
  float* scratch = static_cast<float*>(ctx.TempSpace(sizeof(float) * 3 * v.c));
  float* ones = scratch;
  const float* scale = in[1].data<float>();
  if (p.fix_gamma) {
    Kernel<Ones>::Launch(ctx.run, v.c, ones);
    scale = ones;
  }
  if (!training) {
    Check(cudnnBatchNormalizationForwardInference(h, CUDNN_BATCHNORM_SPATIAL, &alpha, &beta, d.x,
                                                  in[0].dptr, d.x, out[0].dptr, d.stats, scale,
                                                  in[2].dptr, in[3].dptr, in[4].dptr, p.eps),
          "cudnnBatchNormalizationForwardInference");
    // As on the CPU, the statistics used are the outputs' mean and var.
    for (int i : {1, 2}) {
      if (req[i] == OpReq::kNull) continue;
      cuda::Check(cudaMemcpyAsync(out[i].dptr, in[i + 2].dptr, sizeof(float) * v.c,
                                  cudaMemcpyDeviceToDevice, stream),
                  "cudaMemcpyAsync (BatchNorm statistics)");
    }
    return true;
  }
  float* batch_mean = scratch + v.c;
  float* unbiased_var = scratch + 2 * v.c;
  // Zeroed: the factor of 1 still multiplies the old values by 0, and 0 * NaN is NaN.
  cuda::Check(cudaMemsetAsync(batch_mean, 0, sizeof(float) * 2 * v.c, stream),
              "cudaMemsetAsync (BatchNorm statistics)");
  Check(cudnnBatchNormalizationForwardTraining(
            h, CUDNN_BATCHNORM_SPATIAL, &alpha, &beta, d.x, in[0].dptr, d.x, out[0].dptr, d.stats,
            scale, in[2].dptr, 1.0, batch_mean, unbiased_var, p.eps, nullptr, nullptr),
        "cudnnBatchNormalizationForwardTraining");
  Kernel<FinishForward>::Launch(
      ctx.run, v.c, static_cast<float>(v.Count()), static_cast<float>(p.momentum),
      req[1] != OpReq::kNull, req[2] != OpReq::kNull, batch_mean, unbiased_var, in[3].data<float>(),
      in[4].data<float>(), out[1].data<float>(), out[2].data<float>());
  return true;
}

bool CudnnBatchNormBackward(const BatchNormParam& p, const OpContext& ctx,
                            const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                            const std::vector<TBlob>& out) {
  // in = (ograd, data, gamma, mean, var), out = (data_grad, gamma_grad, beta_grad)
  const ChannelView v = ChannelViewOf(p, in[1].shape);
  if (in[1].dtype != DType::kFloat32 || p.eps < CUDNN_BN_MIN_EPSILON || p.use_global_stats ||
      req[0] == OpReq::kNull || v.c == 0 || v.Count() < 2) {
    return false;
  }
  const BnDescs d(v);
  float* scratch = static_cast<float*>(ctx.TempSpace(sizeof(float) * 4 * v.c));
  float *inv_std = scratch, *ones = scratch + v.c, *dscale = scratch + 2 * v.c,
        *dbias = scratch + 3 * v.c;
  Kernel<PrepareBackward>::Launch(ctx.run, v.c, static_cast<float>(p.eps), in[4].data<float>(),
                                  inv_std, ones);
  const float one = 1, zero = 0, beta_dx = req[0] == OpReq::kAdd ? 1.0f : 0.0f;
  Check(cudnnBatchNormalizationBackward(
            DnnOf(ctx.run), CUDNN_BATCHNORM_SPATIAL, &one, &beta_dx, &one, &zero, d.x, in[1].dptr,
            d.x, in[0].dptr, d.x, out[0].dptr, d.stats, p.fix_gamma ? ones : in[2].data<float>(),
            dscale, dbias, p.eps, in[3].dptr, inv_std),
        "cudnnBatchNormalizationBackward");
  Kernel<AssignParamGrads>::Launch(ctx.run, v.c, bool(p.fix_gamma), req[1], req[2], dscale, dbias,
                                   out[1].data<float>(), out[2].data<float>());
  return true;
}

}  // namespace mx

#endif  // MX_USE_CUDA && MX_USE_CUDNN
