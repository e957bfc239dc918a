// Cases for InstanceNorm: 3-D and 4-D data, default and larger eps.
#include <cmath>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

std::vector<double> InstanceNormRef(const Vals& x, const Shape& s, double eps) {
  const int64_t c = s[1], len = s.ProdDims(2, s.ndim());
  std::vector<double> y(x[0].size());
  for (int64_t r = 0; r < s[0] * c; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < len; ++j) mean += x[0][r * len + j] / len;
    for (int64_t j = 0; j < len; ++j) var += std::pow(x[0][r * len + j] - mean, 2) / len;
    for (int64_t j = 0; j < len; ++j) {
      y[r * len + j] =
          x[1][r % c] * (x[0][r * len + j] - mean) / std::sqrt(var + eps) + x[2][r % c];
    }
  }
  return y;
}

OpCase IN(Shape s, double eps = 1e-3) {
  std::map<std::string, std::string> p;
  if (eps != 1e-3) p["eps"] = ParamString(eps);
  const double e = static_cast<float>(eps);  // the parameter is a float, as in MXNet
  return OpCase("InstanceNorm", {s, Shape{s[1]}, Shape{s[1]}}, p)
      .Ref([=](const Vals& x) { return Vals{InstanceNormRef(x, s, e)}; })
      // Normalising few values amplifies float32 rounding a little.
      .Tol(1e-4, 1e-5);
}

}  // namespace

MX_OP_CASES(instance_norm) {
  return {
      IN(Shape{2, 3, 4}),
      IN(Shape{2, 2, 3, 3}, 0.1),
      IN(Shape{1, 1, 5}),
      IN(Shape{3, 2, 2, 1, 3}),
  };
}

TEST(InstanceNorm, BadShapesNameTheArgument) {
  ExpectError("InstanceNorm", {}, {Filled(Shape{2, 3}), Filled(Shape{3}), Filled(Shape{3})},
              {"InstanceNorm", "data", "3 dimensions", "(2,3)"});
  ExpectError("InstanceNorm", {}, {Filled(Shape{2, 3, 4}), Filled(Shape{4}), Filled(Shape{3})},
              {"InstanceNorm", "gamma", "(4)", "(3)"});
  ExpectError("InstanceNorm", {}, {Filled(Shape{2, 3, 4}), Filled(Shape{3}), Filled(Shape{2})},
              {"InstanceNorm", "beta", "(2)", "(3)"});
  ExpectError("InstanceNorm", {{"eps", "x"}},
              {Filled(Shape{2, 3, 4}), Filled(Shape{3}), Filled(Shape{3})},
              {"InstanceNorm", "eps"});
  ExpectWorks("InstanceNorm", {}, {Filled(Shape{2, 3, 4}), Filled(Shape{3}), Filled(Shape{3})});
}

TEST(InstanceNorm, InfersGammaAndBetaFromData) {
  const Op* op = OpRegistry::Get()->Get("InstanceNorm");
  NodeAttrs attrs = MakeAttrs(op, {});
  std::vector<Shape> in{Shape{4, 6, 5, 5}, Shape::Unknown(), Shape::Unknown()};
  std::vector<Shape> out{Shape::Unknown()};
  EXPECT_TRUE(op->infer_shape(attrs, &in, &out));
  EXPECT_EQ(in[1], (Shape{6}));
  EXPECT_EQ(in[2], (Shape{6}));
  EXPECT_EQ(out[0], (Shape{4, 6, 5, 5}));
}

}  // namespace test
}  // namespace mx
