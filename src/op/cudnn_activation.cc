// Activation, softmax and log_softmax on the GPU through cuDNN (see cudnn_ops.h).
//
// Elementwise activations view the array as one (1, n, 1, 1) tensor; softmax views it as
// (outer, len, inner, 1) and normalises over the channel dimension (CUDNN_SOFTMAX_MODE_CHANNEL),
// which is the op's axis whatever its position. cuDNN allows x == y (and dy == dx), so the ops'
// in-place options stay valid. A kAdd request is cuDNN's beta = 1. NaN is not propagated by relu,
// as on the CPU (x > 0 ? x : 0 gives 0).
#include "op/cudnn_ops.h"

#if MX_USE_CUDA && MX_USE_CUDNN

#include <cudnn.h>

#include <algorithm>
#include <climits>

#include "base/error.h"
#include "op/cuda_util.h"

namespace mx {
namespace {

using cuda::Check;
using cuda::DnnBlend;
using cuda::DnnOf;
using cuda::DnnTensor;

// Whether cuDNN takes the array: its type, and every extent within an int.
bool Takes(const TBlob& b, int64_t largest_extent) {
  return (b.dtype == DType::kFloat32 || b.dtype == DType::kFloat64) && largest_extent <= INT_MAX;
}

// An activation descriptor for `act` (NaN is not propagated by relu, as on the CPU).
struct ActDesc {
  cuda::DnnActivationDesc desc;
  explicit ActDesc(DnnActivation act) {
    const cudnnActivationMode_t mode = act == DnnActivation::kRelu      ? CUDNN_ACTIVATION_RELU
                                       : act == DnnActivation::kSigmoid ? CUDNN_ACTIVATION_SIGMOID
                                                                        : CUDNN_ACTIVATION_TANH;
    Check(cudnnSetActivationDescriptor(desc, mode, CUDNN_NOT_PROPAGATE_NAN, /*coef=*/0.0),
          "cudnnSetActivationDescriptor");
  }
};

}  // namespace

bool CudnnActivationForward(DnnActivation act, const OpContext& ctx, const TBlob& in, OpReq req,
                            const TBlob& out) {
  const int64_t n = in.Size();
  if (!Takes(in, n)) return false;
  if (req == OpReq::kNull || n == 0) return true;
  const DnnTensor t(1, n, 1, 1, in.dtype, "Activation");
  const ActDesc d(act);
  const DnnBlend k(in.dtype, req);
  Check(cudnnActivationForward(DnnOf(ctx.run), d.desc, k.alpha(), t.get(), in.dptr, k.beta(),
                               t.get(), out.dptr),
        "cudnnActivationForward");
  return true;
}

bool CudnnActivationBackward(DnnActivation act, const OpContext& ctx, const TBlob& ograd,
                             const TBlob& output, OpReq req, const TBlob& igrad) {
  const int64_t n = output.Size();
  if (!Takes(output, n)) return false;
  if (req == OpReq::kNull || n == 0) return true;
  const DnnTensor t(1, n, 1, 1, output.dtype, "Activation");
  const ActDesc d(act);
  const DnnBlend k(output.dtype, req);
  Check(cudnnActivationBackward(DnnOf(ctx.run), d.desc, k.alpha(), t.get(), output.dptr, t.get(),
                                ograd.dptr, t.get(), output.dptr, k.beta(), t.get(), igrad.dptr),
        "cudnnActivationBackward");
  return true;
}

bool CudnnSoftmaxForward(bool log, int64_t outer, int64_t len, int64_t inner, const OpContext& ctx,
                         const TBlob& in, OpReq req, const TBlob& out) {
  if (!Takes(in, std::max({outer, len, inner}))) return false;
  if (req == OpReq::kNull || in.Size() == 0) return true;
  const DnnTensor t(outer, len, inner, 1, in.dtype, log ? "log_softmax" : "softmax");
  const DnnBlend k(in.dtype, req);
  Check(cudnnSoftmaxForward(DnnOf(ctx.run), log ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE,
                            CUDNN_SOFTMAX_MODE_CHANNEL, k.alpha(), t.get(), in.dptr, k.beta(),
                            t.get(), out.dptr),
        "cudnnSoftmaxForward");
  return true;
}

bool CudnnSoftmaxBackward(bool log, int64_t outer, int64_t len, int64_t inner, const OpContext& ctx,
                          const TBlob& ograd, const TBlob& output, OpReq req, const TBlob& igrad) {
  if (!Takes(output, std::max({outer, len, inner}))) return false;
  if (req == OpReq::kNull || output.Size() == 0) return true;
  const DnnTensor t(outer, len, inner, 1, output.dtype, log ? "log_softmax" : "softmax");
  const DnnBlend k(output.dtype, req);
  Check(cudnnSoftmaxBackward(DnnOf(ctx.run), log ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE,
                             CUDNN_SOFTMAX_MODE_CHANNEL, k.alpha(), t.get(), output.dptr, t.get(),
                             ograd.dptr, k.beta(), t.get(), igrad.dptr),
        "cudnnSoftmaxBackward");
  return true;
}

}  // namespace mx

#endif  // MX_USE_CUDA && MX_USE_CUDNN
