#include "op/cuda_util.h"

#include "base/error.h"

namespace mx {

void ThrowNeedsCudnn(const NodeAttrs& attrs, const OpContext& ctx) {
  MX_THROW(kUnsupported) << "operator '" << attrs.op->name << "' on " << ctx.run.ctx
                         << " needs cuDNN, and this libmx was built without it";
}

}  // namespace mx

#if MX_USE_CUDA

namespace mx {
namespace cuda {

cublasHandle_t BlasOf(const engine::RunContext& rctx) {
  MX_CHECK(rctx.blas_handle != nullptr, kFailed)
      << "no cuBLAS handle on " << rctx.ctx << " (cublasCreate failed when its worker started)";
  return static_cast<cublasHandle_t>(rctx.blas_handle);
}

void Check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // a non-sticky error must not fail the next call too
  MX_THROW(kFailed) << what << " failed: " << cudaGetErrorString(status);
}

void Check(cublasStatus_t status, const char* what) {
  MX_CHECK(status == CUBLAS_STATUS_SUCCESS, kFailed)
      << what << " failed: " << cublasGetStatusName(status) << " (" << cublasGetStatusString(status)
      << ")";
}

void CheckLaunch(const char* what) { Check(cudaGetLastError(), what); }

int Int(int64_t v) {
  MX_CHECK(v >= 0 && v <= INT32_MAX, kUnsupported)
      << "extent " << v << " exceeds the int that CUDA's libraries take";
  return static_cast<int>(v);
}

#if MX_USE_CUDNN
cudnnHandle_t DnnOf(const engine::RunContext& rctx) {
  MX_CHECK(rctx.dnn_handle != nullptr, kFailed)
      << "no cuDNN handle on " << rctx.ctx << " (cudnnCreate failed when its worker started)";
  return static_cast<cudnnHandle_t>(rctx.dnn_handle);
}

void Check(cudnnStatus_t status, const char* what) {
  MX_CHECK(status == CUDNN_STATUS_SUCCESS, kFailed)
      << what << " failed: " << cudnnGetErrorString(status);
}

DnnTensor::DnnTensor(int64_t n, int64_t c, int64_t h, int64_t w, DType dtype, const char* op) {
  MX_CHECK(dtype == DType::kFloat32 || dtype == DType::kFloat64, kUnsupported)
      << op << " on the GPU does not support dtype " << DTypeName(dtype)
      << " (supported: float32, float64)";
  const cudnnDataType_t t = dtype == DType::kFloat64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  Check(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, t, Int(n), Int(c), Int(h), Int(w)),
        "cudnnSetTensor4dDescriptor");
}
#endif

}  // namespace cuda
}  // namespace mx

#endif  // MX_USE_CUDA
