// blas::SmallGemm (op/blas_small.cc) against a double-precision reference loop: every vector
// count and row-block remainder, A plain and transposed, strided operands, alpha and beta
// (beta 0 must overwrite C without reading it: C starts as NaN there), and the calls it declines.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "op/blas.h"

namespace mx {
namespace {

struct Case {
  int64_t m, n, k;
  bool trans_a;
  float alpha, beta;
};

void Check(const Case& t) {
  std::mt19937 rng(static_cast<uint32_t>(t.m * 131 + t.n * 17 + t.k));
  std::uniform_real_distribution<float> dist(-1, 1);
  const int64_t lda = (t.trans_a ? t.m : t.k) + 3, ldb = t.n + 5, ldc = t.n + 1;
  std::vector<float> a((t.trans_a ? t.k : t.m) * lda), b(t.k * ldb), c(t.m * ldc);
  for (float& x : a) x = dist(rng);
  for (float& x : b) x = dist(rng);
  for (float& x : c) x = t.beta == 0 ? std::numeric_limits<float>::quiet_NaN() : dist(rng);
  std::vector<float> expect = c;
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      double s = 0;
      for (int64_t kk = 0; kk < t.k; ++kk) {
        s += double(t.trans_a ? a[kk * lda + i] : a[i * lda + kk]) * b[kk * ldb + j];
      }
      const double old = t.beta == 0 ? 0.0 : double(t.beta) * c[i * ldc + j];
      expect[i * ldc + j] = static_cast<float>(t.alpha * s + old);
    }
  }
  if (!blas::SmallGemm(t.trans_a, false, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb,
                       t.beta, c.data(), ldc)) {
    GTEST_SKIP() << "no AVX-512 on this CPU";
  }
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[i * ldc + j], want = expect[i * ldc + j];
      if (j >= t.n) {  // padding past the row: untouched
        EXPECT_TRUE(std::isnan(got) || got == want) << i << "," << j;
        continue;
      }
      EXPECT_NEAR(got, want, 1e-5 * (1 + t.k))
          << "m=" << t.m << " n=" << t.n << " k=" << t.k << " trans_a=" << t.trans_a << " at " << i
          << "," << j;
    }
  }
}

TEST(SmallGemm, MatchesReference) {
  for (int64_t n : {1, 7, 16, 17, 31, 32, 40, 48, 64}) {
    for (int64_t m : {1, 3, 8, 9, 16}) {
      for (int64_t k : {1, 5, 16}) {
        for (bool trans_a : {false, true}) {
          Check({m, n, k, trans_a, 1.0f, 0.0f});
        }
      }
    }
  }
  Check({16, 16, 16, false, 0.5f, 2.0f});
  Check({5, 33, 9, true, -1.5f, 1.0f});
}

TEST(SmallGemm, DeclinesWhatItDoesNotCover) {
  std::vector<float> a(128 * 128, 1.0f), b(128 * 128, 1.0f), c(128 * 128, 0.0f);
  // b transposed, n beyond 64, too much work: the libraries' kernels.
  EXPECT_FALSE(blas::SmallGemm(false, true, 4, 4, 4, 1, a.data(), 4, b.data(), 4, 0, c.data(), 4));
  EXPECT_FALSE(
      blas::SmallGemm(false, false, 4, 65, 4, 1, a.data(), 4, b.data(), 65, 0, c.data(), 65));
  EXPECT_FALSE(
      blas::SmallGemm(false, false, 64, 64, 64, 1, a.data(), 64, b.data(), 64, 0, c.data(), 64));
  for (float x : c) EXPECT_EQ(x, 0.0f);
}

}  // namespace
}  // namespace mx
