#include "kvstore/worker_group.h"

#include <condition_variable>
#include <mutex>
#include <utility>

namespace mx {
namespace kvstore {

void WorkerGroup::RunNow(Collective c) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::exception_ptr error;
  Run(Reserve(), std::move(c), [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mu);
    error = std::move(e);
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  if (error != nullptr) std::rethrow_exception(error);
}

}  // namespace kvstore
}  // namespace mx
