// The default engine: ops run on per-device worker pools as soon as their variables allow.
//
//   CPU:  a FIFO pool of `cpu_workers` threads, plus `cpu_priority_workers` threads serving
//         kCPUPrioritized ops highest priority first.
//   GPU:  per device (started on first use), `gpu_compute_workers` threads for kNormal ops and
//         `gpu_copy_workers` for kCopyToDevice/kCopyFromDevice, each thread owning a CUDA stream,
//         so a copy, a kernel and a CPU update can be in flight at once (ordering: gpu_sync.h).
//   kAsync, kDeleteVar and WaitForVar's probe run on the thread that makes them ready: they only
//   launch or signal, and a hop to a worker would cost more than they do.
//
// Dependency tracking is per variable (threaded_var.h); op blocks, operators, variables and queue
// entries come from free-list pools (object_pool.h), so a steady-state push neither allocates nor
// takes a lock shared by unrelated pushes.
#ifndef MX_ENGINE_THREADED_ENGINE_H_
#define MX_ENGINE_THREADED_ENGINE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/error_record.h"
#include "engine/gpu_sync.h"
#include "engine/task_queue.h"
#include "engine/threaded_var.h"

namespace mx {
namespace engine {

class ThreadedEngine final : public Engine {
 public:
  explicit ThreadedEngine(const EngineOptions& resolved);
  // Waits for pending work (dropping its errors) and joins the workers.
  ~ThreadedEngine() override;

  const char* Name() const override { return "threaded"; }
  const EngineOptions& Options() const override { return options_; }
  int WorkerCount(DeviceType type) const override;

  VarHandle NewVar() override;
  void DeleteVar(VarHandle var) override;
  void PushAsync(AsyncFn fn, Context ctx, const VarHandle* read, int n_read, const VarHandle* write,
                 int n_write, FnProperty prop, int priority, const char* name) override;
  void PushSync(SyncFn fn, Context ctx, const VarHandle* read, int n_read, const VarHandle* write,
                int n_write, FnProperty prop, int priority, const char* name) override;
  OprHandle NewOperator(AsyncFn fn, const VarHandle* read, int n_read, const VarHandle* write,
                        int n_write, FnProperty prop, const char* name) override;
  void PushOperator(OprHandle op, Context ctx, int priority) override;
  void DeleteOperator(OprHandle op) override;
  void WaitForVar(VarHandle var) override;
  void WaitForAll() override;
  void StopForFork() override;
  void ResumeAfterFork(bool in_child) override;

 private:
  // A set of threads serving one queue: the CPU FIFO pool, the priority lane, or one GPU's
  // compute or copy workers.
  struct Pool {
    Pool(bool by_priority, int threads, Context ctx, std::string label)
        : queue(by_priority), nthreads(threads), ctx(ctx), label(std::move(label)) {}
    TaskQueue queue;
    int nthreads;
    Context ctx;
    std::string label;  // names the workers in profiles: "<label> <index>"
    std::vector<std::thread> threads;
    bool gpu_compute = false;  // its workers own cuBLAS and cuDNN handles (GpuWorker)
  };
  struct GpuPools {
    GpuPools(int dev, int compute, int copy)
        : compute(false, compute, Context::GPU(dev),
                  Context::GPU(dev).ToString() + " compute worker"),
          copy(false, copy, Context::GPU(dev), Context::GPU(dev).ToString() + " copy worker") {
      this->compute.gpu_compute = true;
    }
    Pool compute;
    Pool copy;
  };

  Operator* NewTempOperator(Context ctx, const VarHandle* read, int n_read, const VarHandle* write,
                            int n_write, FnProperty prop, const char* name);
  void CheckContext(Context ctx) const;
  void PushBlock(Operator* op, Context ctx, int priority);
  void Dispatch(OprBlock* block);
  void Execute(OprBlock* block, const GpuWorker& gpu);
  static void CompleteCallback(void* block, std::exception_ptr error);
  void Complete(OprBlock* block, std::shared_ptr<ErrorRecord> error, bool origin);
  void GrantAll(VarEntry* granted);
  void ReleaseOperator(Operator* op);
  void WaitPending();

  GpuPools* GetGpuPools(int dev);
  void StartPool(Pool* pool);
  void StopPool(Pool* pool);
  void WorkerLoop(Pool* pool, int index);

  const EngineOptions options_;
  const int omp_threads_per_worker_;
  Pool cpu_;
  Pool cpu_priority_;
  std::mutex gpu_mu_;  // creating a device's pools (first use only)
  std::vector<std::atomic<GpuPools*>> gpus_;

  std::atomic<int64_t> pending_{0};  // pushed and not yet completed, for WaitForAll
  std::atomic<int> waiters_{0};      // threads in WaitPending
  std::mutex finish_mu_;
  std::condition_variable finish_cv_;
  ErrorLog errors_;
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_THREADED_ENGINE_H_
