#include "op/blas.h"

#include <cblas.h>

#include <climits>

#include "base/error.h"
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

}  // namespace blas
}  // namespace mx
