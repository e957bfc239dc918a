// The launch/map pattern: one functor, a CPU OpenMP loop or a CUDA grid-stride kernel.
//
// An elementwise kernel is a struct with a static Map(i, args...) that computes element i:
//
//   struct AxpyKernel {
//     template <typename T>
//     MX_XINLINE static void Map(int64_t i, T* y, const T* x, T a) { y[i] += a * x[i]; }
//   };
//   Kernel<AxpyKernel>::Launch(rctx, n, y, x, a);   // CPU or GPU, by rctx.ctx
//
// Math functors (op/math_functors.h) are structs with a static Map(a[, b]) used inside such
// kernels; the same definitions compile for the host and, under nvcc, for the device.
//
// One source, both devices: a CUDA build compiles every operator file with nvcc
// (CMakeLists.txt), so Launch's GPU half (op/kernel_cuda.cuh) exists wherever it is called, and
// a compute function written with Launch (and blas::Gemm on the op's context, op/blas.h) is a GPU
// one as well. The op says so where it is registered:
//
//   reg.Add("relu")....SetComputeAll(UnaryCompute<fn::Relu, true>, kGpuKernels);
//
// A file g++ compiles (tests, a CPU build) has kGpuKernels false: its Launch throws on a GPU
// context instead, and SetComputeAll registers the CPU alone. Kernel lives in an inline namespace
// named after the compiler so the two versions of one Kernel<OP> never merge at link time.
#ifndef MX_OP_KERNEL_H_
#define MX_OP_KERNEL_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "base/error.h"
#include "base/simd.h"
#include "engine/engine.h"
#include "op/op.h"

#if MX_USE_OPENMP
#include <omp.h>
#endif

#if defined(__CUDACC__)
#define MX_XINLINE __host__ __device__ __forceinline__
#else
#define MX_XINLINE inline __attribute__((always_inline))
#endif
// Always inlined, on the host only (CPU loop helpers that call host code).
#define MX_HOST_INLINE inline __attribute__((always_inline))

namespace mx {

#if defined(__CUDACC__)
#define MX_KERNEL_NS with_gpu
constexpr bool kGpuKernels = true;
#else
#define MX_KERNEL_NS host_only
constexpr bool kGpuKernels = false;
#endif

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kOmpMinWork = 1 << 15;

// Put before a for loop: run it on the OpenMP threads when `cond` holds. Expands to nothing
// without OpenMP, so those builds (ThreadSanitizer's) see no unknown pragma.
#define MX_PRAGMA(x) _Pragma(#x)
#if MX_USE_OPENMP
#define MX_OMP_FOR_IF(cond) MX_PRAGMA(omp parallel for schedule(static) if (cond))
#else
#define MX_OMP_FOR_IF(cond)
#endif

// Map(i) calls are independent of each other (that is what lets them run in parallel), so the
// loops are also marked `simd`: the compiler vectorises them without proving that the pointers
// do not alias (outputs may even overwrite their inputs, element by element).
// The loop is compiled once per instruction set (base/simd.h) and each launch runs the one
// simd::Active() names. It is a macro, not an inline function, because the OpenMP region must be
// written inside each target function to be compiled for that function's instruction set.
#if MX_USE_OPENMP
#define MX_KERNEL_LOOP(n, args)                            \
  if ((n) >= kOmpMinWork && omp_get_max_threads() > 1) {   \
    MX_PRAGMA(omp parallel for simd schedule(static))      \
    for (int64_t i = 0; i < (n); ++i) OP::Map(i, args...); \
    return;                                                \
  }                                                        \
  MX_PRAGMA(omp simd)                                      \
  for (int64_t i = 0; i < (n); ++i) OP::Map(i, args...)
#else
#define MX_KERNEL_LOOP(n, args) \
  for (int64_t i = 0; i < (n); ++i) OP::Map(i, args...)
#endif

// Whether loops over T get the AVX2 and AVX-512 copies: floating-point ones only. The integer
// kernels' copies would add 3 MB of code for arrays that are rarely hot.
template <typename T>
constexpr bool kWideSimd = std::is_floating_point<T>::value;
template <typename A>
constexpr bool kWideSimdArg =
    std::is_pointer<A>::value&& kWideSimd<std::remove_cv_t<std::remove_pointer_t<A>>>;

inline namespace MX_KERNEL_NS {

template <typename OP>
struct Kernel {
  // OP::Map(i, args...) for every i in [0, n) on the op's device: on the CPU in an OpenMP loop,
  // on the GPU as a grid-stride kernel on the worker's stream (returning once it is enqueued).
  template <typename... Args>
  static void Launch(const OpContext& ctx, int64_t n, Args... args) {
    Launch(ctx.run, n, args...);
  }
  template <typename... Args>
  static void Launch(const engine::RunContext& rctx, int64_t n, Args... args) {
    if (rctx.ctx.is_gpu()) {
      LaunchGPU(rctx, n, args...);
    } else {
      LaunchCPU(n, args...);
    }
  }
  template <typename... Args>
  static void LaunchGPU(const engine::RunContext& rctx, int64_t n, Args... args);

  // OP::Map(i, args...) for every i in [0, n) where each index is a long serial task (a channel's
  // or a row's reduction): the CPU's OpenMP threads share the indices when `work` (the elements
  // touched in all) is worth it, and the GPU runs one thread per index, which is correct but slow
  // when the tasks are few and long.
  template <typename... Args>
  static void LaunchTasks(const OpContext& ctx, int64_t n, int64_t work, Args... args) {
    if (ctx.run.ctx.is_gpu()) {
      LaunchGPU(ctx.run, n, args...);
      return;
    }
    MX_OMP_FOR_IF(work >= kOmpMinWork)
    for (int64_t i = 0; i < n; ++i) OP::Map(i, args...);
  }

  template <typename... Args>
  static void LaunchCPU(int64_t n, Args... args) {
#if MX_SIMD_DISPATCH
    // Kernels that write or read a floating-point array.
    if constexpr ((kWideSimdArg<Args> || ...)) {
      switch (simd::Active()) {
        case simd::Level::kAvx512:
          LaunchAvx512(n, args...);
          return;
        case simd::Level::kAvx2:
          LaunchAvx2(n, args...);
          return;
        case simd::Level::kBaseline:
          break;
      }
    }
#endif
    LaunchBaseline(n, args...);
  }

 private:
  template <typename... Args>
  static void LaunchBaseline(int64_t n, Args... args) {
    MX_KERNEL_LOOP(n, args);
  }
#if MX_SIMD_DISPATCH
  template <typename... Args>
  MX_TARGET_AVX2 static void LaunchAvx2(int64_t n, Args... args) {
    MX_KERNEL_LOOP(n, args);
  }
  template <typename... Args>
  MX_TARGET_AVX512 static void LaunchAvx512(int64_t n, Args... args) {
    MX_KERNEL_LOOP(n, args);
  }
#endif
};

#if !defined(__CUDACC__)
template <typename OP>
template <typename... Args>
void Kernel<OP>::LaunchGPU(const engine::RunContext& rctx, int64_t, Args...) {
  MX_THROW(kInternal) << "a kernel for " << rctx.ctx
                      << " was called from a file compiled without GPU kernels";
}
#endif

}  // namespace MX_KERNEL_NS

// Calls body(begin, end) on chunks of [0, n) covering it, one contiguous chunk per OpenMP thread
// when `parallel` (else one chunk), each compiled for simd::Active()'s instruction set (baseline
// only when !kWide): `body` must be a lambda marked MX_LAMBDA_INLINE (base/simd.h says why).
template <bool kWide = true, typename Body>
void ParallelForChunks(int64_t n, bool parallel, Body&& body) {
  if (n <= 0) return;
  const simd::Level level = kWide ? simd::Active() : simd::Level::kBaseline;
#if MX_USE_OPENMP
  if (parallel && n > 1 && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads();
      const int64_t t = omp_get_thread_num();
      const int64_t chunk = (n + nt - 1) / nt;
      const int64_t begin = std::min(n, t * chunk), end = std::min(n, (t + 1) * chunk);
      if (begin < end) simd::RunAt(level, [&]() MX_LAMBDA_INLINE { body(begin, end); });
    }
    return;
  }
#endif
  (void)parallel;
  simd::RunAt(level, [&]() MX_LAMBDA_INLINE { body(int64_t{0}, n); });
}

