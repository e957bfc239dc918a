#include "engine/error_record.h"

#include <new>

namespace mx {
namespace engine {

std::shared_ptr<ErrorRecord> MakeErrorRecord(std::exception_ptr error, const char* name) noexcept {
  ErrorCode code = ErrorCode::kFailed;
  const char* what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    code = e.code();
    what = e.what();
  } catch (const std::bad_alloc&) {
    code = ErrorCode::kOutOfMemory;
    what = "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  // The message is built while the exception object is still alive (`what` points into it).
  try {
    auto record = std::make_shared<ErrorRecord>();
    record->code = code;
    record->message =
        std::string("error in op '") + (name != nullptr ? name : "<unnamed>") + "': " + what;
    return record;
  } catch (...) {
    // No memory for the message either: a static record still stops dependents and reports.
    static ErrorRecord* const fallback = [] {
      auto* r = new ErrorRecord;  // leaked on purpose: never destroyed at exit
      r->code = ErrorCode::kOutOfMemory;
      r->message = "error in op: out of memory while recording an op failure";
      return r;
    }();
    fallback->reported.store(false, std::memory_order_release);
    return std::shared_ptr<ErrorRecord>(fallback, [](ErrorRecord*) {});
  }
}

void ThrowIfLive(const std::shared_ptr<ErrorRecord>& e) {
  if (e != nullptr && !e->reported.exchange(true, std::memory_order_acq_rel)) {
    throw Error(e->code, e->message);
  }
}

void ErrorLog::Add(std::shared_ptr<ErrorRecord> e) {
  std::lock_guard<std::mutex> lock(mu_);
  // Records already reported through WaitForVar need not wait for a WaitForAll to be dropped.
  if (records_.size() >= 64) {
    std::vector<std::shared_ptr<ErrorRecord>> live;
    for (auto& r : records_)
      if (IsLive(r)) live.push_back(std::move(r));
    records_.swap(live);
  }
  records_.push_back(std::move(e));
}

void ErrorLog::ThrowFirstLive() {
  std::vector<std::shared_ptr<ErrorRecord>> records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    records.swap(records_);
  }
  std::shared_ptr<ErrorRecord> first;
  int more = 0;
  for (auto& r : records) {
    if (r->reported.exchange(true, std::memory_order_acq_rel)) continue;
    if (first == nullptr) {
      first = r;
    } else {
      ++more;
    }
  }
  if (first == nullptr) return;
  if (more == 0) throw Error(first->code, first->message);
  throw Error(first->code, first->message + " (and " + std::to_string(more) + " more failed op" +
                               (more == 1 ? "" : "s") + ")");
}

}  // namespace engine
}  // namespace mx
