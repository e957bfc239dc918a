// Errors meant for users.
//
// Everything in libmx reports failure by throwing mx::Error (or, from dmlc-core's CHECK macros and
// parameter parser, dmlc::Error). The C ABI's entry wrapper (c_api/c_api_common.h) turns any
// exception into a status code plus a thread-local message, so a message should name what was
// wrong in the user's terms: the op or node, the argument, expected versus given.
//
//   MX_THROW(kInvalidArgument) << "FullyConnected: data must be 2-D, got " << shape;
//   MX_CHECK(ndim <= kMaxNDim, kInvalidArgument) << "too many dimensions: " << ndim;
#ifndef MX_BASE_ERROR_H_
#define MX_BASE_ERROR_H_

#include <sstream>
#include <stdexcept>
#include <string>

namespace mx {

// Mirrors the MX_ERR_* codes of include/mx/c_types.h (static_asserts in c_api/ keep them equal).
enum class ErrorCode : int {
  kInvalidArgument = 1,
  kOutOfMemory = 2,
  kNotFound = 3,
  kIO = 4,
  kUnsupported = 5,
  kInternal = 6,
  kFailed = 7,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

namespace impl {

// Collects a message with operator<<; MX_THROW hands it to Thrower's operator&, which throws.
// operator& binds looser than <<, so the whole message is streamed first, and being [[noreturn]]
// it tells the compiler that code after MX_THROW is unreachable.
class ErrorBuilder {
 public:
  explicit ErrorBuilder(ErrorCode code) : code_(code) {}
  ErrorBuilder(const ErrorBuilder&) = delete;
  ErrorBuilder& operator=(const ErrorBuilder&) = delete;

  template <typename T>
  ErrorBuilder& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }
  ErrorCode code() const { return code_; }
  std::string message() const { return stream_.str(); }

 private:
  ErrorCode code_;
  std::ostringstream stream_;
};

struct Thrower {
  [[noreturn]] void operator&(const ErrorBuilder& builder) const {
    throw Error(builder.code(), builder.message());
  }
};

}  // namespace impl
}  // namespace mx

// Throws mx::Error with code ErrorCode::<code> and the streamed message.
#define MX_THROW(code) ::mx::impl::Thrower() & ::mx::impl::ErrorBuilder(::mx::ErrorCode::code)

// Throws unless `cond` holds. The message is only formatted on failure.
#define MX_CHECK(cond, code) \
  if (cond) {                \
  } else                     \
    MX_THROW(code)

#endif  // MX_BASE_ERROR_H_
