#include "engine/threaded_engine.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#if MX_USE_OPENMP
#include <omp.h>
#endif

#include "base/error.h"
#include "base/logging.h"
#include "engine/gpu_sync.h"
#include "engine/object_pool.h"
#include "engine/profiler.h"

namespace mx {
namespace engine {
namespace {

ObjectPool<OprBlock>* Blocks() { return ObjectPool<OprBlock>::Global(); }
ObjectPool<Operator>* Operators() { return ObjectPool<Operator>::Global(); }
ObjectPool<ThreadedVar>* Vars() { return ObjectPool<ThreadedVar>::Global(); }
ObjectPool<VarEntry>* Entries() { return ObjectPool<VarEntry>::Global(); }
ObjectPool<profiler::Span>* Spans() { return ObjectPool<profiler::Span>::Global(); }

// Ops that run on the thread that makes them ready may complete synchronously and make the next
// one ready in turn; past this depth they go to a worker instead of growing the stack.
constexpr int kMaxInlineDepth = 16;
thread_local int tls_inline_depth = 0;

// The cores this process's CPU workers share: OMP_NUM_THREADS when set; otherwise the machine's,
// or this process's part of them when mpirun started several processes on the machine (dist_*
// key-value stores): spinning OpenMP threads of several processes on the same cores slow every
// one of them down many times over.
int CoresOfThisProcess() {
  const char* given = std::getenv("OMP_NUM_THREADS");
  if (given != nullptr && std::atoi(given) > 0) return std::atoi(given);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int processes = local != nullptr ? std::max(1, std::atoi(local)) : 1;
  return std::max(1, cores / processes);
}

int OmpThreadsPerWorker(int cpu_workers) {
  return std::max(1, CoresOfThisProcess() / std::max(1, cpu_workers));
}

}  // namespace

ThreadedEngine::ThreadedEngine(const EngineOptions& resolved)
    : options_(resolved),
      omp_threads_per_worker_(OmpThreadsPerWorker(resolved.cpu_workers)),
      cpu_(false, resolved.cpu_workers, Context::CPU(), "cpu worker"),
      cpu_priority_(true, resolved.cpu_priority_workers, Context::CPU(), "cpu priority worker"),
      gpus_(static_cast<size_t>(GpuCount())) {
  for (auto& g : gpus_) g.store(nullptr, std::memory_order_relaxed);
  StartPool(&cpu_);
  StartPool(&cpu_priority_);
  MX_LOG(kInfo) << "engine: threaded, " << options_.ToString();
}

ThreadedEngine::~ThreadedEngine() {
  WaitPending();
  StopPool(&cpu_);
  StopPool(&cpu_priority_);
  for (auto& g : gpus_) {
    GpuPools* p = g.load(std::memory_order_acquire);
    if (p == nullptr) continue;
    StopPool(&p->compute);
    StopPool(&p->copy);
    delete p;
  }
}

int ThreadedEngine::WorkerCount(DeviceType type) const {
  switch (type) {
    case DeviceType::kCPU:
    case DeviceType::kCPUPinned:
      return options_.cpu_workers + options_.cpu_priority_workers;
    case DeviceType::kGPU:
      return gpus_.empty() ? 0 : options_.gpu_compute_workers + options_.gpu_copy_workers;
  }
  return 0;
}

// ---- Workers ------------------------------------------------------------------------------

void ThreadedEngine::StartPool(Pool* pool) {
  pool->queue.Reopen();
  for (int i = 0; i < pool->nthreads; ++i)
    pool->threads.emplace_back([this, pool, i] { WorkerLoop(pool, i); });
}

void ThreadedEngine::StopPool(Pool* pool) {
  pool->queue.Close();
  for (auto& t : pool->threads) t.join();
  pool->threads.clear();
}

void ThreadedEngine::WorkerLoop(Pool* pool, int index) {
  profiler::NameThisThread(pool->label + " " + std::to_string(index));
  GpuWorker gpu;
  if (pool->ctx.is_gpu()) {
    try {
      gpu = CreateGpuWorker(pool->ctx.dev_id, pool->gpu_compute);
    } catch (const std::exception& e) {
      // The worker stays up: its ops then fail with this error instead of hanging.
      MX_LOG(kError) << "engine: " << e.what();
    }
  } else {
#if MX_USE_OPENMP
    // Workers x OpenMP threads stay within the cores: oversubscription costs several times over.
    omp_set_num_threads(omp_threads_per_worker_);
#endif
  }
  while (OprBlock* block = pool->queue.Pop()) Execute(block, gpu);
  DestroyGpuWorker(gpu);
}

ThreadedEngine::GpuPools* ThreadedEngine::GetGpuPools(int dev) {
  GpuPools* p = gpus_[dev].load(std::memory_order_acquire);
  if (p != nullptr) return p;
  std::lock_guard<std::mutex> lock(gpu_mu_);
  p = gpus_[dev].load(std::memory_order_relaxed);
  if (p == nullptr) {
    p = new GpuPools(dev, options_.gpu_compute_workers, options_.gpu_copy_workers);
    StartPool(&p->compute);
    StartPool(&p->copy);
    gpus_[dev].store(p, std::memory_order_release);
  }
  return p;
}

// ---- Variables and operators -----------------------------------------------------------------

VarHandle ThreadedEngine::NewVar() {
  ThreadedVar* v = Vars()->Alloc();
  v->Reset();
  // Allocated once per pooled variable object, then kept: recycled variables do not allocate.
  if (v->gpu == nullptr) v->gpu = NewGpuVarState();
  v->magic.store(Var::kLiveMagic, std::memory_order_relaxed);
  return v;
}

void ThreadedEngine::DeleteVar(VarHandle var) {
  MX_CHECK(var != nullptr, kInvalidArgument) << "DeleteVar: var is NULL";
  Operator* op =
      NewTempOperator(Context::CPU(), nullptr, 0, &var, 1, FnProperty::kDeleteVar, "delete_var");
  op->sync_fn = [](RunContext) {};
  static_cast<ThreadedVar*>(var)->MarkDeleted();
  var->magic.store(0, std::memory_order_relaxed);
  PushBlock(op, Context::CPU(), 0);
}

void ThreadedEngine::CheckContext(Context ctx) const {
  if (ctx.is_gpu()) {
    MX_CHECK(ctx.dev_id >= 0 && ctx.dev_id < static_cast<int>(gpus_.size()), kInvalidArgument)
        << "engine push to " << ctx.ToString() << ", but this process has " << gpus_.size()
        << " usable GPU(s)";
  } else {
    MX_CHECK(ctx.dev_type == DeviceType::kCPU || ctx.dev_type == DeviceType::kCPUPinned,
             kInvalidArgument)
        << "engine push: unknown device type " << static_cast<int>(ctx.dev_type);
  }
}

Operator* ThreadedEngine::NewTempOperator(Context ctx, const VarHandle* read, int n_read,
                                          const VarHandle* write, int n_write, FnProperty prop,
                                          const char* name) {
  CheckContext(ctx);
  Operator* op = Operators()->Alloc();
  try {
    op->SetVars(read, n_read, write, n_write);
    for (Var* v : op->reads)
      MX_CHECK(!static_cast<ThreadedVar*>(v)->deleted(), kInvalidArgument)
          << "engine push" << (name ? std::string(" of '") + name + "'" : std::string())
          << ": a read variable was already deleted";
    for (Var* v : op->writes)
      MX_CHECK(!static_cast<ThreadedVar*>(v)->deleted(), kInvalidArgument)
          << "engine push" << (name ? std::string(" of '") + name + "'" : std::string())
          << ": a written variable was already deleted";
  } catch (...) {
    Operators()->Free(op);
    throw;
  }
  op->prop = prop;
  op->name = name;
  op->always_run = false;
  op->refs.store(1, std::memory_order_relaxed);  // the one run
  return op;
}

void ThreadedEngine::PushAsync(AsyncFn fn, Context ctx, const VarHandle* read, int n_read,
                               const VarHandle* write, int n_write, FnProperty prop, int priority,
                               const char* name) {
  MX_CHECK(static_cast<bool>(fn), kInvalidArgument) << "engine push: empty function";
  Operator* op = NewTempOperator(ctx, read, n_read, write, n_write, prop, name);
  op->async_fn = std::move(fn);
  PushBlock(op, ctx, priority);
}

void ThreadedEngine::PushSync(SyncFn fn, Context ctx, const VarHandle* read, int n_read,
                              const VarHandle* write, int n_write, FnProperty prop, int priority,
                              const char* name) {
  MX_CHECK(static_cast<bool>(fn), kInvalidArgument) << "engine push: empty function";
  Operator* op = NewTempOperator(ctx, read, n_read, write, n_write, prop, name);
  op->sync_fn = std::move(fn);
  PushBlock(op, ctx, priority);
}

OprHandle ThreadedEngine::NewOperator(AsyncFn fn, const VarHandle* read, int n_read,
                                      const VarHandle* write, int n_write, FnProperty prop,
                                      const char* name) {
  MX_CHECK(static_cast<bool>(fn), kInvalidArgument) << "NewOperator: empty function";
  Operator* op = NewTempOperator(Context::CPU(), read, n_read, write, n_write, prop, name);
  op->async_fn = std::move(fn);  // refs == 1: the owner's, dropped by DeleteOperator
  return op;
}

void ThreadedEngine::PushOperator(OprHandle op, Context ctx, int priority) {
  MX_CHECK(op != nullptr, kInvalidArgument) << "PushOperator: operator is NULL";
  CheckContext(ctx);
  op->refs.fetch_add(1, std::memory_order_relaxed);
  PushBlock(op, ctx, priority);
}

void ThreadedEngine::DeleteOperator(OprHandle op) {
  if (op != nullptr) ReleaseOperator(op);
}

void ThreadedEngine::ReleaseOperator(Operator* op) {
  if (op->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Captures are destroyed now, not when the object is reused: they may own large buffers.
  op->ClearFns();
  Operators()->Free(op);
}

// ---- Dependency tracking and dispatch ---------------------------------------------------------

void ThreadedEngine::PushBlock(Operator* op, Context ctx, int priority) {
  OprBlock* block = Blocks()->Alloc();
  block->op = op;
  block->ctx = ctx;
  block->priority = priority;
  block->stream = nullptr;
  block->engine = this;
  // Note [Profiler hot path]: with profiling off, this relaxed load is all a push pays. The
  // engine's own ops (deletions, WaitForVar's probe) are not user work and are not recorded.
  if (profiler::On() && !op->always_run && op->prop != FnProperty::kDeleteVar) {
    profiler::Span* span = Spans()->Alloc();
    span->push = profiler::Now();
    span->start = 0;
    block->prof = span;
  } else {
    block->prof = nullptr;
  }
  const int n = static_cast<int>(op->reads.size() + op->writes.size());
  block->wait.store(n + 1, std::memory_order_relaxed);
  pending_.fetch_add(1, std::memory_order_relaxed);
  int granted = 0;
  for (Var* v : op->reads) granted += static_cast<ThreadedVar*>(v)->AppendRead(block);
  for (Var* v : op->writes) granted += static_cast<ThreadedVar*>(v)->AppendWrite(block);
  // Drop the pusher's hold and the immediate grants at once: one atomic instead of n.
  if (block->wait.fetch_sub(granted + 1, std::memory_order_acq_rel) != granted + 1) return;
  // Note [Cheap ops run on the pusher]: a cheap op whose variables were all free is ready now, on
  // this thread. Running it here costs the function alone; a worker would first have to be woken
  // (a futex round trip of several microseconds on a busy machine). Its variables already hold it
  // exactly as a worker's op would, so ordering and errors are unchanged; the depth bound keeps a
  // function that itself pushes from recursing without end.
  if (op->prop == FnProperty::kCheap && !ctx.is_gpu() && tls_inline_depth < kMaxInlineDepth) {
    ++tls_inline_depth;
    Execute(block, GpuWorker{});
    --tls_inline_depth;
    return;
  }
  Dispatch(block);
}

void ThreadedEngine::Dispatch(OprBlock* block) {
  const Operator* op = block->op;
  const bool inline_op = op->always_run || op->prop == FnProperty::kAsync ||
                         op->prop == FnProperty::kCollective || op->prop == FnProperty::kDeleteVar;
  if (inline_op && tls_inline_depth < kMaxInlineDepth && !block->ctx.is_gpu()) {
    ++tls_inline_depth;
    Execute(block, GpuWorker{});
    --tls_inline_depth;
    return;
  }
  if (block->ctx.is_gpu()) {
    GpuPools* p = GetGpuPools(block->ctx.dev_id);
    const bool copy =
        op->prop == FnProperty::kCopyToDevice || op->prop == FnProperty::kCopyFromDevice;
    (copy ? p->copy : p->compute).queue.Push(block);
  } else if (op->prop == FnProperty::kCPUPrioritized && cpu_priority_.nthreads > 0) {
    cpu_priority_.queue.Push(block);
  } else {
    cpu_.queue.Push(block);
  }
}

void ThreadedEngine::Execute(OprBlock* block, const GpuWorker& gpu) {
  Operator* op = block->op;
  void* stream = gpu.stream;
  block->stream = stream;
  if (!op->always_run && op->prop != FnProperty::kCollective) {
    std::shared_ptr<ErrorRecord> inherited = op->InheritedError();
    if (inherited != nullptr) {
      Complete(block, std::move(inherited), false);
      return;
    }
  }
  const RunContext rctx{block->ctx, stream, gpu.blas_handle, gpu.dnn_handle};
  try {
    if (block->ctx.is_gpu()) {
      MX_CHECK(stream != nullptr, kFailed) << "no CUDA stream for " << block->ctx.ToString();
      StreamWaitForDeps(*op, stream);
    } else {
      HostWaitForDeps(*op);
    }
    if (block->prof != nullptr) {
      block->prof->start = profiler::Now();
      block->prof->tid = profiler::ThreadId();
    }
    if (op->sync_fn) {
      op->sync_fn(rctx);
    } else {
      // From here on the op completes through its callback, possibly already on another thread:
      // `block` must not be touched again. A function that throws must not have called it.
      op->async_fn(rctx, CallbackOnComplete(&ThreadedEngine::CompleteCallback, block));
      return;
    }
  } catch (...) {
    Complete(block, MakeErrorRecord(std::current_exception(), op->name), true);
    return;
  }
  Complete(block, nullptr, false);
}

void ThreadedEngine::CompleteCallback(void* param, std::exception_ptr error) {
  auto* block = static_cast<OprBlock*>(param);
  auto* engine = static_cast<ThreadedEngine*>(block->engine);
  if (error != nullptr) {
    engine->Complete(block, MakeErrorRecord(error, block->op->name), true);
  } else {
    engine->Complete(block, nullptr, false);
  }
}

void ThreadedEngine::Complete(OprBlock* block, std::shared_ptr<ErrorRecord> error, bool origin) {
  Operator* op = block->op;
  // The run ends here (for an async op, when its callback came), not after the bookkeeping below.
  profiler::Span* const prof = block->prof;
  const int64_t prof_end = prof != nullptr && prof->start != 0 ? profiler::Now() : 0;
  if (error == nullptr && op->prop == FnProperty::kCollective) {
    // It ran although an input was bad: its outputs are bad too (the error is not its own).
    error = op->InheritedError();
  }
  if (error == nullptr) {
    try {
      RecordCompletion(*op, block->ctx.is_gpu() ? block->stream : nullptr, block->ctx.dev_id);
    } catch (...) {
      error = MakeErrorRecord(std::current_exception(), op->name);
      origin = true;
    }
  }
  if (origin) errors_.Add(error);
  op->SetWriteErrors(error);
  error.reset();
  for (Var* v : op->reads) GrantAll(static_cast<ThreadedVar*>(v)->CompleteRead());
  const bool deleting = op->prop == FnProperty::kDeleteVar;
  for (Var* v : op->writes) {
    auto* tv = static_cast<ThreadedVar*>(v);
    bool free_now = false;
    GrantAll(tv->CompleteWrite(deleting, &free_now));
    if (free_now) {
      tv->Reset();
      ResetGpuVarState(tv->gpu);
      Vars()->Free(tv);
    }
  }
  // Recorded after the grants, so the ops waiting for this one do not wait for the profiler too,
  // and before the op (and the name it holds) is released.
  if (prof != nullptr) {
    if (prof_end != 0)
      profiler::Record(op->name, block->ctx, prof->tid, prof->push, prof->start, prof_end, origin);
    Spans()->Free(prof);
  }
  ReleaseOperator(op);
  Blocks()->Free(block);
  // Only when someone waits: small ops run on the pusher bring pending_ to zero after every op,
  // and a lock plus broadcast each time would cost more than the op. Both sides use seq_cst: a
  // waiter registers, then reads pending_; this side decrements, then reads waiters_. One of
  // them sees the other, so no wake-up is lost.
  if (pending_.fetch_sub(1) == 1 && waiters_.load() > 0) {
    // Taking the lock orders this notify after a waiter's check of pending_.
    std::lock_guard<std::mutex> lock(finish_mu_);
    finish_cv_.notify_all();
  }
}

void ThreadedEngine::GrantAll(VarEntry* granted) {
  while (granted != nullptr) {
    VarEntry* next = granted->next;
    OprBlock* block = granted->block;
    Entries()->Free(granted);
    if (block->DecrementWait()) Dispatch(block);
    granted = next;
  }
}

// ---- Waiting -------------------------------------------------------------------------------

void ThreadedEngine::WaitForVar(VarHandle var) {
  MX_CHECK(var != nullptr, kInvalidArgument) << "WaitForVar: var is NULL";
  // Nothing to wait for (the common case when reading a result the pusher's thread computed):
  // answered under the variable's lock, without a probe op's push and its wake-up.
  std::shared_ptr<ErrorRecord> done_error;
  if (static_cast<ThreadedVar*>(var)->WritesDone(&done_error)) {
    ThrowIfLive(done_error);
    return;
  }
  // A probe that reads `var` runs (inline, even if `var` carries an error) once every earlier
  // writer is done, and copies the error while it still holds the variable.
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::shared_ptr<ErrorRecord> error;
  } waiter;
  Operator* op =
      NewTempOperator(Context::CPU(), &var, 1, nullptr, 0, FnProperty::kNormal, "wait_for_var");
  op->always_run = true;
  op->sync_fn = [&waiter, var](RunContext) {
    std::lock_guard<std::mutex> lock(waiter.mu);
    waiter.error = var->error;
    waiter.done = true;
    waiter.cv.notify_all();  // under the lock: `waiter` dies as soon as the waiter sees `done`
  };
  PushBlock(op, Context::CPU(), 0);
  {
    std::unique_lock<std::mutex> lock(waiter.mu);
    waiter.cv.wait(lock, [&] { return waiter.done; });
  }
  ThrowIfLive(waiter.error);
}

void ThreadedEngine::WaitPending() {
  std::unique_lock<std::mutex> lock(finish_mu_);
  waiters_.fetch_add(1);
  finish_cv_.wait(lock, [&] { return pending_.load() == 0; });
  waiters_.fetch_sub(1);
}

void ThreadedEngine::WaitForAll() {
  WaitPending();
  errors_.ThrowFirstLive();
}

// ---- fork() ----------------------------------------------------------------------------------

void ThreadedEngine::StopForFork() {
  WaitPending();
  StopPool(&cpu_);
  StopPool(&cpu_priority_);
  for (auto& g : gpus_) {
    GpuPools* p = g.load(std::memory_order_acquire);
    if (p == nullptr) continue;
    StopPool(&p->compute);
    StopPool(&p->copy);
  }
  // No thread may hold a pool's shared lock across fork().
  Blocks()->LockForFork();
  Operators()->LockForFork();
  Vars()->LockForFork();
  Entries()->LockForFork();
  Spans()->LockForFork();
}

void ThreadedEngine::ResumeAfterFork(bool in_child) {
  Spans()->UnlockAfterFork();
  Entries()->UnlockAfterFork();
  Vars()->UnlockAfterFork();
  Operators()->UnlockAfterFork();
  Blocks()->UnlockAfterFork();
  StartPool(&cpu_);
  StartPool(&cpu_priority_);
  for (auto& g : gpus_) {
    GpuPools* p = g.load(std::memory_order_acquire);
    if (p == nullptr) continue;
    if (in_child) {
      // CUDA does not survive fork(): the child's GPU pools are abandoned, not restarted (its
      // GPU pushes fail with the CUDA error instead of touching the parent's streams).
      g.store(nullptr, std::memory_order_release);
      continue;
    }
    StartPool(&p->compute);
    StartPool(&p->copy);
  }
}

}  // namespace engine
}  // namespace mx
