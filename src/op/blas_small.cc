// Small float GEMMs on AVX-512, without a library call: dot of a 16x16 pair is a few hundred
// multiply-adds, where OpenBLAS's and oneDNN's fixed costs per call (argument checks, the
// threading decision, packing) are most of the time.
//
// C's rows are computed in blocks of R rows, each row NV 16-float vectors wide (n <= 64, the
// last vector masked): for each k, one broadcast of A's element per row and one load of B's row
// per vector feed R * NV independent FMA chains, enough to hide the FMA latency. B must not be
// transposed (its rows are the vectors); A may be.
#include <immintrin.h>

#include "op/blas.h"

namespace mx {
namespace blas {
namespace {

constexpr int64_t kMaxWork = 32 * 32 * 32;  // multiply-adds; beyond, the libraries' kernels win

template <int NV, int R>
__attribute__((target("avx512f"))) void Rows(bool trans_a, int64_t i0, int64_t n, int64_t k,
                                             float alpha, const float* a, int64_t lda,
                                             const float* b, int64_t ldb, float beta, float* c,
                                             int64_t ldc) {
  const int tail_lanes = static_cast<int>(n - 16 * (NV - 1));
  const __mmask16 tail = static_cast<__mmask16>((1u << tail_lanes) - 1u);
  __m512 acc[R][NV];
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int64_t kk = 0; kk < k; ++kk) {
    __m512 bv[NV];
    for (int v = 0; v < NV; ++v) {
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(tail, b + kk * ldb + 16 * v)
                          : _mm512_loadu_ps(b + kk * ldb + 16 * v);
    }
    for (int r = 0; r < R; ++r) {
      const int64_t i = i0 + r;
      const __m512 av = _mm512_set1_ps(trans_a ? a[kk * lda + i] : a[i * lda + kk]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int r = 0; r < R; ++r) {
    float* row = c + (i0 + r) * ldc;
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = v == NV - 1 ? tail : static_cast<__mmask16>(0xFFFF);
      __m512 out = _mm512_mul_ps(va, acc[r][v]);
      // beta == 0 overwrites without reading C (it may hold NaN), as BLAS does.
      if (beta != 0.0f) out = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, row + 16 * v), out);
      _mm512_mask_storeu_ps(row + 16 * v, m, out);
    }
  }
}

template <int NV>
void Blocks(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
            const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  constexpr int R = NV == 1 ? 8 : NV == 2 ? 4 : 2;  // R * NV accumulators: at most 8
  int64_t i = 0;
  for (; i + R <= m; i += R) Rows<NV, R>(trans_a, i, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  for (; i < m; ++i) Rows<NV, 1>(trans_a, i, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

bool SmallGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 || trans_b || n < 1 || n > 64 || m < 1 || k < 1 || m > kMaxWork || k > kMaxWork ||
      m * n * k > kMaxWork) {
    return false;
  }
  switch ((n + 15) / 16) {
    case 1:
      Blocks<1>(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      break;
    case 2:
      Blocks<2>(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      break;
    case 3:
      Blocks<3>(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      break;
    default:
      Blocks<4>(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      break;
  }
  return true;
}

}  // namespace blas
}  // namespace mx
