// Per-variable dependency tracking for the threaded engine.
//
// Each variable keeps, under its own small lock (a SpinLock: held for a few instructions), how many
// reads are running, whether a write is running, and a FIFO of the ops still waiting for it. An op
// asks each of its variables for access when pushed; a variable either grants it at once or queues
// it. Each grant decrements the op's wait counter (an atomic in its OprBlock); the op is dispatched
// when the counter reaches zero. Completing a read or a write grants the next ops in the queue:
// every read up to the next write (they run together), or that write once no read is running.
//
// There is no global lock: pushes on unrelated variables never touch the same lock.
#ifndef MX_ENGINE_THREADED_VAR_H_
#define MX_ENGINE_THREADED_VAR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "engine/engine.h"
#include "engine/operator.h"
#include "engine/spin_lock.h"

namespace mx {
namespace engine {

struct GpuVarState;  // GPU events of the last writer and readers (gpu_sync.h)
namespace profiler {
struct Span;  // a profiled push's clock readings (profiler.h)
}

// One push of an Operator: what the engine queues and dispatches.
struct OprBlock {
  Operator* op = nullptr;
  Context ctx;
  int priority = 0;
  // Grants still missing, plus one held by the pusher until every variable has been asked, so the
  // op cannot start (and be freed) while Push is still walking its lists.
  std::atomic<int> wait{0};
  // For GPU ops: the stream the op ran on, so completion can record its event there.
  void* stream = nullptr;
  Engine* engine = nullptr;  // the ThreadedEngine that completes it (CallbackOnComplete's target)
  OprBlock* next = nullptr;  // intrusive link in a worker queue
  uint64_t seq = 0;          // set by a priority queue: push order breaks priority ties
  // While the block sits in a pool's free list: the list's link. While it is live: its profiler
  // record, or nullptr when the push is not profiled (PushBlock sets it before any read). One
  // field for both keeps the block at 64 bytes, one cache line: three more fields made it 88, and
  // every push paid for it even with the profiler off (Note [Profiler hot path]).
  union {
    OprBlock* pool_next = nullptr;
    profiler::Span* prof;
  };

  // True when this grant was the last one missing.
  bool DecrementWait() { return wait.fetch_sub(1, std::memory_order_acq_rel) == 1; }
};
static_assert(sizeof(OprBlock) <= 64, "an OprBlock fits one cache line");

// A waiting op in a variable's queue.
struct VarEntry {
  OprBlock* block = nullptr;
  bool write = false;
  VarEntry* next = nullptr;
  VarEntry* pool_next = nullptr;
};

class ThreadedVar : public Var {
 public:
  ThreadedVar();
  ThreadedVar* pool_next = nullptr;
  // Created with the variable when GPUs exist; see gpu_sync.h.
  GpuVarState* gpu = nullptr;

  void Reset() {
    error.reset();
    deleted_.store(false, std::memory_order_relaxed);
  }

  // Returns true if the access is granted now; otherwise the op is queued and will be granted by
  // a later Complete*.
  bool AppendRead(OprBlock* block);
  bool AppendWrite(OprBlock* block);
  // True when no write is running or queued, so every write pushed before has completed (GPU
  // writes included: false while the last writer's CUDA event is pending); then *error is the
  // variable's error, read under the lock (a writer sets it while it runs).
  bool WritesDone(std::shared_ptr<ErrorRecord>* error);

  // Returns the chain (linked by `next`) of queue entries granted by this completion; the caller
  // decrements their blocks' wait counters and frees the entries.
  VarEntry* CompleteRead();
  // As CompleteRead. `deleting` marks the op as this variable's delete: returns true in
  // *free_now when the variable may go back to the pool.
  VarEntry* CompleteWrite(bool deleting, bool* free_now);

  // Marked after DeleteVar; pushing on it afterwards is a caller bug that is reported, not a
  // crash.
  bool deleted() const { return deleted_.load(std::memory_order_relaxed); }
  void MarkDeleted() { deleted_.store(true, std::memory_order_relaxed); }

 private:
  VarEntry* GrantFromHead();

  SpinLock mu_;
  VarEntry* head_ = nullptr;
  VarEntry* tail_ = nullptr;
  int running_reads_ = 0;
  bool running_write_ = false;
  std::atomic<bool> deleted_{false};
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_THREADED_VAR_H_
