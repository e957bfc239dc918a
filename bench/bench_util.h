// Timing helpers shared by the benchmarks that call the core directly.
#ifndef MX_BENCH_BENCH_UTIL_H_
#define MX_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "ndarray/ndarray.h"

namespace bench {

constexpr double kRepSeconds = 0.12;  // per timed run
constexpr int kReps = 4;

// A float32 array with a deterministic pattern in [0, scale).
inline mx::NDArray Filled(const mx::Shape& s, float scale) {
  mx::NDArray a(s, mx::Context::CPU(), mx::DType::kFloat32);
  std::vector<float> v(s.Size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * static_cast<float>((i * 37) % 101) / 101.0f;
  a.SyncCopyFromCPU(v.data(), v.size());
  return a;
}

// Seconds per iteration of `step` (which may be asynchronous; `sync` waits for it), best of kReps
// runs of about kRepSeconds each.
inline double TimePerIter(const std::function<void()>& step, const std::function<void()>& sync) {
  using Clock = std::chrono::steady_clock;
  int iters = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) step();
    sync();
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    if (t > kRepSeconds / 4) {
      iters = std::max(1, static_cast<int>(iters * kRepSeconds / t));
      break;
    }
    iters *= 4;
  }
  double best = 1e30;
  for (int r = 0; r < kReps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) step();
    sync();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / iters);
  }
  return best;
}

}  // namespace bench

#endif  // MX_BENCH_BENCH_UTIL_H_
