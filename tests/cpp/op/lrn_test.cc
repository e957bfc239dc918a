// Cases for LRN: odd windows of several widths, windows wider than the channel count, and
// alpha large enough that the normalisation is far from the identity.
#include <cmath>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

// out[n,c,i] = x / (k + alpha / nsize * sum_{|c'-c| <= nsize/2} x[n,c',i]^2)^beta.
std::vector<double> LRNRef(const std::vector<double>& x, const Shape& s, int nsize, double alpha,
                           double beta, double k) {
  const int64_t n = s[0], c = s[1], inner = s[2] * s[3];
  std::vector<double> y(x.size());
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < inner; ++i) {
        double sum = 0;
        for (int64_t o = ch - nsize / 2; o <= ch + nsize / 2; ++o) {
          if (o < 0 || o >= c) continue;
          const double v = x[(b * c + o) * inner + i];
          sum += v * v;
        }
        const int64_t e = (b * c + ch) * inner + i;
        y[e] = x[e] / std::pow(k + alpha / nsize * sum, beta);
      }
    }
  }
  return y;
}

OpCase LRN(Shape s, int nsize, double alpha, double beta, double k, bool defaults = false) {
  std::map<std::string, std::string> p{{"nsize", std::to_string(nsize)}};
  if (!defaults) {
    p["alpha"] = ParamString(alpha);
    p["beta"] = ParamString(beta);
    p["knorm"] = ParamString(k);
  }
  // The parameters are floats (as in MXNet): the reference uses the values they hold.
  const double fa = static_cast<float>(alpha), fb = static_cast<float>(beta);
  const double fk = static_cast<float>(k);
  return OpCase("LRN", {s}, p).Range(-2, 2).Ref([=](const Vals& x) {
    return Vals{LRNRef(x[0], s, nsize, fa, fb, fk)};
  });
}

}  // namespace

MX_OP_CASES(lrn) {
  return {
      LRN(Shape{2, 5, 3, 4}, 3, 1e-4, 0.75, 2.0, /*defaults=*/true),
      LRN(Shape{1, 7, 2, 3}, 5, 0.5, 0.75, 1.0),
      LRN(Shape{2, 3, 3, 1}, 1, 2.0, 0.5, 1.5),
      // A window wider than the channels: clipped at both edges.
      LRN(Shape{1, 3, 2, 2}, 7, 1.0, 1.2, 0.5),
  };
}

TEST(LRN, BadParamsAndShapesNameTheProblem) {
  ExpectError("LRN", {{"nsize", "4"}}, {Filled(Shape{1, 5, 2, 2})}, {"LRN", "nsize=4", "odd"});
  ExpectError("LRN", {}, {Filled(Shape{1, 5, 2, 2})}, {"LRN", "nsize"});
  ExpectError("LRN", {{"nsize", "0"}}, {Filled(Shape{1, 5, 2, 2})}, {"LRN", "nsize"});
  ExpectError("LRN", {{"nsize", "3"}}, {Filled(Shape{5, 2, 2})}, {"LRN", "4-D", "(5,2,2)"});
  ExpectError("LRN", {{"nsize", "3"}, {"size", "3"}}, {Filled(Shape{1, 5, 2, 2})}, {"LRN", "size"});
  ExpectWorks("LRN", {{"nsize", "3"}}, {Filled(Shape{1, 5, 2, 2})});
}

}  // namespace test
}  // namespace mx
