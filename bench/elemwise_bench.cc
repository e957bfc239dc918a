// A large elementwise add through the imperative path vs a plain OpenMP loop.
//
//   elemwise_add:  Invoke("elemwise_add") on 16M floats into a preallocated output (engine push,
//                  many iterations, one final wait)
//   loop:          c[i] = a[i] + b[i] with `#pragma omp parallel for`, on this thread's OpenMP
//                  threads, on buffers of the same size
// GB/s counts 12 bytes per element (two reads, one write). Budget (DESIGN.md): ratio >= 0.8.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "engine/engine.h"
#include "ndarray/ndarray.h"
#include "op/invoke.h"
#include "op/op.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kN = int64_t{16} << 20;
constexpr int kIters = 40;
constexpr int kReps = 5;

double BestSeconds(const std::function<void()>& run) {
  double best = 1e30;
  for (int r = 0; r < kReps; ++r) {
    const auto t0 = Clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best / kIters;
}

void Loop(float* c, const float* a, const float* b, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
}

}  // namespace

int main() {
  try {
    const mx::Shape shape{kN};
    std::vector<float> init(kN);
    for (int64_t i = 0; i < kN; ++i) init[i] = static_cast<float>(i % 1000);
    mx::NDArray a(shape, mx::Context::CPU()), b(shape, mx::Context::CPU());
    mx::NDArray c(shape, mx::Context::CPU());
    a.SyncCopyFromCPU(init.data(), kN);
    b.SyncCopyFromCPU(init.data(), kN);
    c.SyncCopyFromCPU(init.data(), kN);  // touch every page before timing
    const mx::NodeAttrs add = mx::MakeAttrs(mx::OpRegistry::Get()->Get("elemwise_add"), {});
    std::vector<mx::NDArray> out{c};
    auto* engine = mx::engine::Engine::Get();
    const double t_op = BestSeconds([&] {
      for (int i = 0; i < kIters; ++i) mx::Invoke(add, {a, b}, &out);
      engine->WaitForAll();
    });

    std::vector<float> ha(init), hb(init), hc(kN);
    Loop(hc.data(), ha.data(), hb.data(), kN);  // first touch
    const double t_loop = BestSeconds([&] {
      for (int i = 0; i < kIters; ++i) Loop(hc.data(), ha.data(), hb.data(), kN);
    });

    const double bytes = 12.0 * kN;
    const double gbs_op = bytes / t_op * 1e-9, gbs_loop = bytes / t_loop * 1e-9;
    std::printf(
        "elemwise_add, %lld floats, %d OpenMP threads: Invoke %.1f GB/s (%.2f ms), "
        "OpenMP loop %.1f GB/s (%.2f ms), ratio %.2f (budget >= 0.8)\n",
        static_cast<long long>(kN), omp_get_max_threads(), gbs_op, t_op * 1e3, gbs_loop,
        t_loop * 1e3, gbs_op / gbs_loop);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "elemwise_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
