#include "ndarray/copy.h"

#include <cstring>

#include "base/error.h"

#if MX_USE_CUDA
#include <cuda_runtime_api.h>

#include <memory>

#include "storage/storage.h"
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

#if MX_USE_CUDA
// A copy between the device and pageable host memory goes through a pinned block from the pool:
// the device copies from or into pinned memory asynchronously, where with pageable memory the
// driver would stage it itself and block the copy worker (a device-to-host copy into pageable
// memory returns only when done). The block goes back to the pool from a host function the
// stream runs after the copy; for a device-to-host copy that function first copies the values
// out. The engine records the op's completion event after it in stream order, so whoever waits
// for the destination (the host with cudaEventSynchronize) finds the values in place, and the
// destination's memory is not released before (its deletion waits for the same event).
struct StagedCopy {
  PooledBlock stage;
  void* dst = nullptr;  // the pageable destination of a device-to-host copy, else null
  size_t bytes = 0;
};

void CUDART_CB FinishStagedCopy(void* p) {
  // No CUDA calls here (a host function must not make any): a memcpy and a pool push.
  std::unique_ptr<StagedCopy> s(static_cast<StagedCopy*>(p));
  if (s->dst != nullptr) std::memcpy(s->dst, s->stage.dptr(), s->bytes);
}

void CheckCopy(cudaError_t err, const TBlob& from, const TBlob& to, const char* what) {
  MX_CHECK(err == cudaSuccess, kFailed) << "copy from " << from.ctx << " to " << to.ctx << " ("
                                        << what << ") failed: " << cudaGetErrorString(err);
}

void StagedDeviceCopy(const TBlob& from, const TBlob& to, cudaStream_t stream) {
  const size_t bytes = from.Bytes();
  auto staged = std::make_unique<StagedCopy>();
  staged->stage = PooledBlock(bytes, Context::CPUPinned());
  staged->bytes = bytes;
  if (from.ctx.is_gpu()) {
    staged->dst = to.dptr;
    CheckCopy(
        cudaMemcpyAsync(staged->stage.dptr(), from.dptr, bytes, cudaMemcpyDeviceToHost, stream),
        from, to, "cudaMemcpyAsync into pinned staging");
  } else {
    std::memcpy(staged->stage.dptr(), from.dptr, bytes);
    CheckCopy(cudaMemcpyAsync(to.dptr, staged->stage.dptr(), bytes, cudaMemcpyHostToDevice, stream),
              from, to, "cudaMemcpyAsync from pinned staging");
  }
  const cudaError_t err = cudaLaunchHostFunc(stream, FinishStagedCopy, staged.get());
  if (err != cudaSuccess) {
    // The copy may be in flight: finish it here before the block goes back to the pool.
    cudaStreamSynchronize(stream);
    FinishStagedCopy(staged.release());
    CheckCopy(err, from, to, "cudaLaunchHostFunc");
  }
  staged.release();  // FinishStagedCopy owns it now
}
#endif

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
  // gpu_sync.h). Pageable host memory goes through pinned staging (StagedDeviceCopy).
  auto stream = static_cast<cudaStream_t>(rctx.stream);
  const TBlob& host = from.ctx.is_gpu() ? to : from;
  if (host.ctx.dev_type == DeviceType::kCPU && from.Bytes() > 0) {
    StagedDeviceCopy(from, to, stream);
    return;
  }
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
