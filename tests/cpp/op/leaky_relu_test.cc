// Cases for LeakyReLU: leaky, prelu (per-channel and shared slope) and elu.
#include <cmath>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

// slope is a float parameter (as in MXNet): the references use the value it holds.
OpCase Leaky(Shape s, float slope, std::map<std::string, std::string> p = {}) {
  return OpCase("LeakyReLU", {s}, std::move(p)).Ref([slope](const Vals& x) {
    return Vals{Map1(x[0], [slope](double v) { return v > 0 ? v : double(slope) * v; })};
  });
}

OpCase Elu(Shape s, float slope, std::map<std::string, std::string> p) {
  p["act_type"] = "elu";
  return OpCase("LeakyReLU", {s}, std::move(p)).Range(-2, 2).Ref([slope](const Vals& x) {
    return Vals{
        Map1(x[0], [slope](double v) { return v > 0 ? v : double(slope) * (std::exp(v) - 1); })};
  });
}

// data (N, C, inner...) with gamma of C slopes, or of one.
OpCase PRelu(Shape data, Shape gamma) {
  const int64_t channels = data[1], inner = data.ProdDims(2, data.ndim());
  return OpCase("LeakyReLU", {data, gamma}, {{"act_type", "prelu"}})
      .Ref([channels, inner](const Vals& x) {
        std::vector<double> y(x[0].size());
        for (size_t i = 0; i < y.size(); ++i) {
          const int64_t c = (static_cast<int64_t>(i) / inner) % channels;
          const double a = x[1].size() == 1 ? x[1][0] : x[1][c];
          y[i] = x[0][i] > 0 ? x[0][i] : a * x[0][i];
        }
        return Vals{y};
      });
}

}  // namespace

MX_OP_CASES(leaky_relu) {
  return {
      Leaky(Shape{3, 5}, 0.25),  // the default slope
      Leaky(Shape{2, 3, 3, 5}, 0.1, {{"act_type", "leaky"}, {"slope", "0.1"}}),
      // A negative slope: the gradient must come from the input's sign, not the output's.
      Leaky(Shape{7}, -0.5, {{"slope", "-0.5"}}), Elu(Shape{2, 3, 4}, 0.25, {}),
      Elu(Shape{5, 3}, 1.0, {{"slope", "1"}}), PRelu(Shape{2, 3, 4, 5}, Shape{3}),
      PRelu(Shape{3, 4}, Shape{4}),     // 2-D: one slope per feature
      PRelu(Shape{2, 3, 5}, Shape{1}),  // one slope shared by every channel
  };
}

TEST(LeakyReLU, PReluInfersGammaFromData) {
  const Op* op = OpRegistry::Get()->Get("LeakyReLU");
  NodeAttrs attrs = MakeAttrs(op, {{"act_type", "prelu"}});
  EXPECT_EQ(op->InputNames(attrs), (std::vector<std::string>{"data", "gamma"}));
  std::vector<Shape> in{Shape{4, 6, 2, 2}, Shape::Unknown()}, out{Shape::Unknown()};
  EXPECT_TRUE(op->infer_shape(attrs, &in, &out));
  EXPECT_EQ(in[1], (Shape{6}));
  EXPECT_EQ(out[0], (Shape{4, 6, 2, 2}));
  // Backward: data from the output.
  std::vector<Shape> in2{Shape::Unknown(), Shape::Unknown()}, out2{Shape{2, 3}};
  EXPECT_TRUE(op->infer_shape(attrs, &in2, &out2));
  EXPECT_EQ(in2[0], (Shape{2, 3}));
  EXPECT_EQ(in2[1], (Shape{3}));
}

TEST(LeakyReLU, BadParamsAndShapesNameTheProblem) {
  ExpectError("LeakyReLU", {{"act_type", "rrelu"}}, {Filled(Shape{2})},
              {"LeakyReLU", "rrelu", "leaky", "prelu", "elu"});
  ExpectError("LeakyReLU", {{"slope", "abc"}}, {Filled(Shape{2})}, {"LeakyReLU", "slope"});
  ExpectError("LeakyReLU", {{"act_type", "prelu"}}, {Filled(Shape{2, 3}), Filled(Shape{4})},
              {"LeakyReLU", "gamma", "(4)", "(3)"});
  ExpectError("LeakyReLU", {{"act_type", "prelu"}}, {Filled(Shape{5}), Filled(Shape{5})},
              {"LeakyReLU", "prelu", "channel", "(5)"});
  ExpectError("LeakyReLU", {{"act_type", "prelu"}}, {Filled(Shape{2, 3})},
              {"LeakyReLU", "takes 2 inputs", "gamma"});
  ExpectError("LeakyReLU", {}, {Filled(Shape{2}, 1.0, DType::kInt32)}, {"LeakyReLU", "int32"});
  ExpectWorks("LeakyReLU", {{"act_type", "prelu"}}, {Filled(Shape{2, 3}), Filled(Shape{3})});
}

TEST(LeakyReLU, ValuesAtAGlance) {
  auto y = RunOp("LeakyReLU", {{"slope", "0.5"}}, {MakeArray(Shape{3}, {-2, 0, 3})});
  EXPECT_EQ(ToVector(y[0]), (std::vector<double>{-1, 0, 3}));
  auto e = RunOp("LeakyReLU", {{"act_type", "elu"}, {"slope", "2"}},
                 {MakeArray(Shape{2}, {-1, 1}, DType::kFloat32)});
  EXPECT_NEAR(ToVector(e[0])[0], 2 * (std::exp(-1.0) - 1), 1e-6);
  EXPECT_EQ(ToVector(e[0])[1], 1.0);
}

}  // namespace test
}  // namespace mx
