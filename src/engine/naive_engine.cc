#include "engine/naive_engine.h"

#include <condition_variable>
#include <utility>

#include "base/error.h"
#include "engine/gpu_sync.h"
#include "engine/object_pool.h"
#include "engine/profiler.h"

namespace mx {
namespace engine {
namespace {

class NaiveVar : public Var {
 public:
  NaiveVar* pool_next = nullptr;
};

ObjectPool<NaiveVar>* Vars() { return ObjectPool<NaiveVar>::Global(); }
ObjectPool<Operator>* Operators() { return ObjectPool<Operator>::Global(); }

void CheckContext(Context ctx) {
  if (ctx.is_gpu()) {
    MX_CHECK(ctx.dev_id >= 0 && ctx.dev_id < GpuCount(), kInvalidArgument)
        << "engine push to " << ctx.ToString() << ", but this process has " << GpuCount()
        << " usable GPU(s)";
  } else {
    MX_CHECK(ctx.dev_type == DeviceType::kCPU || ctx.dev_type == DeviceType::kCPUPinned,
             kInvalidArgument)
        << "engine push: unknown device type " << static_cast<int>(ctx.dev_type);
  }
}

// An asynchronous function may finish on another thread: the pusher waits for its callback.
struct AsyncDone {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;

  static void Callback(void* param, std::exception_ptr error) {
    auto* self = static_cast<AsyncDone*>(param);
    std::lock_guard<std::mutex> lock(self->mu);
    self->error = std::move(error);
    self->done = true;
    self->cv.notify_all();
  }
};

}  // namespace

VarHandle NaiveEngine::NewVar() {
  NaiveVar* v = Vars()->Alloc();
  v->error.reset();
  v->magic.store(Var::kLiveMagic, std::memory_order_relaxed);
  return v;
}

void NaiveEngine::DeleteVar(VarHandle var) {
  MX_CHECK(var != nullptr, kInvalidArgument) << "DeleteVar: var is NULL";
  std::lock_guard<std::recursive_mutex> lock(mu_);
  var->error.reset();
  var->magic.store(0, std::memory_order_relaxed);
  Vars()->Free(static_cast<NaiveVar*>(var));
}

Operator* NaiveEngine::NewOp(const VarHandle* read, int n_read, const VarHandle* write, int n_write,
                             FnProperty prop, const char* name) {
  Operator* op = Operators()->Alloc();
  try {
    op->SetVars(read, n_read, write, n_write);
  } catch (...) {
    Operators()->Free(op);
    throw;
  }
  op->prop = prop;
  op->name = name;
  op->always_run = false;
  op->refs.store(1, std::memory_order_relaxed);
  return op;
}

void NaiveEngine::Release(Operator* op) {
  if (op->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  op->ClearFns();
  Operators()->Free(op);
}

NaiveEngine::~NaiveEngine() {
  for (auto& kv : gpus_) DestroyGpuWorker(kv.second);
}

void NaiveEngine::Run(Operator* op, Context ctx) {
  // Note [Profiler hot path]: one relaxed load when profiling is off. The queue wait of a naive
  // op is the time it waits for the engine's lock (pushes from other threads running).
  const int64_t prof_push = profiler::On() ? profiler::Now() : 0;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::shared_ptr<ErrorRecord> error = op->InheritedError();
  // A collective takes its turn even after an error (FnProperty::kCollective) and passes it on.
  if (error == nullptr || op->prop == FnProperty::kCollective) {
    const int64_t prof_start = prof_push != 0 ? profiler::Now() : 0;
    try {
      RunContext rctx{ctx};
      if (ctx.is_gpu()) {
        auto it = gpus_.find(ctx.dev_id);
        if (it == gpus_.end()) {
          it = gpus_.emplace(ctx.dev_id, CreateGpuWorker(ctx.dev_id, true)).first;
        }
        rctx = RunContext{ctx, it->second.stream, it->second.blas_handle, it->second.dnn_handle};
      }
      if (op->sync_fn) {
        op->sync_fn(rctx);
      } else {
        AsyncDone done;
        op->async_fn(rctx, CallbackOnComplete(&AsyncDone::Callback, &done));
        std::unique_lock<std::mutex> done_lock(done.mu);
        done.cv.wait(done_lock, [&] { return done.done; });
        if (done.error != nullptr) std::rethrow_exception(done.error);
      }
      if (ctx.is_gpu()) SynchronizeDevice(ctx.dev_id);
    } catch (...) {
      error = MakeErrorRecord(std::current_exception(), op->name);
      errors_.Add(error);
    }
    if (prof_push != 0) {
      profiler::Record(op->name, ctx, profiler::ThreadId(), prof_push, prof_start, profiler::Now(),
                       error != nullptr);
    }
  }
  op->SetWriteErrors(error);
}

void NaiveEngine::PushAsync(AsyncFn fn, Context ctx, const VarHandle* read, int n_read,
                            const VarHandle* write, int n_write, FnProperty prop, int priority,
                            const char* name) {
  MX_CHECK(static_cast<bool>(fn), kInvalidArgument) << "engine push: empty function";
  CheckContext(ctx);
  Operator* op = NewOp(read, n_read, write, n_write, prop, name);
  op->async_fn = std::move(fn);
  Run(op, ctx);
  Release(op);
}

void NaiveEngine::PushSync(SyncFn fn, Context ctx, const VarHandle* read, int n_read,
                           const VarHandle* write, int n_write, FnProperty prop, int priority,
                           const char* name) {
  MX_CHECK(static_cast<bool>(fn), kInvalidArgument) << "engine push: empty function";
  CheckContext(ctx);
  Operator* op = NewOp(read, n_read, write, n_write, prop, name);
  op->sync_fn = std::move(fn);
  Run(op, ctx);
  Release(op);
}

OprHandle NaiveEngine::NewOperator(AsyncFn fn, const VarHandle* read, int n_read,
                                   const VarHandle* write, int n_write, FnProperty prop,
                                   const char* name) {
  MX_CHECK(static_cast<bool>(fn), kInvalidArgument) << "NewOperator: empty function";
  Operator* op = NewOp(read, n_read, write, n_write, prop, name);
  op->async_fn = std::move(fn);
  return op;
}

void NaiveEngine::PushOperator(OprHandle op, Context ctx, int priority) {
  MX_CHECK(op != nullptr, kInvalidArgument) << "PushOperator: operator is NULL";
  CheckContext(ctx);
  Run(op, ctx);
}

void NaiveEngine::DeleteOperator(OprHandle op) {
  if (op != nullptr) Release(op);
}

void NaiveEngine::WaitForVar(VarHandle var) {
  MX_CHECK(var != nullptr, kInvalidArgument) << "WaitForVar: var is NULL";
  std::shared_ptr<ErrorRecord> error;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    error = var->error;
  }
  ThrowIfLive(error);
}

void NaiveEngine::WaitForAll() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  errors_.ThrowFirstLive();
}

}  // namespace engine
}  // namespace mx
