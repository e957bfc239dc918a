// The CPU instruction set of libmx's own loops, chosen at run time.
//
// libmx is compiled for baseline x86-64 (SSE2), so it runs on any x86-64 CPU. Its hot loops
// over floating-point arrays (elementwise kernels through Kernel<OP>::LaunchCPU, reductions and
// broadcasts through bcast::ParallelForRange, pooling, optimizer updates) are compiled twice
// more, as functions with GCC's target attribute for AVX2 and AVX-512 (integer loops stay
// baseline: their copies would add another 3 MB to the library), and each call picks one by
// Active(): the best level this CPU and its OS support, capped by the environment variable
// MX_SIMD ("baseline", "avx2", "avx512"; unset or "best": no cap). The choice is made once, on
// first use, and logged at debug level (MX_LOG_LEVEL=debug).
//
// Results do not depend on the level: the library is compiled with -ffp-contract=off on x86-64,
// so the wider paths never fuse a multiply and an add that the baseline path rounds twice, and
// no loop reassociates a sum (reductions vectorise across outputs, each output's terms are added
// in order), so tests/cpp/op/simd_test.cc compares every level with baseline exactly. A loop
// written to reassociate (an `omp simd reduction`) would differ in the last bits by level.
//
// Writing a dispatched loop: an OpenMP parallel region is outlined into a function of its own
// that keeps the target of the function it is written in, so the `#pragma omp parallel` must be
// inside the target function (Kernel<OP>'s loops), or each thread must call one (RunAt below,
// bcast::ParallelForRange, ParallelForChunks in op/kernel.h); callees must be always_inline
// (MX_XINLINE, lambdas with MX_LAMBDA_INLINE) to be compiled for the wider set.
#ifndef MX_BASE_SIMD_H_
#define MX_BASE_SIMD_H_

// Dispatch exists on x86-64 with GCC or clang, in host code (nvcc's host pass gets one level).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define MX_SIMD_DISPATCH 1
#define MX_TARGET_AVX2 __attribute__((target("avx2,fma")))
#if defined(__clang__)
#define MX_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#else
// GCC would otherwise keep to 256-bit vectors under some -mtune settings.
#define MX_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,prefer-vector-width=512")))
#endif
#else
#define MX_SIMD_DISPATCH 0
#define MX_TARGET_AVX2
#define MX_TARGET_AVX512
#endif

#if defined(__GNUC__) && !defined(__CUDACC__)
#define MX_LAMBDA_INLINE __attribute__((always_inline))
#else
#define MX_LAMBDA_INLINE
#endif

namespace mx {
namespace simd {

enum class Level : int { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// The level the loops use now. Throws mx::Error (kInvalidArgument) naming MX_SIMD when it holds
// an unknown name.
Level Active();
// The widest level this CPU and its OS support (kBaseline off x86-64).
Level Best();
// "baseline", "avx2", "avx512".
const char* Name(Level level);
// Parses a level name ("best" means Best()); throws mx::Error naming the valid ones.
Level Parse(const char* name);
// The level for MX_SIMD = `env` (nullptr or empty: unset): min(Parse(env), Best()). Throws
// mx::Error (kInvalidArgument) naming MX_SIMD and the valid names.
Level Choose(const char* env);
// Makes Active() return min(level, Best()) from now on, whatever MX_SIMD says, and returns that
// level. For tests and benchmarks comparing the levels; not thread-safe against running kernels.
Level Force(Level level);
// Undoes Force: back to the level chosen from the CPU and MX_SIMD.
void Unforce();

#if MX_SIMD_DISPATCH
template <typename F>
MX_TARGET_AVX2 void RunAvx2(F& f) {
  f();
}
template <typename F>
MX_TARGET_AVX512 void RunAvx512(F& f) {
  f();
}
#endif

// Calls f() compiled for `level`. f must be a lambda marked MX_LAMBDA_INLINE (and whatever it
// calls always_inline) to be compiled for the wider set; it must not open an OpenMP region
// (open it around RunAt: the region's function would keep the baseline instruction set).
template <typename F>
inline void RunAt(Level level, F&& f) {
#if MX_SIMD_DISPATCH
  switch (level) {
    case Level::kAvx512:
      RunAvx512(f);
      return;
    case Level::kAvx2:
      RunAvx2(f);
      return;
    case Level::kBaseline:
      break;
  }
#else
  (void)level;
#endif
  f();
}

}  // namespace simd
}  // namespace mx

#endif  // MX_BASE_SIMD_H_
