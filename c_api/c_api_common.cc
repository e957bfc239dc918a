#include "c_api/c_api_common.h"

#include <dmlc/logging.h>
#include <dmlc/parameter.h>

#include <exception>
#include <new>

namespace mx {
namespace capi {
namespace {

static_assert(static_cast<int>(ErrorCode::kInvalidArgument) == MX_ERR_INVALID_ARGUMENT, "");
static_assert(static_cast<int>(ErrorCode::kOutOfMemory) == MX_ERR_OUT_OF_MEMORY, "");
static_assert(static_cast<int>(ErrorCode::kNotFound) == MX_ERR_NOT_FOUND, "");
static_assert(static_cast<int>(ErrorCode::kIO) == MX_ERR_IO, "");
static_assert(static_cast<int>(ErrorCode::kUnsupported) == MX_ERR_UNSUPPORTED, "");
static_assert(static_cast<int>(ErrorCode::kInternal) == MX_ERR_INTERNAL, "");
static_assert(static_cast<int>(ErrorCode::kFailed) == MX_ERR_FAILED, "");

// Each thread owns its message: an error on one thread never changes what another one reads.
thread_local std::string tls_last_error;

// dmlc's fatal messages start with "[hh:mm:ss] file:line: ". The time is noise for a user; the
// place is kept because a failed CHECK is worth reporting with it.
std::string StripDmlcTimestamp(const std::string& msg) {
  if (msg.size() > 11 && msg[0] == '[' && msg[9] == ']' && msg[10] == ' ') return msg.substr(11);
  return msg;
}

}  // namespace

void SetLastError(const std::string& message) noexcept {
  try {
    tls_last_error = message;
  } catch (...) {
    // Out of memory while storing the message: keep a fixed one rather than fail.
    tls_last_error.clear();
  }
}

mx_status_t HandleCurrentException() noexcept {
  try {
    throw;
  } catch (const Error& e) {
    SetLastError(e.what());
    return static_cast<mx_status_t>(e.code());
  } catch (const dmlc::ParamError& e) {
    SetLastError(e.what());
    return MX_ERR_INVALID_ARGUMENT;
  } catch (const dmlc::Error& e) {
    SetLastError(StripDmlcTimestamp(e.what()));
    return MX_ERR_FAILED;
  } catch (const std::bad_alloc&) {
    SetLastError("out of memory (std::bad_alloc)");
    return MX_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    SetLastError(e.what());
    return MX_ERR_FAILED;
  } catch (...) {
    SetLastError("unknown exception");
    return MX_ERR_FAILED;
  }
}

}  // namespace capi
}  // namespace mx

extern "C" MX_API const char* mx_get_last_error(void) { return mx::capi::tls_last_error.c_str(); }
