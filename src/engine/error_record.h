// How a failure inside an engine op travels to the caller who waits.
//
// An op that throws leaves an ErrorRecord (code plus "error in op '<name>': <message>") on every
// variable it writes. Ops that touch such a variable are skipped and pass the same record on, so a
// whole chain of downstream work reports one error, once: the first WaitForVar on any of those
// variables (or WaitForAll) marks the record reported and throws it. A reported record no longer
// blocks anything, and the next successful write of a variable clears it.
#ifndef MX_ENGINE_ERROR_RECORD_H_
#define MX_ENGINE_ERROR_RECORD_H_

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"

namespace mx {
namespace engine {

struct ErrorRecord {
  ErrorCode code = ErrorCode::kFailed;
  std::string message;
  std::atomic<bool> reported{false};
};

// Live: not yet reported, so it still poisons the ops that touch its variable.
inline bool IsLive(const std::shared_ptr<ErrorRecord>& e) {
  return e != nullptr && !e->reported.load(std::memory_order_acquire);
}

// Builds the record for `error` thrown by op `name` (nullptr: unnamed). mx::Error keeps its code,
// std::bad_alloc becomes kOutOfMemory, anything else kFailed. Never throws.
std::shared_ptr<ErrorRecord> MakeErrorRecord(std::exception_ptr error, const char* name) noexcept;

// Throws `e` as mx::Error unless another waiter reported it first.
void ThrowIfLive(const std::shared_ptr<ErrorRecord>& e);

// The records of failed ops not yet reported, for WaitForAll. Touched only when an op fails and
// when WaitForAll runs, so a mutex is fine.
class ErrorLog {
 public:
  void Add(std::shared_ptr<ErrorRecord> e);
  // Marks every logged record reported; throws the first one that was still live, mentioning how
  // many more failed.
  void ThrowFirstLive();

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<ErrorRecord>> records_;
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_ERROR_RECORD_H_
