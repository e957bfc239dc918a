// CUDA events between streams and between GPU and host; see gpu_sync.h. Only the runtime API is
// used (never the driver API), so a CUDA build still loads on a machine without a GPU.
#include "engine/gpu_sync.h"

#if MX_USE_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#if MX_USE_CUDNN
#include <cudnn.h>
#endif

#include <atomic>
#include <mutex>
#include <vector>

#include "base/context.h"
#include "base/error.h"
#include "base/logging.h"

namespace mx {
namespace engine {

struct GpuEvent {
  cudaEvent_t event = nullptr;
  cudaStream_t stream = nullptr;  // where it was recorded: a later record on it supersedes it
  int dev = 0;
  std::atomic<int> refs{0};
};

struct GpuVarState {
  GpuEvent* writer = nullptr;
  std::mutex readers_mu;  // concurrent GPU readers append their events at completion
  std::vector<GpuEvent*> readers;
};

namespace {

void CheckCuda(cudaError_t status, const char* what) {
  MX_CHECK(status == cudaSuccess, kFailed) << what << " failed: " << cudaGetErrorString(status);
}

// Recycled events per device: creating one costs a driver call; recording a used one is cheap.
class EventPool {
 public:
  static EventPool* Get() {
    static EventPool* const pool = new EventPool();  // leaked: no CUDA calls at exit
    return pool;
  }
  GpuEvent* Acquire(int dev) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (dev < static_cast<int>(free_.size()) && !free_[dev].empty()) {
        GpuEvent* e = free_[dev].back();
        free_[dev].pop_back();
        e->refs.store(1, std::memory_order_relaxed);
        return e;
      }
    }
    auto* e = new GpuEvent;
    e->dev = dev;
    e->refs.store(1, std::memory_order_relaxed);
    // The caller is a worker of `dev`, so the event belongs to the right device.
    CheckCuda(cudaEventCreateWithFlags(&e->event, cudaEventDisableTiming), "cudaEventCreate");
    return e;
  }
  void Put(GpuEvent* e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (e->dev >= static_cast<int>(free_.size())) free_.resize(e->dev + 1);
    free_[e->dev].push_back(e);
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<GpuEvent*>> free_;
};

void AddRef(GpuEvent* e) { e->refs.fetch_add(1, std::memory_order_relaxed); }
void Release(GpuEvent* e) {
  if (e != nullptr && e->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    EventPool::Get()->Put(e);
}

void ForgetAll(GpuVarState* s) {
  Release(s->writer);
  s->writer = nullptr;
  std::lock_guard<std::mutex> lock(s->readers_mu);
  for (GpuEvent* e : s->readers) Release(e);
  s->readers.clear();
}

template <typename WaitFn>
void ForEachDep(const Operator& op, WaitFn wait) {
  for (Var* v : op.reads) {
    GpuVarState* s = static_cast<ThreadedVar*>(v)->gpu;
    if (s != nullptr && s->writer != nullptr) wait(s->writer);
  }
  for (Var* v : op.writes) {
    GpuVarState* s = static_cast<ThreadedVar*>(v)->gpu;
    if (s == nullptr) continue;
    if (s->writer != nullptr) wait(s->writer);
    std::lock_guard<std::mutex> lock(s->readers_mu);
    for (GpuEvent* e : s->readers) wait(e);
  }
}

}  // namespace

GpuVarState* NewGpuVarState() { return GpuCount() > 0 ? new GpuVarState() : nullptr; }

void ResetGpuVarState(GpuVarState* state) {
  if (state != nullptr) ForgetAll(state);
}

void StreamWaitForDeps(const Operator& op, void* stream) {
  auto* s = static_cast<cudaStream_t>(stream);
  ForEachDep(op, [s](GpuEvent* e) {
    // Work already ordered on this stream needs no event.
    if (e->stream != s) CheckCuda(cudaStreamWaitEvent(s, e->event, 0), "cudaStreamWaitEvent");
  });
}

bool HasGpuWriter(const GpuVarState* state) { return state != nullptr && state->writer != nullptr; }

void HostWaitForDeps(const Operator& op) {
  ForEachDep(
      op, [](GpuEvent* e) { CheckCuda(cudaEventSynchronize(e->event), "cudaEventSynchronize"); });
}

void RecordCompletion(const Operator& op, void* stream, int dev) {
  if (stream == nullptr) {
    // A host op has already waited for every event of the variables it wrote.
    for (Var* v : op.writes) {
      GpuVarState* s = static_cast<ThreadedVar*>(v)->gpu;
      if (s != nullptr && (s->writer != nullptr || !s->readers.empty())) ForgetAll(s);
    }
    return;
  }
  auto* cs = static_cast<cudaStream_t>(stream);
  GpuEvent* e = EventPool::Get()->Acquire(dev);
  e->stream = cs;
  CheckCuda(cudaEventRecord(e->event, cs), "cudaEventRecord");
  for (Var* v : op.writes) {
    GpuVarState* s = static_cast<ThreadedVar*>(v)->gpu;
    if (s == nullptr) continue;
    ForgetAll(s);  // this op waited for all of them before it ran
    AddRef(e);
    s->writer = e;
  }
  for (Var* v : op.reads) {
    GpuVarState* s = static_cast<ThreadedVar*>(v)->gpu;
    if (s == nullptr) continue;
    std::lock_guard<std::mutex> lock(s->readers_mu);
    AddRef(e);
    bool replaced = false;
    // One event per stream is enough: a later event on a stream implies the earlier ones.
    for (GpuEvent*& r : s->readers) {
      if (r->stream == cs) {
        Release(r);
        r = e;
        replaced = true;
        break;
      }
    }
    if (!replaced) s->readers.push_back(e);
  }
  Release(e);
}

GpuWorker CreateGpuWorker(int dev, bool libraries) {
  CheckCuda(cudaSetDevice(dev), "cudaSetDevice");
  GpuWorker w;
  cudaStream_t stream = nullptr;
  CheckCuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  w.stream = stream;
  if (!libraries) return w;
  cublasHandle_t blas = nullptr;
  if (cublasCreate(&blas) == CUBLAS_STATUS_SUCCESS) {
    cublasSetStream(blas, stream);
    w.blas_handle = blas;
  } else {
    MX_LOG(kWarning) << "engine: cublasCreate failed on gpu(" << dev << "); GEMMs there will fail";
  }
#if MX_USE_CUDNN
  cudnnHandle_t dnn = nullptr;
  if (cudnnCreate(&dnn) == CUDNN_STATUS_SUCCESS) {
    cudnnSetStream(dnn, stream);
    w.dnn_handle = dnn;
  } else {
    MX_LOG(kWarning) << "engine: cudnnCreate failed on gpu(" << dev << ")";
  }
#endif
  return w;
}

void DestroyGpuWorker(const GpuWorker& w) {
  if (w.blas_handle != nullptr) cublasDestroy(static_cast<cublasHandle_t>(w.blas_handle));
#if MX_USE_CUDNN
  if (w.dnn_handle != nullptr) cudnnDestroy(static_cast<cudnnHandle_t>(w.dnn_handle));
#endif
  if (w.stream != nullptr) cudaStreamDestroy(static_cast<cudaStream_t>(w.stream));
}

void SynchronizeDevice(int dev) {
  CheckCuda(cudaSetDevice(dev), "cudaSetDevice");
  CheckCuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

}  // namespace engine
}  // namespace mx

#endif  // MX_USE_CUDA
