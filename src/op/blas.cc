#include "op/blas.h"

#include <cblas.h>

#include <climits>

#include "base/error.h"
#include "op/cuda_util.h"
#include "op/kernel.h"
#if MX_USE_ONEDNN
#include <oneapi/dnnl/dnnl.h>

#include "op/onednn/onednn.h"
#endif

namespace mx {
namespace blas {
namespace {

// CBLAS takes int dimensions: larger ones would wrap silently.
int ToInt(int64_t v, const char* what) {
  MX_CHECK(v >= 0 && v <= INT_MAX, kInvalidArgument)
      << "BLAS: " << what << " = " << v << " is outside the range CBLAS supports (0.." << INT_MAX
      << ")";
  return static_cast<int>(v);
}

CBLAS_TRANSPOSE Op(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

// CBLAS rejects leading dimensions below 1 even when a matrix is empty.
int Ld(int64_t ld) { return ToInt(ld < 1 ? 1 : ld, "leading dimension"); }

// Handles empty products without calling CBLAS: returns true when nothing is left to do. An empty
// inner dimension leaves c = beta * c.
template <typename T>
bool EmptyGemm(int64_t m, int64_t n, int64_t k, T beta, T* c, int64_t ldc) {
  if (m > 0 && n > 0 && k > 0) return false;
  if (k == 0 && beta != T(1)) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    }
  }
  return true;
}

template <typename T>
bool EmptyGemv(bool trans_a, int64_t m, int64_t n, T beta, T* y) {
  return EmptyGemm(trans_a ? n : m, int64_t{1}, trans_a ? m : n, beta, y, int64_t{1});
}

}  // namespace

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (EmptyGemm(m, n, k, beta, c, ldc)) return;
  if (SmallGemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
#if MX_USE_ONEDNN
  // float GEMMs go to oneDNN's sgemm when libmx has it: it picks its kernels by the CPU's
  // features, where OpenBLAS 0.3.21 picks them by CPU model and falls back to its SSE3 (Prescott)
  // kernels on CPUs it does not know. Measured on this 2-core machine (Intel family 6 model 207):
  // 128x500x800 142 vs 34 GFLOP/s; with OPENBLAS_CORETYPE=SkylakeX forced, 184 vs 154.
  if (onednn::Enabled()) {
    const dnnl_status_t st =
        dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda < 1 ? 1 : lda,
                   b, ldb < 1 ? 1 : ldb, beta, c, ldc < 1 ? 1 : ldc);
    MX_CHECK(st == dnnl_success, kFailed) << "oneDNN sgemm (" << m << " x " << n << " x " << k
                                          << ") failed with status " << static_cast<int>(st);
    return;
  }
#endif
  GemmCblas(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void GemmCblas(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  if (EmptyGemm(m, n, k, beta, c, ldc)) return;
  if (SmallGemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  cblas_sgemm(CblasRowMajor, Op(trans_a), Op(trans_b), ToInt(m, "m"), ToInt(n, "n"), ToInt(k, "k"),
              alpha, a, Ld(lda), b, Ld(ldb), beta, c, Ld(ldc));
}

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  if (EmptyGemm(m, n, k, beta, c, ldc)) return;
  cblas_dgemm(CblasRowMajor, Op(trans_a), Op(trans_b), ToInt(m, "m"), ToInt(n, "n"), ToInt(k, "k"),
              alpha, a, Ld(lda), b, Ld(ldb), beta, c, Ld(ldc));
}

void Gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, float beta, float* y) {
  if (EmptyGemv(trans_a, m, n, beta, y)) return;
  cblas_sgemv(CblasRowMajor, Op(trans_a), ToInt(m, "m"), ToInt(n, "n"), alpha, a, Ld(lda), x, 1,
              beta, y, 1);
}

void Gemv(bool trans_a, int64_t m, int64_t n, double alpha, const double* a, int64_t lda,
          const double* x, double beta, double* y) {
  if (EmptyGemv(trans_a, m, n, beta, y)) return;
  cblas_dgemv(CblasRowMajor, Op(trans_a), ToInt(m, "m"), ToInt(n, "n"), alpha, a, Ld(lda), x, 1,
              beta, y, 1);
}

#if MX_USE_CUDA
namespace {

cublasOperation_t CuOp(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// c = beta * c over an m x n block with row stride ldc: the whole GEMM when k is 0, which
// cuBLAS need not handle.
struct ScaleBlockKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* c, int64_t n, int64_t ldc, T beta) {
    T& v = c[(i / n) * ldc + i % n];
    v = beta == T(0) ? T(0) : beta * v;
  }
};

// cuBLAS is column-major: row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, so
// the operands swap places and m and n trade roles; the leading dimensions stay the row strides.
template <typename T, typename GemmFn>
void CublasGemm(GemmFn fn, const char* name, const engine::RunContext& rctx, bool trans_a,
                bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (beta != T(1)) Kernel<ScaleBlockKernel>::LaunchGPU(rctx, m * n, c, n, ldc, beta);
    return;
  }
  cuda::Check(fn(cuda::BlasOf(rctx), CuOp(trans_b), CuOp(trans_a), ToInt(n, "n"), ToInt(m, "m"),
                 ToInt(k, "k"), &alpha, b, Ld(ldb), a, Ld(lda), &beta, c, Ld(ldc)),
              name);
}

