// Cases for L2Normalization in its three modes.
#include <cmath>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

// Normalises x viewed as (outer, len, inner) along len.
std::vector<double> L2Ref(const std::vector<double>& x, int64_t len, int64_t inner, double eps) {
  std::vector<double> y(x.size());
  const int64_t outer = static_cast<int64_t>(x.size()) / (len * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      double sq = 0;
      for (int64_t r = 0; r < len; ++r) sq += std::pow(x[(o * len + r) * inner + j], 2);
      for (int64_t r = 0; r < len; ++r) {
        const int64_t e = (o * len + r) * inner + j;
        y[e] = x[e] / std::sqrt(sq + eps);
      }
    }
  }
  return y;
}

OpCase L2(Shape s, const std::string& mode, double eps = 1e-10) {
  std::map<std::string, std::string> p;
  if (!mode.empty()) p["mode"] = mode;
  if (eps != 1e-10) p["eps"] = ParamString(eps);
  int64_t len = s.ProdDims(1, s.ndim()), inner = 1;  // instance (the default)
  if (mode == "channel") {
    len = s[1];
    inner = s.ProdDims(2, s.ndim());
  } else if (mode == "spatial") {
    len = s.ProdDims(2, s.ndim());
  }
  // float32 keeps eps as a float: compare the reference with the value float32 holds.
  const double e = static_cast<float>(eps);
  return OpCase("L2Normalization", {s}, p).Ref([=](const Vals& x) {
    return Vals{L2Ref(x[0], len, inner, e)};
  });
}

}  // namespace

MX_OP_CASES(l2_normalization) {
  return {
      L2(Shape{3, 4}, ""),
      L2(Shape{2, 3, 2, 2}, "instance", 0.1),
      L2(Shape{5}, "instance"),  // one-dimensional: every element is an instance
      L2(Shape{2, 3, 2, 3}, "channel"),
      L2(Shape{2, 4, 5}, "channel", 0.5),
      L2(Shape{2, 3, 5}, "spatial"),
      L2(Shape{1, 2, 3, 2}, "spatial", 0.01),
  };
}

TEST(L2Normalization, BadModesAndShapesNameTheProblem) {
  ExpectError("L2Normalization", {{"mode", "channel"}}, {Filled(Shape{2, 3})},
              {"L2Normalization", "mode=channel", "3 dimensions", "(2,3)"});
  ExpectError("L2Normalization", {{"mode", "spatial"}}, {Filled(Shape{4})},
              {"L2Normalization", "mode=spatial", "(4)"});
  ExpectError("L2Normalization", {{"mode", "batch"}}, {Filled(Shape{2, 3})},
              {"L2Normalization", "batch", "instance", "channel", "spatial"});
  ExpectWorks("L2Normalization", {{"mode", "channel"}}, {Filled(Shape{2, 3, 1})});
}

TEST(L2Normalization, ZerosStayFinite) {
  auto y = RunOp("L2Normalization", {}, {MakeArray(Shape{1, 3}, {0, 0, 0}, DType::kFloat32)});
  for (double v : ToVector(y[0])) EXPECT_EQ(v, 0.0);
}

}  // namespace test
}  // namespace mx
