// The debugging engine: every function runs to completion on the thread that pushes it, under one
// lock, so a failure shows up at the push site in a debugger. Errors follow the threaded engine's
// rules (stored on the written variables, rethrown by the next wait), so code that works on one
// works on the other.
#ifndef MX_ENGINE_NAIVE_ENGINE_H_
#define MX_ENGINE_NAIVE_ENGINE_H_

#include <map>
#include <mutex>

#include "engine/engine.h"
#include "engine/error_record.h"
#include "engine/gpu_sync.h"
#include "engine/operator.h"

namespace mx {
namespace engine {

class NaiveEngine final : public Engine {
 public:
  explicit NaiveEngine(const EngineOptions& resolved) : options_(resolved) {}
  ~NaiveEngine() override;

  const char* Name() const override { return "naive"; }
  const EngineOptions& Options() const override { return options_; }
  int WorkerCount(DeviceType) const override { return 0; }

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
  void StopForFork() override {}
  void ResumeAfterFork(bool) override {}

 private:
  Operator* NewOp(const VarHandle* read, int n_read, const VarHandle* write, int n_write,
                  FnProperty prop, const char* name);
  void Run(Operator* op, Context ctx);
  void Release(Operator* op);

  const EngineOptions options_;
  // Pushes from several threads run one at a time, as a serial program would; recursive because
  // a function may push (and so run) more work.
  std::recursive_mutex mu_;
  ErrorLog errors_;
  // Each GPU's stream and library handles, made at its first function (under mu_).
  std::map<int, GpuWorker> gpus_;
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_NAIVE_ENGINE_H_