template <typename T, typename GemmFn>
void CublasGemmBatched(GemmFn fn, const char* name, const engine::RunContext& rctx, bool trans_a,
                       bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                       int64_t lda, int64_t stride_a, const T* b, int64_t ldb, int64_t stride_b,
                       T beta, T* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  if (k <= 0) {
    if (beta == T(1)) return;
    for (int64_t i = 0; i < batch; ++i) {
      Kernel<ScaleBlockKernel>::LaunchGPU(rctx, m * n, c + i * stride_c, n, ldc, beta);
    }
    return;
  }
  cuda::Check(fn(cuda::BlasOf(rctx), CuOp(trans_b), CuOp(trans_a), ToInt(n, "n"), ToInt(m, "m"),
                 ToInt(k, "k"), &alpha, b, Ld(ldb), stride_b, a, Ld(lda), stride_a, &beta, c,
                 Ld(ldc), stride_c, ToInt(batch, "batch")),
              name);
}

}  // namespace

#define MX_GEMM_ON_DEVICE(T, cublas_fn)                                                          \
  if (rctx.ctx.is_gpu()) {                                                                       \
    CublasGemm<T>(cublas_fn, #cublas_fn, rctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, \
                  beta, c, ldc);                                                                 \
    return;                                                                                      \
  }
#define MX_GEMM_BATCHED_ON_DEVICE(T, cublas_fn)                                               \
  CublasGemmBatched<T>(cublas_fn, #cublas_fn, rctx, trans_a, trans_b, m, n, k, alpha, a, lda, \
                       stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, batch)
#else
#define MX_GEMM_ON_DEVICE(T, cublas_fn) \
  MX_CHECK(!rctx.ctx.is_gpu(), kUnsupported) << "GEMM on " << rctx.ctx << ": built without CUDA";
#define MX_GEMM_BATCHED_ON_DEVICE(T, cublas_fn) \
  MX_THROW(kUnsupported) << "GEMM on " << rctx.ctx << ": built without CUDA"
#endif

void Gemm(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m, int64_t n,
          int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc) {
  MX_GEMM_ON_DEVICE(float, cublasSgemm)
  Gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void Gemm(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m, int64_t n,
          int64_t k, double alpha, const double* a, int64_t lda, const double* b, int64_t ldb,
          double beta, double* c, int64_t ldc) {
  MX_GEMM_ON_DEVICE(double, cublasDgemm)
  Gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void GemmStridedBatchedGpu(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m,
                           int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                           int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b,
                           float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  MX_GEMM_BATCHED_ON_DEVICE(float, cublasSgemmStridedBatched);
}

void GemmStridedBatchedGpu(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m,
                           int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                           int64_t stride_a, const double* b, int64_t ldb, int64_t stride_b,
                           double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  MX_GEMM_BATCHED_ON_DEVICE(double, cublasDgemmStridedBatched);
}

}  // namespace blas
}  // namespace mx
