// A thin wrapper over CBLAS (OpenBLAS on the CPU) for the GEMM/GEMV calls the ops need.
//
// Row-major throughout, with the shapes of the logical operands (after transposition):
//
//   // c (m x n) = a (m x k) . b^T (b is n x k), overwriting c
//   blas::Gemm(false, true, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
//
// float and double overloads, so a kernel written with MX_REAL_TYPE_SWITCH calls blas::Gemm<T>
// directly. Dimensions beyond CBLAS's int are an error (mx::Error), never a silent wrap.
#ifndef MX_OP_BLAS_H_
#define MX_OP_BLAS_H_

#include <cstdint>

namespace mx {
namespace blas {

// c = alpha * op(a) . op(b) + beta * c, with op(a) m x k, op(b) k x n, c m x n; lda/ldb/ldc are
// the row strides of a, b and c as stored (before transposition).
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

// y = alpha * op(a) . x + beta * y, with a stored m x n (row stride lda); op(a) is a or a^T.
void Gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, float beta, float* y);
void Gemv(bool trans_a, int64_t m, int64_t n, double alpha, const double* a, int64_t lda,
          const double* x, double beta, double* y);

}  // namespace blas
}  // namespace mx

#endif  // MX_OP_BLAS_H_
