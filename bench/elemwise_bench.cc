// Elementwise add, libmx against a plain loop, in DRAM-sized and in L2-resident arrays.
//
//   DRAM:  Invoke("elemwise_add") on 16M floats (192 MiB moved per add) into a preallocated
//          output (engine push, many iterations, one final wait), against the peer on the OpenMP
//          threads. Budget (DESIGN.md): >= 0.9.
//   L2:    working sets of 66, 96 and 120 KiB (a, b, c together: past L1, inside any L2): the
//          op's compute function (the kernel libmx runs, without the engine) against the peer,
//          one thread each (libmx runs arrays under kOmpMinWork on one thread). Budget >= 0.9.
//          The same through Invoke is printed too: there the engine's push and dispatch (about
//          0.3-1 us per op, engine_bench) is as long as the add itself.
//
// The peer, `c[i] = a[i] + b[i]` with `omp parallel for simd` (STREAM's "add"), is compiled at
// this CPU's best instruction set (AVX-512, AVX2 or baseline x86-64, the levels of
// base/simd.h, by GCC's target attribute), whatever libmx's own level is; both sides read and
// write the same 64-byte-aligned buffers. The kernel is also timed at every level this CPU has
// (simd::Force), which shows what the run-time dispatch gains. GB/s counts 12 bytes per element
// (two reads, one write).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "base/simd.h"
#include "engine/engine.h"
#include "ndarray/ndarray.h"
#include "op/invoke.h"
#include "op/op.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kDramN = int64_t{16} << 20;
constexpr int kReps = 5;

// Seconds per call of `run`, the best of kReps timings of `iters` calls.
double BestSeconds(int iters, const std::function<void()>& run) {
  double best = 1e30;
  for (int r = 0; r < kReps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) run();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best / iters;
}

// On the OpenMP threads for DRAM sizes; for L2 sizes a plain vectorised loop: opening a parallel
// region, even of one thread, costs more than the add itself.
#define MX_PEER_LOOP                                                                         \
  if (parallel) {                                                                            \
    _Pragma("omp parallel for simd schedule(static)") for (int64_t i = 0; i < n; ++i) c[i] = \
        a[i] + b[i];                                                                         \
    return;                                                                                  \
  }                                                                                          \
  _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) c[i] = a[i] + b[i]

void PeerBaseline(float* c, const float* a, const float* b, int64_t n, bool parallel) {
  MX_PEER_LOOP;
}
#if MX_SIMD_DISPATCH
MX_TARGET_AVX2 void PeerAvx2(float* c, const float* a, const float* b, int64_t n, bool parallel) {
  MX_PEER_LOOP;
}
MX_TARGET_AVX512 void PeerAvx512(float* c, const float* a, const float* b, int64_t n,
                                 bool parallel) {
  MX_PEER_LOOP;
}
#endif

void Peer(float* c, const float* a, const float* b, int64_t n, bool parallel) {
#if MX_SIMD_DISPATCH
  switch (mx::simd::Best()) {
    case mx::simd::Level::kAvx512:
      return PeerAvx512(c, a, b, n, parallel);
    case mx::simd::Level::kAvx2:
      return PeerAvx2(c, a, b, n, parallel);
    case mx::simd::Level::kBaseline:
      break;
  }
#endif
  PeerBaseline(c, a, b, n, parallel);
}

float* AlignedFloats(int64_t n) {
  const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p == nullptr) throw std::bad_alloc();
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(i % 1000);
  return p;
}

double Gbs(int64_t n, double seconds) { return 12.0 * static_cast<double>(n) / seconds * 1e-9; }

