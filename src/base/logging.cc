#include "base/logging.h"

#include <dmlc/logging.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/error.h"

namespace mx {
namespace impl {

namespace {
int InitialLevel() {
  const char* env = std::getenv("MX_LOG_LEVEL");
  if (env == nullptr) return static_cast<int>(LogLevel::kOff);
  try {
    return static_cast<int>(ParseLogLevel(env));
  } catch (const Error&) {
    return static_cast<int>(LogLevel::kOff);  // a typo in the environment must not break the host
  }
}
}  // namespace

std::atomic<int> g_log_level{InitialLevel()};

}  // namespace impl

LogLevel GetLogLevel() { return static_cast<LogLevel>(impl::g_log_level.load()); }

void SetLogLevel(LogLevel level) { impl::g_log_level.store(static_cast<int>(level)); }

LogLevel ParseLogLevel(const std::string& name) {
  static const char* const kNames[] = {"off", "error", "warning", "info", "debug"};
  for (int i = 0; i < 5; ++i) {
    if (name == kNames[i]) return static_cast<LogLevel>(i);
  }
  MX_THROW(kInvalidArgument) << "unknown log level '" << name
                             << "': expected one of off, error, warning, info, debug";
}

void LogWrite(LogLevel level, const std::string& message) {
  if (impl::g_log_level.load(std::memory_order_relaxed) < static_cast<int>(level)) return;
  static const char* const kTags[] = {"", "E", "W", "I", "D"};
  // One fprintf per line keeps lines from different threads whole.
  std::fprintf(stderr, "[mx %s] %s\n", kTags[static_cast<int>(level)], message.c_str());
}

}  // namespace mx

// dmlc-core's LOG(INFO/WARNING/ERROR) lands here (we build with DMLC_LOG_CUSTOMIZE=1). dmlc does
// not tell the severity apart, so its lines are logged at warning level.
void dmlc::CustomLogMessage::Log(const std::string& msg) {
  mx::LogWrite(mx::LogLevel::kWarning, msg);
}
