// What GPU compute functions share: the worker's stream and library handles (from RunContext,
// made by the engine's GPU workers, engine/gpu_sync.h) and CUDA status checks that throw
// mx::Error. Errors a kernel hits while it runs are not seen here: they surface at the next
// synchronisation (an event wait or a copy to the host) as errors on the variables it wrote.
#ifndef MX_OP_CUDA_UTIL_H_
#define MX_OP_CUDA_UTIL_H_

#include <cstdint>

#include "engine/engine.h"
#include "op/op.h"

namespace mx {

// The error of a cuDNN op (Convolution, Deconvolution, Pooling) on a GPU array in a CUDA build
// without cuDNN: kUnsupported, naming the op and the device.
[[noreturn]] void ThrowNeedsCudnn(const NodeAttrs& attrs, const OpContext& ctx);

}  // namespace mx

#if MX_USE_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#if MX_USE_CUDNN
#include <cudnn.h>
#endif

namespace mx {
namespace cuda {

inline cudaStream_t StreamOf(const engine::RunContext& rctx) {
  return static_cast<cudaStream_t>(rctx.stream);
}
// The worker's cuBLAS handle, bound to its stream; an error when the worker could not make one.
cublasHandle_t BlasOf(const engine::RunContext& rctx);

// Throws kFailed naming `what` and CUDA's message unless `status` is success.
void Check(cudaError_t status, const char* what);
void Check(cublasStatus_t status, const char* what);
// The launch error of the kernel just enqueued (bad configuration, no image for this GPU).
void CheckLaunch(const char* what);
// An extent as the int the CUDA libraries take; beyond it, kUnsupported naming the value.
int Int(int64_t v);

#if MX_USE_CUDNN
// The worker's cuDNN handle, bound to its stream; an error when the worker could not make one.
cudnnHandle_t DnnOf(const engine::RunContext& rctx);
void Check(cudnnStatus_t status, const char* what);

// A cuDNN descriptor created with the object and destroyed with it. As a member, it is destroyed
// also when a later step of its owner's constructor throws (an extent beyond int, a cuDNN
// error), so setting descriptors up never leaks them. Converts to the descriptor for the calls.
template <typename D, cudnnStatus_t (*Create)(D*), cudnnStatus_t (*Destroy)(D)>
class DnnDesc {
 public:
  DnnDesc() { Check(Create(&desc_), "creating a cuDNN descriptor"); }
  ~DnnDesc() { Destroy(desc_); }
  DnnDesc(const DnnDesc&) = delete;
  DnnDesc& operator=(const DnnDesc&) = delete;
  operator D() const { return desc_; }  // NOLINT(google-explicit-constructor): a handle
  D get() const { return desc_; }

 private:
  D desc_ = nullptr;
};
using DnnTensorDesc =
    DnnDesc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using DnnFilterDesc =
    DnnDesc<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using DnnConvDesc = DnnDesc<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                            cudnnDestroyConvolutionDescriptor>;
using DnnPoolDesc =
    DnnDesc<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;
using DnnActivationDesc = DnnDesc<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
                                  cudnnDestroyActivationDescriptor>;
using DnnLrnDesc =
    DnnDesc<cudnnLRNDescriptor_t, cudnnCreateLRNDescriptor, cudnnDestroyLRNDescriptor>;

// A 4-d NCHW tensor descriptor of float32 or float64 (kUnsupported naming `op` for another
// type). Arrays of other ranks are viewed as 4-d by their callers.
class DnnTensor {
 public:
  DnnTensor(int64_t n, int64_t c, int64_t h, int64_t w, DType dtype, const char* op);
  operator cudnnTensorDescriptor_t() const { return desc_; }  // NOLINT: a handle
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  DnnTensorDesc desc_;
};

// cuDNN's blend factors for a result written with request `req`: alpha = 1, beta = 0 (kWrite) or
// 1 (kAdd), in the type cuDNN reads for `dtype` (double for float64 data, float otherwise).
class DnnBlend {
 public:
  DnnBlend(DType dtype, OpReq req)
      : f64_(dtype == DType::kFloat64), b_(req == OpReq::kAdd ? 1.0 : 0.0), fb_(float(b_)) {}
  const void* alpha() const { return f64_ ? static_cast<const void*>(&a_) : &fa_; }
  const void* beta() const { return f64_ ? static_cast<const void*>(&b_) : &fb_; }

 private:
  bool f64_;
  double a_ = 1, b_;
  float fa_ = 1, fb_;
};
#endif

}  // namespace cuda
}  // namespace mx

#endif  // MX_USE_CUDA
#endif  // MX_OP_CUDA_UTIL_H_
