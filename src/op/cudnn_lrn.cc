// LRN on the GPU through cuDNN's cross-channel normalisation (see cudnn_ops.h).
//
// cuDNN's formula is the op's: y = x / (k + alpha / n * sum of x^2 over the n channels centred
// on this one)^beta, with alpha divided by n inside the library; for an odd n its window
// (floor((n - 1) / 2) channels behind, the rest ahead) is the op's centred one. The data is
// already NCHW (the op takes 4-D data only).
#include "op/cudnn_ops.h"

#if MX_USE_CUDA && MX_USE_CUDNN

#include <cudnn.h>

#include <climits>

#include "base/error.h"
#include "op/cuda_util.h"

namespace mx {
namespace {

using cuda::Check;
using cuda::DnnBlend;
using cuda::DnnOf;
using cuda::DnnTensor;

bool Takes(int nsize, double beta, double knorm, const TBlob& x) {
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kFloat64) return false;
  if (nsize % 2 == 0 || nsize < CUDNN_LRN_MIN_N || nsize > CUDNN_LRN_MAX_N) return false;
  if (knorm < CUDNN_LRN_MIN_K || beta < CUDNN_LRN_MIN_BETA) return false;
  for (int i = 0; i < 4; ++i)
    if (x.shape[i] > INT_MAX) return false;
  return true;
}

struct LrnDesc {
  cuda::DnnLrnDesc desc;
  LrnDesc(int nsize, double alpha, double beta, double knorm) {
    Check(cudnnSetLRNDescriptor(desc, static_cast<unsigned>(nsize), alpha, beta, knorm),
          "cudnnSetLRNDescriptor");
  }
};

}  // namespace

bool CudnnLRNForward(int nsize, double alpha, double beta, double knorm, const OpContext& ctx,
                     const TBlob& in, OpReq req, const TBlob& out) {
  if (!Takes(nsize, beta, knorm, in)) return false;
  if (req == OpReq::kNull || in.Size() == 0) return true;
  const LrnDesc d(nsize, alpha, beta, knorm);
  const DnnTensor t(in.shape[0], in.shape[1], in.shape[2], in.shape[3], in.dtype, "LRN");
  const DnnBlend k(in.dtype, req);
  Check(cudnnLRNCrossChannelForward(DnnOf(ctx.run), d.desc, CUDNN_LRN_CROSS_CHANNEL_DIM1, k.alpha(),
                                    t.get(), in.dptr, k.beta(), t.get(), out.dptr),
        "cudnnLRNCrossChannelForward");
  return true;
}

bool CudnnLRNBackward(int nsize, double alpha, double beta, double knorm, const OpContext& ctx,
                      const TBlob& ograd, const TBlob& data, OpReq req, const TBlob& igrad) {
  if (!Takes(nsize, beta, knorm, data)) return false;
  if (req == OpReq::kNull || data.Size() == 0) return true;
  const LrnDesc d(nsize, alpha, beta, knorm);
  const DnnTensor t(data.shape[0], data.shape[1], data.shape[2], data.shape[3], data.dtype, "LRN");
  const size_t elem = data.dtype == DType::kFloat64 ? sizeof(double) : sizeof(float);
  void* y = ctx.TempSpace(static_cast<size_t>(data.Size()) * elem);
  const DnnBlend write(data.dtype, OpReq::kWrite), k(data.dtype, req);
  cudnnHandle_t h = DnnOf(ctx.run);
  Check(cudnnLRNCrossChannelForward(h, d.desc, CUDNN_LRN_CROSS_CHANNEL_DIM1, write.alpha(), t.get(),
                                    data.dptr, write.beta(), t.get(), y),
        "cudnnLRNCrossChannelForward (the backward's output)");
  Check(cudnnLRNCrossChannelBackward(h, d.desc, CUDNN_LRN_CROSS_CHANNEL_DIM1, k.alpha(), t.get(), y,
                                     t.get(), ograd.dptr, t.get(), data.dptr, k.beta(), t.get(),
                                     igrad.dptr),
        "cudnnLRNCrossChannelBackward");
  return true;
}

}  // namespace mx

#endif  // MX_USE_CUDA && MX_USE_CUDNN
