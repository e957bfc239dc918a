// Ordering GPU work across streams with CUDA events.
//
// A GPU op is complete, as far as the dependency tracking goes, as soon as its kernels are
// enqueued: the worker then records a CUDA event on its stream and attaches it to the op's
// variables (as the last writer's event, or as one more reader's event). Whoever runs next on
// those variables waits for the event instead of anyone calling cudaStreamSynchronize per op:
//   - a GPU op on another stream makes its stream wait (cudaStreamWaitEvent: no host blocking);
//   - a CPU op (or WaitForVar) blocks on the event itself (cudaEventSynchronize).
// A read waits for the last writer's event; a write also waits for the readers' events.
//
// The events of a variable are only touched by the op that holds it (a write exclusively, reads
// concurrently but only reading the writer's event), except the readers' list, which has its own
// lock. Without CUDA every function here is an inline no-op.
#ifndef MX_ENGINE_GPU_SYNC_H_
#define MX_ENGINE_GPU_SYNC_H_

#include "engine/operator.h"
#include "engine/threaded_var.h"

namespace mx {
namespace engine {

// What a GPU worker thread owns and hands to each function it runs (RunContext).
struct GpuWorker {
  void* stream = nullptr;       // cudaStream_t
  void* blas_handle = nullptr;  // cublasHandle_t
  void* dnn_handle = nullptr;   // cudnnHandle_t
};

#if MX_USE_CUDA

// nullptr when the machine has no GPU (variables then carry no GPU state at all).
GpuVarState* NewGpuVarState();
// Forgets the events of a variable being recycled.
void ResetGpuVarState(GpuVarState* state);

// True when the variable's last writer was a GPU op whose event a reader on the host must wait
// for. Called by the variable's lock holder once no write is running (so `writer` is settled).
bool HasGpuWriter(const GpuVarState* state);
// Before running `op` on GPU stream `stream`: the stream waits for the events `op` depends on.
void StreamWaitForDeps(const Operator& op, void* stream);
// Before running `op` on the host: block until the GPU work it depends on is done.
void HostWaitForDeps(const Operator& op);
// After `op` completed: records an event on `stream` (GPU op on device `dev`) and attaches it to
// the variables; for a host op (stream == nullptr) the written variables forget their events.
void RecordCompletion(const Operator& op, void* stream, int dev);

// A GPU worker's stream on device `dev` (non-blocking w.r.t. the legacy default stream) and,
// for compute workers (`libraries`), its cuBLAS and cuDNN handles bound to that stream. A library
// whose handle cannot be created leaves it null: the ops that need it then fail, naming it.
GpuWorker CreateGpuWorker(int dev, bool libraries);
void DestroyGpuWorker(const GpuWorker& worker);
// The naive engine runs GPU functions on the default stream and waits for each.
void SynchronizeDevice(int dev);

#else

inline GpuVarState* NewGpuVarState() { return nullptr; }
inline void ResetGpuVarState(GpuVarState*) {}
inline bool HasGpuWriter(const GpuVarState*) { return false; }
inline void StreamWaitForDeps(const Operator&, void*) {}
inline void HostWaitForDeps(const Operator&) {}
inline void SynchronizeDevice(int) {}
inline void RecordCompletion(const Operator&, void*, int) {}
inline GpuWorker CreateGpuWorker(int, bool) { return GpuWorker{}; }
inline void DestroyGpuWorker(const GpuWorker&) {}

#endif  // MX_USE_CUDA

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_GPU_SYNC_H_
