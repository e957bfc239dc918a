#include "ndarray/copy.h"

#include <cstring>

#include "base/error.h"

#if MX_USE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace mx {
namespace {

template <typename From, typename To>
void CastLoop(const From* src, To* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<To>(src[i]);
}

void HostCast(const TBlob& from, const TBlob& to) {
  MX_CHECK(from.dtype != DType::kFloat16 && to.dtype != DType::kFloat16, kUnsupported)
      << "converting float16 on the host is not supported yet (" << DTypeName(from.dtype) << " to "
      << DTypeName(to.dtype) << ")";
  const int64_t n = from.Size();
  MX_DTYPE_SWITCH(from.dtype, SrcT, {
    MX_DTYPE_SWITCH(to.dtype, DstT, {
      if constexpr (!std::is_same<SrcT, Half>::value && !std::is_same<DstT, Half>::value) {
        CastLoop(from.data<SrcT>(), to.data<DstT>(), n);
      }
    });
  });
}

}  // namespace

engine::FnProperty CopyProperty(Context from, Context to, int64_t elements) {
  if (to.is_gpu() && !from.is_gpu()) return engine::FnProperty::kCopyToDevice;
  if (from.is_gpu() && !to.is_gpu()) return engine::FnProperty::kCopyFromDevice;
  if (from.is_gpu() || to.is_gpu()) return engine::FnProperty::kNormal;
  return engine::CpuWorkProperty(elements);
}

void CopyBlob(const TBlob& from, const TBlob& to, const engine::RunContext& rctx) {
  MX_CHECK(from.shape.Size() == to.shape.Size(), kInvalidArgument)
      << "copy: source has shape " << from.shape << " but destination has shape " << to.shape;
  if (from.dptr == to.dptr && from.dtype == to.dtype) return;
  if (from.ctx.is_host() && to.ctx.is_host()) {
    if (from.dtype == to.dtype) {
      std::memcpy(to.dptr, from.dptr, from.Bytes());
    } else {
      HostCast(from, to);
    }
    return;
  }
#if MX_USE_CUDA
  MX_CHECK(from.dtype == to.dtype, kUnsupported)
      << "copy between " << from.ctx << " and " << to.ctx << " needs equal dtypes, got "
      << DTypeName(from.dtype) << " and " << DTypeName(to.dtype);
  // Enqueued only: the engine records an event on this stream for the arrays the copy touches,
  // and whoever uses them next waits for it (a host reader with cudaEventSynchronize, engine
  // gpu_sync.h). A pageable host source is staged before cudaMemcpyAsync returns, and a copy to
  // pageable host memory returns when done, so only pinned memory is truly in flight.
  auto stream = static_cast<cudaStream_t>(rctx.stream);
  const cudaError_t err =
      cudaMemcpyAsync(to.dptr, from.dptr, from.Bytes(), cudaMemcpyDefault, stream);
  MX_CHECK(err == cudaSuccess, kFailed)
      << "copy from " << from.ctx << " to " << to.ctx << " failed: " << cudaGetErrorString(err);
#else
  MX_THROW(kUnsupported) << "copy from " << from.ctx << " to " << to.ctx
                         << ": this libmx was built without CUDA";
#endif
}

void WaitForCopies(const engine::RunContext& rctx) {
#if MX_USE_CUDA
  if (rctx.stream == nullptr) return;
  const cudaError_t err = cudaStreamSynchronize(static_cast<cudaStream_t>(rctx.stream));
  MX_CHECK(err == cudaSuccess, kFailed)
      << "copy on " << rctx.ctx << " failed: " << cudaGetErrorString(err);
#else
  (void)rctx;
#endif
}

}  // namespace mx
