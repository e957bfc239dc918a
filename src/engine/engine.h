// The dependency engine: everything lazy in libmx runs through it.
//
// A caller creates variables (tokens standing for data, e.g. one per NDArray chunk) and pushes
// functions together with the variables they read and the variables they write. The engine runs a
// function once every earlier function that writes a variable it reads, and every earlier function
// that reads or writes a variable it writes, has completed. Reads of one variable run concurrently;
// writes are exclusive and run in push order. A variable in both lists counts as a write.
//
//   Engine* engine = Engine::Get();
//   VarHandle a = engine->NewVar(), b = engine->NewVar();
//   engine->PushSync([&](RunContext) { x = 1; }, Context::CPU(), nullptr, 0, &a, 1);
//   engine->PushSync([&](RunContext) { y = x + 1; }, Context::CPU(), &a, 1, &b, 1);
//   engine->WaitForVar(b);  // y == 2; rethrows an error of either function
//   engine->DeleteVar(a);
//   engine->DeleteVar(b);
//
// Two implementations sit behind this interface: "threaded" (per-device worker pools, the default)
// and "naive" (runs every function synchronously on the pusher, for debugging). An exception inside
// a function never escapes a worker: it is stored on the variables the function writes and
// rethrown by the next WaitForVar/WaitForAll on them (see docs/design/engine.md).
#ifndef MX_ENGINE_ENGINE_H_
#define MX_ENGINE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "base/context.h"
#include "engine/inline_function.h"

namespace mx {
namespace engine {

// How and where a function runs.
enum class FnProperty : int {
  kNormal = 0,          // compute on the context's workers
  kCopyToDevice = 1,    // host-to-device copy: a GPU's copy workers (own streams)
  kCopyFromDevice = 2,  // device-to-host copy: a GPU's copy workers (own streams)
  kCPUPrioritized = 3,  // CPU work that should overtake the FIFO pool (e.g. parameter updates)
  kAsync = 4,           // launches work and completes later on its own thread via the callback
  kDeleteVar = 5,       // internal: frees variables once everything before it is done
  // As kAsync, but runs even when a variable it touches carries an error: a collective between
  // processes (src/kvstore) must take its turn on every worker, or the others wait for it. The
  // error still passes on to the variables it writes, as if it had been skipped.
  kCollective = 6,
  // As kNormal for a cheap CPU function (a small op): when every variable it touches is free at
  // push time (nothing pending writes what it reads, nothing pending at all on what it writes), it
  // runs at once on the pushing thread, skipping the hand-off to a worker, which costs more than
  // the function. Otherwise it waits for its variables and runs on the workers like kNormal.
  // Either way the variables and errors end up exactly as if it had gone to a worker.
  kCheap = 7,
};

// What a running function may use. Filled by the worker that runs it.
struct RunContext {
  Context ctx;
  // The worker's cudaStream_t for GPU functions, nullptr on the CPU.
  void* stream = nullptr;
  // Per-stream library handles (cublasHandle_t, cudnnHandle_t), owned by the worker; filled in by
  // the GPU layer once it exists, nullptr until then.
  void* blas_handle = nullptr;
  void* dnn_handle = nullptr;
};

// Tells the engine an asynchronous function is done. Call exactly once, from any thread,
// optionally with the error that made it fail.
class CallbackOnComplete {
 public:
  using Fn = void (*)(void* param, std::exception_ptr error);
  CallbackOnComplete(Fn fn, void* param) : fn_(fn), param_(param) {}
  void operator()() const { fn_(param_, nullptr); }
  void operator()(std::exception_ptr error) const { fn_(param_, std::move(error)); }

 private:
  Fn fn_;
  void* param_;
};

// Captures up to this many bytes stay inside the function object (no allocation per push).
constexpr size_t kFnInlineBytes = 96;
using AsyncFn = InlineFunction<void(RunContext, CallbackOnComplete), kFnInlineBytes>;
using SyncFn = InlineFunction<void(RunContext), kFnInlineBytes>;

// The error an op left on the variables it wrote. Shared by every variable it reached (directly or
// through ops that were skipped because of it), so waiting on any of them reports it once.
struct ErrorRecord;

// A variable. Engines extend it; callers only hold the pointer.
class Var {
 public:
  // Set while the op that last wrote this variable (or one it depended on) failed. Read and written
  // only by the op holding this variable (ordering comes from the dependency tracking itself).
  std::shared_ptr<ErrorRecord> error;
  // kLiveMagic from NewVar until DeleteVar: lets the C ABI reject a freed or foreign handle.
  static constexpr uint32_t kLiveMagic = 0x6d785672;  // "mxVr"
  std::atomic<uint32_t> magic{0};
  bool IsLive() const { return magic.load(std::memory_order_relaxed) == kLiveMagic; }

