#include "base/simd.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/logging.h"

namespace mx {
namespace simd {
namespace {

// -1: no forced level.
std::atomic<int> g_forced{-1};

Level Detect() {
#if MX_SIMD_DISPATCH
  // libgcc's checks include the OS's: the AVX-512 level needs the kernel to save zmm registers.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    return Level::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Level::kAvx2;
#endif
  return Level::kBaseline;
}

Level FromEnvironment() {
  const char* env = std::getenv("MX_SIMD");
  const Level level = Choose(env);
  MX_LOG(kDebug) << "SIMD: this CPU supports " << Name(Best()) << "; loops use " << Name(level)
                 << (env != nullptr && *env != '\0' ? std::string(" (MX_SIMD=") + env + ")" : "");
  return level;
}

}  // namespace

Level Best() {
  static const Level best = Detect();
  return best;
}

Level Active() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Level>(forced);
  // A throw leaves the static uninitialised: each use reports the bad MX_SIMD again.
  static const Level chosen = FromEnvironment();
  return chosen;
}

const char* Name(Level level) {
  switch (level) {
    case Level::kBaseline:
      return "baseline";
    case Level::kAvx2:
      return "avx2";
    case Level::kAvx512:
      return "avx512";
  }
  return "unknown";
}

Level Parse(const char* name) {
  if (std::strcmp(name, "baseline") == 0) return Level::kBaseline;
  if (std::strcmp(name, "avx2") == 0) return Level::kAvx2;
  if (std::strcmp(name, "avx512") == 0) return Level::kAvx512;
  if (std::strcmp(name, "best") == 0) return Best();
  MX_THROW(kInvalidArgument) << "unknown SIMD level '" << name
                             << "': expected baseline, avx2, avx512 or best";
}

Level Choose(const char* env) {
  if (env == nullptr || *env == '\0') return Best();
  Level cap;
  try {
    cap = Parse(env);
  } catch (const Error&) {
    MX_THROW(kInvalidArgument) << "environment variable MX_SIMD='" << env
                               << "' is not a SIMD level: expected baseline, avx2, avx512 or best";
  }
  return std::min(cap, Best());
}

Level Force(Level level) {
  const Level l = std::min(level, Best());
  g_forced.store(static_cast<int>(l), std::memory_order_relaxed);
  return l;
}

void Unforce() { g_forced.store(-1, std::memory_order_relaxed); }

}  // namespace simd
}  // namespace mx