// Writes `value` to `out` as `req` says (Req is a template parameter so the branch folds away).
template <OpReq Req, typename T>
MX_XINLINE void Assign(T& out, T value) {
  if (Req == OpReq::kAdd) {
    out += value;
  } else if (Req != OpReq::kNull) {
    out = value;
  }
}

// Assign with the request known at run time only: for a value written once per task (a channel's
// statistic), where a compile-time switch would multiply the task's instantiations for nothing.
template <typename T>
MX_XINLINE void AssignAt(OpReq req, T* out, int64_t i, T value) {
  if (req == OpReq::kAdd) {
    out[i] += value;
  } else if (req != OpReq::kNull) {
    out[i] = value;
  }
}

// *p += v, atomically on the GPU (for scatters whose indices repeat, so several threads add into
// one element); a plain add on the CPU, whose loops over repeated indices stay serial.
template <typename T>
MX_XINLINE void AtomicAdd(T* p, T v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
  *p += v;
#endif
}

}  // namespace mx

// Runs `...` with the compile-time `ReqName` bound to `req` (kNull skips the body).
#define MX_REQ_SWITCH(req, ReqName, ...)                   \
  switch (req) {                                           \
    case ::mx::OpReq::kNull:                               \
      break;                                               \
    case ::mx::OpReq::kWrite:                              \
    case ::mx::OpReq::kInplace: {                          \
      constexpr ::mx::OpReq ReqName = ::mx::OpReq::kWrite; \
      __VA_ARGS__;                                         \
      break;                                               \
    }                                                      \
    case ::mx::OpReq::kAdd: {                              \
      constexpr ::mx::OpReq ReqName = ::mx::OpReq::kAdd;   \
      __VA_ARGS__;                                         \
      break;                                               \
    }                                                      \
  }

// Runs `...` with `T` bound to float or double; other types are an error naming the op.
#define MX_REAL_TYPE_SWITCH(dtype, T, opname, ...)                                          \
  switch (dtype) {                                                                          \
    case ::mx::DType::kFloat32: {                                                           \
      using T = float;                                                                      \
      __VA_ARGS__;                                                                          \
      break;                                                                                \
    }                                                                                       \
    case ::mx::DType::kFloat64: {                                                           \
      using T = double;                                                                     \
      __VA_ARGS__;                                                                          \
      break;                                                                                \
    }                                                                                       \
    default:                                                                                \
      MX_THROW(kUnsupported) << "operator '" << (opname) << "' does not support dtype "     \
                             << ::mx::DTypeName(dtype) << " (supported: float32, float64)"; \
  }

#if defined(__CUDACC__)
#include "op/kernel_cuda.cuh"
#endif

#endif  // MX_OP_KERNEL_H_
