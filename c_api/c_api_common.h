// The boundary between the C ABI and the C++ core.
//
// Every exported function body runs inside mx::capi::Guard, which converts any exception
// (mx::Error, dmlc::Error from CHECK and parameter parsing, std::bad_alloc, anything else) into a
// status code and this thread's last-error message. Nothing thrown ever crosses into C.
//
//   MX_API mx_status_t mx_dtype_size(int32_t dtype, size_t* out_size) {
//     return mx::capi::Guard([&] {
//       mx::capi::CheckOut(out_size, "out_size");
//       *out_size = mx::DTypeSize(mx::CheckedDType(dtype));
//     });
//   }
#ifndef MX_C_API_C_API_COMMON_H_
#define MX_C_API_C_API_COMMON_H_

#include <string>

#include "base/error.h"
#include "mx/c_api.h"

namespace mx {
namespace capi {

// Converts the exception being handled into a status and records its message for this thread.
// Call only from inside a catch block.
mx_status_t HandleCurrentException() noexcept;

// Records `message` as this thread's last error.
void SetLastError(const std::string& message) noexcept;

template <typename F>
mx_status_t Guard(F&& body) noexcept {
  try {
    body();
    return MX_OK;
  } catch (...) {
    return HandleCurrentException();
  }
}

// Rejects a NULL pointer argument, naming it.
inline void CheckArg(const void* ptr, const char* name) {
  MX_CHECK(ptr != nullptr, kInvalidArgument) << "argument '" << name << "' must not be NULL";
}
inline void CheckOut(const void* ptr, const char* name) { CheckArg(ptr, name); }

}  // namespace capi
}  // namespace mx

#endif  // MX_C_API_C_API_COMMON_H_
