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
// kernels; the same definitions compile for the host and, under nvcc, for the device. The GPU
// half lives in op/kernel_cuda.cuh and is instantiated in the family's .cu file.
#ifndef MX_OP_KERNEL_H_
#define MX_OP_KERNEL_H_

#include <cstdint>

#include "base/error.h"
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

namespace mx {

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
template <typename OP>
struct Kernel {
  template <typename... Args>
  static void LaunchCPU(int64_t n, Args... args) {
#if MX_USE_OPENMP
    if (n >= kOmpMinWork && omp_get_max_threads() > 1) {
#pragma omp parallel for simd schedule(static)
      for (int64_t i = 0; i < n; ++i) OP::Map(i, args...);
      return;
    }
#pragma omp simd
#endif
    for (int64_t i = 0; i < n; ++i) OP::Map(i, args...);
  }
};

// Writes `value` to `out` as `req` says (Req is a template parameter so the branch folds away).
template <OpReq Req, typename T>
MX_XINLINE void Assign(T& out, T value) {
  if (Req == OpReq::kAdd) {
    out += value;
  } else if (Req != OpReq::kNull) {
    out = value;
  }
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

#endif  // MX_OP_KERNEL_H_
