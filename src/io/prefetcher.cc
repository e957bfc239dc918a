#include "io/prefetcher.h"

#include <utility>

#include "base/error.h"

namespace mx {
namespace io {

Prefetcher::Prefetcher(int num_slots, FillFn fill, bool threaded)
    : fill_(std::move(fill)), threaded_(threaded) {
  MX_CHECK(num_slots >= (threaded ? 2 : 1), kInternal)
      << "prefetcher: " << num_slots << " slots is too few";
  for (int s = num_slots - 1; s >= 0; --s) free_.push_back(s);
  if (threaded_) thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  if (!threaded_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Prefetcher::Start(const std::function<int64_t()>& plan) {
  std::unique_lock<std::mutex> lock(mu_);
  pausing_ = true;
  cv_.wait(lock, [this] { return !filling_; });
  for (const Ready& r : ready_) free_.push_back(r.slot);
  ready_.clear();
  if (current_ >= 0) free_.push_back(current_);
  current_ = -1;
  pausing_ = false;
  produced_ = consumed_ = 0;
  num_batches_ = 0;  // stays 0 (an empty epoch) if plan throws
  num_batches_ = plan();
  lock.unlock();
  cv_.notify_all();
}

int Prefetcher::Next() {
  if (!threaded_) {
    // One slot is enough: the consumer's previous batch is refilled in place.
    if (consumed_ == num_batches_) return -1;
    const int64_t batch = consumed_++;
    fill_(0, batch);
    return 0;
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (current_ >= 0) {
    free_.push_back(current_);
    current_ = -1;
    cv_.notify_all();
  }
  if (consumed_ == num_batches_) return -1;
  cv_.wait(lock, [this] { return !ready_.empty(); });
  Ready r = ready_.front();
  ready_.pop_front();
  ++consumed_;
  if (r.error) {
    free_.push_back(r.slot);
    lock.unlock();
    cv_.notify_all();
    std::rethrow_exception(r.error);
  }
  current_ = r.slot;
  return current_;
}

void Prefetcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock,
             [this] { return stop_ || (!pausing_ && !free_.empty() && produced_ < num_batches_); });
    if (stop_) return;
    const int slot = free_.back();
    free_.pop_back();
    const int64_t batch = produced_++;
    filling_ = true;
    lock.unlock();
    std::exception_ptr error;
    try {
      fill_(slot, batch);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    filling_ = false;
    ready_.push_back(Ready{slot, std::move(error)});
    cv_.notify_all();
  }
}

}  // namespace io
}  // namespace mx
