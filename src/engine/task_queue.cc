#include "engine/task_queue.h"

#include <algorithm>
#include <thread>

namespace mx {
namespace engine {
namespace {

// Lower priority sinks; equal priorities keep push order.
bool RunsLater(const OprBlock* a, const OprBlock* b) {
  return a->priority != b->priority ? a->priority < b->priority : a->seq > b->seq;
}

// Polls before sleeping: long enough to catch the next op of a busy pipeline, short enough not to
// steal a core from the pusher on this 2-core machine for long.
constexpr int kSpinPolls = 2000;

}  // namespace

TaskQueue::TaskQueue(bool by_priority) : by_priority_(by_priority) {
  if (by_priority_) heap_.reserve(1024);
}

bool TaskQueue::EmptyLocked() const { return by_priority_ ? heap_.empty() : head_ == nullptr; }

void TaskQueue::Push(OprBlock* block) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (by_priority_) {
      block->seq = next_seq_++;
      heap_.push_back(block);
      std::push_heap(heap_.begin(), heap_.end(), RunsLater);
    } else {
      block->next = nullptr;
      (tail_ != nullptr ? tail_->next : head_) = block;
      tail_ = block;
    }
    size_.fetch_add(1, std::memory_order_relaxed);
    wake = sleepers_ > 0;
  }
  if (wake) cv_.notify_one();
}

OprBlock* TaskQueue::TryPopLocked() {
  if (EmptyLocked()) return nullptr;
  OprBlock* block;
  if (by_priority_) {
    std::pop_heap(heap_.begin(), heap_.end(), RunsLater);
    block = heap_.back();
    heap_.pop_back();
  } else {
    block = head_;
    head_ = block->next;
    if (head_ == nullptr) tail_ = nullptr;
  }
  size_.fetch_sub(1, std::memory_order_relaxed);
  return block;
}

OprBlock* TaskQueue::Pop() {
  for (int i = 0; i < kSpinPolls && size_.load(std::memory_order_relaxed) == 0; ++i) {
    if (i % 64 == 63) std::this_thread::yield();
  }
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (OprBlock* block = TryPopLocked()) return block;
    if (closed_) return nullptr;
    ++sleepers_;
    cv_.wait(lock);
    --sleepers_;
  }
}

void TaskQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void TaskQueue::Reopen() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = false;
}

}  // namespace engine
}  // namespace mx
