// Helpers shared by the engine tests: restarting the process-wide engine with given options and
// bounded waits that fail a test instead of hanging it.
#ifndef MX_TESTS_CPP_ENGINE_ENGINE_TEST_UTIL_H_
#define MX_TESTS_CPP_ENGINE_ENGINE_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "engine/engine.h"

namespace mx {
namespace engine {
namespace testing {

#if defined(__SANITIZE_THREAD__)
constexpr bool kUnderTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kUnderTsan = true;
#else
constexpr bool kUnderTsan = false;
#endif
#else
constexpr bool kUnderTsan = false;
#endif

struct EngineConfig {
  EngineType type;
  int cpu_workers;
  std::string Label() const {
    return type == EngineType::kNaive ? "naive" : "threaded" + std::to_string(cpu_workers);
  }
};

inline Engine* Restart(EngineType type, int cpu_workers = 1, int priority_workers = 1) {
  Engine::Shutdown();
  EngineOptions o;
  o.type = type;
  o.cpu_workers = cpu_workers;
  o.cpu_priority_workers = priority_workers;
  return Engine::Start(o);
}

// Spins until `pred()` holds or `seconds` pass; returns whether it held. The deadline only turns
// a broken engine into a failure instead of a hang: it is far above any scheduling delay a loaded
// CI machine (or TSan) can cause, so a correct engine never misses it.
template <typename Pred>
bool SpinUntil(Pred pred, double seconds = 60.0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace testing
}  // namespace engine
}  // namespace mx

#endif  // MX_TESTS_CPP_ENGINE_ENGINE_TEST_UTIL_H_
