// Engine overhead and overlap.
//
//   empty op, chain:        push + dispatch + complete of an op that does nothing, every op writing
//                           the same variable (each waits for the previous one)
//   empty op, independent:  the same over 1024 variables in turn (ops rarely wait)
//   overlap ratio:          two independent chains of ~1 ms CPU busy-loop ops, time on one CPU
//                           worker divided by time on two (2.0 = perfect overlap)
//   profiler off / on:      the empty-op figures again, runs with the profiler off and on taking
//                           turns in one engine (so both see the same machine state); the
//                           difference is what recording costs per op. With it off, the engine
//                           pays one relaxed atomic load per push (Note [Profiler hot path]).
//
// Budgets (docs/design/engine.md): <= ~1000 ns per empty op on the threaded engine, overlap >= 1.8.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "engine/engine.h"
#include "engine/profiler.h"

namespace {

using mx::Context;
using mx::engine::Engine;
using mx::engine::EngineOptions;
using mx::engine::EngineType;
using mx::engine::RunContext;
using mx::engine::VarHandle;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Engine* Restart(EngineType type, int cpu_workers) {
  Engine::Shutdown();
  EngineOptions o;
  o.type = type;
  o.cpu_workers = cpu_workers;
  return Engine::Start(o);
}

// ns per empty op, best of `reps` runs of `n` pushes over `n_vars` variables.
double EmptyOpNs(EngineType type, int n, int n_vars, int reps) {
  Engine* engine = Restart(type, 1);
  std::vector<VarHandle> vars(n_vars);
  for (auto& v : vars) v = engine->NewVar();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i)
      engine->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &vars[i % n_vars], 1);
    engine->WaitForAll();
    best = std::min(best, Seconds(t0, Clock::now()) * 1e9 / n);
  }
  for (auto& v : vars) engine->DeleteVar(v);
  engine->WaitForAll();
  return best;
}

// Best ns per empty op with the profiler off and on, the two taking turns `reps` times on one
// engine. Recorded events are discarded between runs, outside the timed part.
struct OffOn {
  double off, on;
};
OffOn ProfilerOffOnNs(EngineType type, int n, int n_vars, int reps) {
  namespace profiler = mx::engine::profiler;
  Engine* engine = Restart(type, 1);
  std::vector<VarHandle> vars(n_vars);
  for (auto& v : vars) v = engine->NewVar();
  OffOn best{1e30, 1e30};
  for (int r = 0; r < 2 * reps; ++r) {
    const bool on = r % 2 == 1;
    profiler::SetState(on);
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i)
      engine->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &vars[i % n_vars], 1,
                       mx::engine::FnProperty::kNormal, 0, "empty");
    engine->WaitForAll();
    const double ns = Seconds(t0, Clock::now()) * 1e9 / n;
    profiler::SetState(false);
    if (on) {
      const uint64_t dropped = profiler::Take().dropped;
      if (dropped != 0) std::printf("warning: the profiler dropped %" PRIu64 " ops\n", dropped);
      profiler::Clear();
    }
    double& b = on ? best.on : best.off;
    b = std::min(b, ns);
  }
  for (auto& v : vars) engine->DeleteVar(v);
  engine->WaitForAll();
  return best;
}

void BusyFor(double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
  }
}

// Seconds for two independent chains of `n` ops of `op_seconds` each on `workers` CPU workers.
double TwoChains(int workers, int n, double op_seconds, int reps) {
  Engine* engine = Restart(EngineType::kThreaded, workers);
  VarHandle a = engine->NewVar(), b = engine->NewVar();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      engine->PushSync([op_seconds](RunContext) { BusyFor(op_seconds); }, Context::CPU(), nullptr,
                       0, &a, 1);
      engine->PushSync([op_seconds](RunContext) { BusyFor(op_seconds); }, Context::CPU(), nullptr,
                       0, &b, 1);
    }
    engine->WaitForAll();
    best = std::min(best, Seconds(t0, Clock::now()));
  }
  engine->DeleteVar(a);
  engine->DeleteVar(b);
  engine->WaitForAll();
  return best;
}

}  // namespace

int main() {
  constexpr int kOps = 200000;
  const double threaded_chain = EmptyOpNs(EngineType::kThreaded, kOps, 1, 5);
  const double threaded_indep = EmptyOpNs(EngineType::kThreaded, kOps, 1024, 5);
  const double naive_chain = EmptyOpNs(EngineType::kNaive, kOps, 1, 5);
  const double naive_indep = EmptyOpNs(EngineType::kNaive, kOps, 1024, 5);
  std::printf("threaded empty op, chain on one var:   %8.1f ns/op (budget <= 1000)\n",
              threaded_chain);
  std::printf("threaded empty op, independent vars:   %8.1f ns/op (budget <= 1000)\n",
              threaded_indep);
  std::printf("naive empty op, chain on one var:      %8.1f ns/op\n", naive_chain);
  std::printf("naive empty op, independent vars:      %8.1f ns/op\n", naive_indep);
  std::printf("threaded / naive, chain:               %8.2f\n", threaded_chain / naive_chain);

  // The profiler: off against on, per op.
  for (EngineType type : {EngineType::kThreaded, EngineType::kNaive}) {
    const char* name = type == EngineType::kThreaded ? "threaded" : "naive";
    for (int n_vars : {1, 1024}) {
      const OffOn t = ProfilerOffOnNs(type, kOps, n_vars, 5);
      std::printf("%-8s %-13s profiler off %7.1f ns/op, on %7.1f ns/op: %+6.1f ns/op (%+.0f%%)\n",
                  name, n_vars == 1 ? "chain:" : "independent:", t.off, t.on, t.on - t.off,
                  100.0 * (t.on - t.off) / t.off);
    }
  }

  constexpr int kChainOps = 100;
  constexpr double kOpSeconds = 1e-3;
  const double one = TwoChains(1, kChainOps, kOpSeconds, 3);
  const double two = TwoChains(2, kChainOps, kOpSeconds, 3);
  std::printf("two chains of %d x 1 ms ops, 1 worker: %8.1f ms\n", kChainOps, one * 1e3);
  std::printf("two chains of %d x 1 ms ops, 2 workers:%8.1f ms\n", kChainOps, two * 1e3);
  std::printf("overlap ratio (1 worker / 2 workers):  %8.2f (budget >= 1.8)\n", one / two);
  Engine::Shutdown();
  return 0;
}