void Dram(const mx::NodeAttrs& add) {
  constexpr int kIters = 10;
  const mx::Shape shape{kDramN};
  std::vector<float> init(kDramN);
  for (int64_t i = 0; i < kDramN; ++i) init[i] = static_cast<float>(i % 1000);
  mx::NDArray a(shape, mx::Context::CPU()), b(shape, mx::Context::CPU());
  mx::NDArray c(shape, mx::Context::CPU());
  a.SyncCopyFromCPU(init.data(), kDramN);
  b.SyncCopyFromCPU(init.data(), kDramN);
  c.SyncCopyFromCPU(init.data(), kDramN);  // touch every page before timing
  std::vector<mx::NDArray> out{c};
  auto* engine = mx::engine::Engine::Get();
  float *ha = AlignedFloats(kDramN), *hb = AlignedFloats(kDramN), *hc = AlignedFloats(kDramN);
  auto invoke = [&] {
    for (int i = 0; i < kIters; ++i) mx::Invoke(add, {a, b}, &out);
    engine->WaitForAll();
  };
  // Taking turns, so that a burst of load from elsewhere on the machine hits both.
  double t_op = 1e30, t_peer = 1e30;
  for (int r = 0; r < kReps; ++r) {
    t_op = std::min(t_op, BestSeconds(1, invoke) / kIters);
    t_peer = std::min(t_peer, BestSeconds(kIters, [&] { Peer(hc, ha, hb, kDramN, true); }));
  }
  std::free(ha);
  std::free(hb);
  std::free(hc);
  std::printf(
      "DRAM %lld floats, %d threads: Invoke %.1f GB/s, peer %.1f GB/s, ratio %.2f "
      "(budget >= 0.9)\n",
      static_cast<long long>(kDramN), omp_get_max_threads(), Gbs(kDramN, t_op), Gbs(kDramN, t_peer),
      t_peer / t_op);
}

void L2(const mx::NodeAttrs& add, int64_t n) {
  float *ha = AlignedFloats(n), *hb = AlignedFloats(n), *hc = AlignedFloats(n);
  const mx::Shape shape{n};
  const mx::Context cpu = mx::Context::CPU();
  const std::vector<mx::TBlob> in{{ha, shape, mx::DType::kFloat32, cpu},
                                  {hb, shape, mx::DType::kFloat32, cpu}};
  const std::vector<mx::TBlob> out{{hc, shape, mx::DType::kFloat32, cpu}};
  const std::vector<mx::OpReq> req{mx::OpReq::kWrite};
  const mx::FCompute& compute = *add.op->Compute(mx::DeviceType::kCPU);
  const mx::OpContext ctx;
  // About 5 ms per timing.
  const int iters = static_cast<int>(std::max<int64_t>(1000, (int64_t{1} << 28) / (12 * n)));
  auto kernel = [&] { compute(add, ctx, in, req, out); };

  // Taking turns, so that a burst of load from elsewhere on the machine hits both.
  double t_peer = 1e30, t_kernel = 1e30;
  for (int r = 0; r < kReps; ++r) {
    t_peer = std::min(t_peer, BestSeconds(iters, [&] { Peer(hc, ha, hb, n, false); }));
    t_kernel = std::min(t_kernel, BestSeconds(iters, kernel));
  }
  std::printf(
      "L2 %lld floats (%lld KiB), 1 thread: kernel %.1f GB/s (%s), peer %.1f GB/s, "
      "ratio %.2f (budget >= 0.9)\n",
      static_cast<long long>(n), static_cast<long long>(12 * n / 1024), Gbs(n, t_kernel),
      mx::simd::Name(mx::simd::Active()), Gbs(n, t_peer), t_peer / t_kernel);
  std::printf("   kernel by level:");
  for (int l = 0; l <= static_cast<int>(mx::simd::Best()); ++l) {
    const mx::simd::Level level = mx::simd::Force(static_cast<mx::simd::Level>(l));
    std::printf(" %s %.1f GB/s", mx::simd::Name(level), Gbs(n, BestSeconds(iters, kernel)));
  }
  mx::simd::Unforce();
  mx::NDArray a(shape, cpu), b(shape, cpu), c(shape, cpu);
  a.SyncCopyFromCPU(ha, n);
  b.SyncCopyFromCPU(hb, n);
  c.SyncCopyFromCPU(hc, n);
  std::vector<mx::NDArray> nd_out{c};
  auto* engine = mx::engine::Engine::Get();
  const double t_op = BestSeconds(1,
                                  [&] {
                                    for (int i = 0; i < iters; ++i)
                                      mx::Invoke(add, {a, b}, &nd_out);
                                    engine->WaitForAll();
                                  }) /
                      iters;
  std::printf("; Invoke %.1f GB/s (ratio %.2f)\n", Gbs(n, t_op), t_peer / t_op);
  std::free(ha);
  std::free(hb);
  std::free(hc);
}

}  // namespace

int main() {
  try {
    const mx::NodeAttrs add = mx::MakeAttrs(mx::OpRegistry::Get()->Get("elemwise_add"), {});
    std::printf("elemwise_add, libmx / peer (peer: %s; libmx: %s, MX_SIMD caps it)\n",
                mx::simd::Name(mx::simd::Best()), mx::simd::Name(mx::simd::Active()));
    Dram(add);
    for (int64_t n : {5632, 8192, 10240}) L2(add, n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "elemwise_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
