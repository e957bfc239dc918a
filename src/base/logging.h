// Logging that is silent by default.
//
// An embedded library must not write to its host's stderr unasked. The level starts at kOff unless
// the environment variable MX_LOG_LEVEL names one; mx_set_log_level changes it at run time.
//   MX_LOG(kInfo) << "engine started with " << n << " workers";
// The message is formatted only when the level is enabled.
#ifndef MX_BASE_LOGGING_H_
#define MX_BASE_LOGGING_H_

#include <atomic>
#include <sstream>
#include <string>

namespace mx {

enum class LogLevel : int { kOff = 0, kError = 1, kWarning = 2, kInfo = 3, kDebug = 4 };

LogLevel GetLogLevel();
void SetLogLevel(LogLevel level);
// Parses "off", "error", "warning", "info", "debug"; throws mx::Error naming the valid ones.
LogLevel ParseLogLevel(const std::string& name);
// Writes one line to stderr if `level` is enabled.
void LogWrite(LogLevel level, const std::string& message);

namespace impl {

extern std::atomic<int> g_log_level;

class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine() { LogWrite(level_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace impl
}  // namespace mx

#define MX_LOG_ENABLED(level)                                 \
  (::mx::impl::g_log_level.load(std::memory_order_relaxed) >= \
   static_cast<int>(::mx::LogLevel::level))
#define MX_LOG(level)           \
  if (!MX_LOG_ENABLED(level)) { \
  } else                        \
    ::mx::impl::LogLine(::mx::LogLevel::level).stream()

#endif  // MX_BASE_LOGGING_H_
