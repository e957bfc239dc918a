#include "engine/threaded_var.h"

#include "engine/gpu_sync.h"
#include "engine/object_pool.h"

namespace mx {
namespace engine {

ThreadedVar::ThreadedVar() = default;

bool ThreadedVar::AppendRead(OprBlock* block) {
  std::lock_guard<SpinLock> lock(mu_);
  // A read may join running reads only if no write is running or queued before it.
  if (!running_write_ && head_ == nullptr) {
    ++running_reads_;
    return true;
  }
  VarEntry* e = ObjectPool<VarEntry>::Global()->Alloc();
  e->block = block;
  e->write = false;
  e->next = nullptr;
  (tail_ != nullptr ? tail_->next : head_) = e;
  tail_ = e;
  return false;
}

bool ThreadedVar::WritesDone(std::shared_ptr<ErrorRecord>* error) {
  std::lock_guard<SpinLock> lock(mu_);
  // A GPU writer's kernels may still run: the probe op waits for its event.
  if (running_write_ || head_ != nullptr || HasGpuWriter(gpu)) return false;
  *error = this->error;
  return true;
}

bool ThreadedVar::AppendWrite(OprBlock* block) {
  std::lock_guard<SpinLock> lock(mu_);
  if (!running_write_ && running_reads_ == 0 && head_ == nullptr) {
    running_write_ = true;
    return true;
  }
  VarEntry* e = ObjectPool<VarEntry>::Global()->Alloc();
  e->block = block;
  e->write = true;
  e->next = nullptr;
  (tail_ != nullptr ? tail_->next : head_) = e;
  tail_ = e;
  return false;
}

// Called with mu_ held and nothing running: grants the reads at the head of the queue, or its
// first write when it comes first.
VarEntry* ThreadedVar::GrantFromHead() {
  if (head_ == nullptr) return nullptr;
  VarEntry* first = head_;
  if (head_->write) {
    running_write_ = true;
    head_ = head_->next;
    first->next = nullptr;
  } else {
    VarEntry* last = head_;
    ++running_reads_;
    while (last->next != nullptr && !last->next->write) {
      last = last->next;
      ++running_reads_;
    }
    head_ = last->next;
    last->next = nullptr;
  }
  if (head_ == nullptr) tail_ = nullptr;
  return first;
}

VarEntry* ThreadedVar::CompleteRead() {
  std::lock_guard<SpinLock> lock(mu_);
  // Queued entries behind running reads always start with a write (reads would have joined).
  if (--running_reads_ > 0) return nullptr;
  return GrantFromHead();
}

VarEntry* ThreadedVar::CompleteWrite(bool deleting, bool* free_now) {
  std::lock_guard<SpinLock> lock(mu_);
  running_write_ = false;
  if (deleting) {
    // Nothing should be queued after a delete; if a caller pushed anyway, keep the variable alive
    // (leaked) so those ops still run on valid memory.
    *free_now = head_ == nullptr;
    if (!*free_now) deleted_.store(false, std::memory_order_relaxed);
  }
  return GrantFromHead();
}

}  // namespace engine
}  // namespace mx
