// The queue a pool of workers takes ops from: FIFO, or highest priority first (ties in push
// order) for the CPU priority lane.
//
// One mutex per queue (per device and kind), never a global one. A worker that finds the queue
// empty spins briefly before sleeping on the condition variable: on a busy engine the next op
// usually arrives within microseconds, and a futex sleep/wake round trip costs more than the op.
#ifndef MX_ENGINE_TASK_QUEUE_H_
#define MX_ENGINE_TASK_QUEUE_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "engine/threaded_var.h"

namespace mx {
namespace engine {

class TaskQueue {
 public:
  explicit TaskQueue(bool by_priority);

  void Push(OprBlock* block);
  // Blocks until an op is available; nullptr once Close() was called and the queue is empty.
  OprBlock* Pop();
  // Wakes every waiting worker so they can exit once the queue drains.
  void Close();
  void Reopen();

 private:
  OprBlock* TryPopLocked();
  bool EmptyLocked() const;

  const bool by_priority_;
  std::mutex mu_;
  std::condition_variable cv_;
  OprBlock* head_ = nullptr;  // FIFO queue (intrusive through OprBlock::next)
  OprBlock* tail_ = nullptr;
  std::vector<OprBlock*> heap_;  // priority queue; capacity is kept, so pushes do not allocate
  uint64_t next_seq_ = 0;
  int sleepers_ = 0;
  bool closed_ = false;
  std::atomic<int> size_{0};  // lets a spinning worker look without taking the lock
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_TASK_QUEUE_H_
