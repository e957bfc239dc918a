// A thin wrapper over CBLAS (OpenBLAS on the CPU) for the GEMM/GEMV calls the ops need.
//
// Row-major throughout, with the shapes of the logical operands (after transposition):
//
//   // c (m x n) = a (m x k) . b^T (b is n x k), overwriting c
//   blas::Gemm(false, true, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
//
// float and double overloads, so a kernel written with MX_REAL_TYPE_SWITCH calls blas::Gemm<T>
// directly; the overloads taking the op's RunContext run on its device (cuBLAS on a GPU).
// Dimensions beyond CBLAS's int are an error (mx::Error), never a silent wrap.
#ifndef MX_OP_BLAS_H_
#define MX_OP_BLAS_H_

#include <cstdint>

#include "engine/engine.h"

namespace mx {
namespace blas {

// c = alpha * op(a) . op(b) + beta * c, with op(a) m x k, op(b) k x n, c m x n; lda/ldb/ldc are
// the row strides of a, b and c as stored (before transposition).
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

// Small float products (at most 32^3 multiply-adds, n <= 64, b not transposed) on AVX-512 in
// registers, without a library's fixed cost per call (op/blas_small.cc); false, having done
// nothing, when it does not take the call. Gemm and GemmCblas try it first.
bool SmallGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc);

// The float GEMM through CBLAS alone, never oneDNN: dot's products are often tiny, where
// oneDNN's sgemm costs more per call (a 16x16 dot: ~600 ns through OpenBLAS, ~1100 ns through
// oneDNN, bench/op_latency).
void GemmCblas(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc);

// y = alpha * op(a) . x + beta * y, with a stored m x n (row stride lda); op(a) is a or a^T.
void Gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, float beta, float* y);
void Gemv(bool trans_a, int64_t m, int64_t n, double alpha, const double* a, int64_t lda,
          const double* x, double beta, double* y);

// The same on the op's device (RunContext): the CPU's BLAS above, or cuBLAS on the worker's
// stream, in which case every pointer is a device pointer. Returns once the GEMM is enqueued.
void Gemm(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m, int64_t n,
          int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc);
void Gemm(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m, int64_t n,
          int64_t k, double alpha, const double* a, int64_t lda, const double* b, int64_t ldb,
          double beta, double* c, int64_t ldc);

// `batch` GEMMs of one shape, matrix i at a + i * stride_a (and so on), on the GPU only: one
// cuBLAS strided-batched call. (The CPU splits a batch across its threads instead: batch_dot.)
void GemmStridedBatchedGpu(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m,
                           int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                           int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b,
                           float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch);
void GemmStridedBatchedGpu(const engine::RunContext& rctx, bool trans_a, bool trans_b, int64_t m,
                           int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                           int64_t stride_a, const double* b, int64_t ldb, int64_t stride_b,
                           double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace blas
}  // namespace mx

#endif  // MX_OP_BLAS_H_
