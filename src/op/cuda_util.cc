#include "op/cuda_util.h"

#if MX_USE_CUDA

#include "base/error.h"

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

}  // namespace cuda
}  // namespace mx

#endif  // MX_USE_CUDA
