// The cuDNN paths of ops whose own kernels also run on the GPU (CUDA builds with cuDNN):
// Activation (relu, sigmoid, tanh), softmax and log_softmax (op/cudnn_activation.cc), LRN
// (op/cudnn_lrn.cc). Each returns false, having done nothing, for what it does not take (not
// float32/float64, extents beyond cuDNN's ints, parameters outside cuDNN's ranges); the op then
// runs its own kernels, which also serve softrelu.
#ifndef MX_OP_CUDNN_OPS_H_
#define MX_OP_CUDNN_OPS_H_

#include "op/op.h"

#if MX_USE_CUDA && MX_USE_CUDNN

namespace mx {

enum class DnnActivation { kRelu, kSigmoid, kTanh };

bool CudnnActivationForward(DnnActivation act, const OpContext& ctx, const TBlob& in, OpReq req,
                            const TBlob& out);
// From the output gradient and the output, like the CPU's (the output stands for the input
// cuDNN asks for: relu's x > 0 exactly where y > 0, and sigmoid and tanh read y).
bool CudnnActivationBackward(DnnActivation act, const OpContext& ctx, const TBlob& ograd,
                             const TBlob& output, OpReq req, const TBlob& igrad);

// Softmax (or log-softmax) over the middle axis of data viewed as (outer, len, inner).
bool CudnnSoftmaxForward(bool log, int64_t outer, int64_t len, int64_t inner, const OpContext& ctx,
                         const TBlob& in, OpReq req, const TBlob& out);
bool CudnnSoftmaxBackward(bool log, int64_t outer, int64_t len, int64_t inner, const OpContext& ctx,
                          const TBlob& ograd, const TBlob& output, OpReq req, const TBlob& igrad);

// LRN across the channels of NCHW data (nsize odd, 1..16; knorm >= 1e-5; beta >= 0.01). The
// backward recomputes the output into the op's scratch (ResourceType::kTempSpace): cuDNN's
// gradient reads it, and the op's backward inputs are (ograd, data).
bool CudnnLRNForward(int nsize, double alpha, double beta, double knorm, const OpContext& ctx,
                     const TBlob& in, OpReq req, const TBlob& out);
bool CudnnLRNBackward(int nsize, double alpha, double beta, double knorm, const OpContext& ctx,
                      const TBlob& ograd, const TBlob& data, OpReq req, const TBlob& igrad);

}  // namespace mx

#endif  // MX_USE_CUDA && MX_USE_CUDNN
#endif  // MX_OP_CUDNN_OPS_H_