 protected:
  Var() = default;
  ~Var() = default;
};
using VarHandle = Var*;

// A pre-built operator (read/write sets fixed at creation), pushed many times without allocating.
class Operator;
using OprHandle = Operator*;

enum class EngineType : int { kDefault = 0, kNaive = 1, kThreaded = 2 };

// Engine configuration. Zero / kDefault fields take the environment's value, then the built-in
// default: MX_ENGINE_TYPE (naive|threaded; threaded), MX_CPU_WORKER_NTHREADS (1),
// MX_CPU_PRIORITY_NTHREADS (1), MX_GPU_WORKER_NTHREADS (2), MX_GPU_COPY_NTHREADS (1).
struct EngineOptions {
  EngineType type = EngineType::kDefault;
  int cpu_workers = 0;
  int cpu_priority_workers = 0;
  int gpu_compute_workers = 0;
  int gpu_copy_workers = 0;

  // Every field filled in from the environment and defaults; throws on a malformed variable.
  EngineOptions Resolved() const;
  bool operator==(const EngineOptions& o) const;
  std::string ToString() const;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // The process-wide engine, started with the environment's configuration on first use.
  static Engine* Get();
  // Starts the engine with `options` (resolved against the environment). Throws if an engine with
  // different options is already running. Returns the running engine.
  static Engine* Start(const EngineOptions& options);
  // Waits for all pending work (errors are dropped), stops the workers and destroys the engine; the
  // next Get() starts a new one. Variables and operators of the old engine become invalid.
  static void Shutdown();
  // The running engine or nullptr, without starting one.
  static Engine* Peek();

  virtual const char* Name() const = 0;
  virtual const EngineOptions& Options() const = 0;
  // Worker threads for `type` (CPU counts FIFO plus priority workers; GPU counts one device's
  // compute plus copy workers); 0 for the naive engine.
  virtual int WorkerCount(DeviceType type) const = 0;

  virtual VarHandle NewVar() = 0;
  // Frees `var` once every function pushed on it so far has run. Do not push on it afterwards.
  virtual void DeleteVar(VarHandle var) = 0;

  // Pushes `fn`, which must call its CallbackOnComplete exactly once. `name` (may be nullptr) must
  // outlive the op: pass a literal or a string the caller keeps. Never blocks on dependencies.
  virtual void PushAsync(AsyncFn fn, Context ctx, const VarHandle* read, int n_read,
                         const VarHandle* write, int n_write, FnProperty prop = FnProperty::kNormal,
                         int priority = 0, const char* name = nullptr) = 0;
  // As PushAsync for a function that is complete when it returns.
  virtual void PushSync(SyncFn fn, Context ctx, const VarHandle* read, int n_read,
                        const VarHandle* write, int n_write, FnProperty prop = FnProperty::kNormal,
                        int priority = 0, const char* name = nullptr) = 0;

  // Builds an operator once (e.g. at executor bind time); PushOperator then only enqueues it.
  virtual OprHandle NewOperator(AsyncFn fn, const VarHandle* read, int n_read,
                                const VarHandle* write, int n_write,
                                FnProperty prop = FnProperty::kNormal,
                                const char* name = nullptr) = 0;
  virtual void PushOperator(OprHandle op, Context ctx, int priority = 0) = 0;
  // Frees `op` once its pushed instances have run.
  virtual void DeleteOperator(OprHandle op) = 0;

  // Blocks until every function pushed so far that writes `var` has completed. Rethrows (once)
  // the error carried by `var`, as mx::Error naming the op that failed. Neither wait may be called
  // from inside a pushed function (it would wait for itself).
  virtual void WaitForVar(VarHandle var) = 0;
  // Blocks until all pushed functions have completed, then rethrows the first error not yet
  // reported (all pending errors count as reported afterwards).
  virtual void WaitForAll() = 0;

  // Quiesces before fork(): waits for pending work and joins worker threads. Resume restarts them
  // (in the parent, and as a fresh pool in the child).
  virtual void StopForFork() = 0;
  virtual void ResumeAfterFork(bool in_child) = 0;
};

// The most elements (of any type; inputs and outputs together) a function of libmx's own may touch
// and still be pushed as FnProperty::kCheap: imperative ops (Op::SetWork counts multiply-adds for
// GEMMs and convolutions), host copies, fills. MX_INLINE_OP_ELEMENTS, default 16384 (64 KiB of
// float32, a few microseconds of work at most); 0 sends everything to the workers. Read once;
// throws on a malformed value.
int64_t CheapWorkLimit();

// kCheap for CPU work of at most CheapWorkLimit() elements, else kNormal.
inline FnProperty CpuWorkProperty(int64_t elements) {
  return elements <= CheapWorkLimit() ? FnProperty::kCheap : FnProperty::kNormal;
}

// Shorthand for the common synchronous CPU push.
inline void PushCPU(SyncFn fn, const VarHandle* read, int n_read, const VarHandle* write,
                    int n_write, const char* name = nullptr) {
  Engine::Get()->PushSync(std::move(fn), Context::CPU(), read, n_read, write, n_write,
                          FnProperty::kNormal, 0, name);
}

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_ENGINE_H_
