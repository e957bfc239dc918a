// Cases for the loss (output) ops. Their gradient is that of the loss they stand for, not the
// derivative of their output, so each case checks the registered gradient against a reference
// (GradRef) instead of finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "op_harness.h"

namespace mx {
namespace test {
namespace {

// Class labels for input 1: 0..classes-1, and `ignore` at every third position when >= -1.
std::function<void(int, std::vector<double>*)> Labels(int classes, double ignore = -10) {
  return [classes, ignore](int input, std::vector<double>* v) {
    if (input != 1) return;
    for (size_t i = 0; i < v->size(); ++i) {
      (*v)[i] = (ignore > -10 && i % 3 == 1) ? ignore : double((i * 5 + 1) % classes);
    }
  };
}

std::vector<double> Softmax(const std::vector<double>& x, int64_t len, int64_t inner) {
  std::vector<double> y(x.size());
  const int64_t outer = static_cast<int64_t>(x.size()) / (len * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(x[(o * len + j) * inner + i]);
      for (int64_t j = 0; j < len; ++j) {
        y[(o * len + j) * inner + i] = std::exp(x[(o * len + j) * inner + i]) / sum;
      }
    }
  }
  return y;
}

// d/d data of the cross-entropy: (softmax - one_hot) * scale, zero at ignored positions.
std::vector<double> SoftmaxGrad(const std::vector<double>& x, const std::vector<double>& label,
                                int64_t len, int64_t inner, double scale, bool use_ignore = false,
                                double ignore = -1) {
  std::vector<double> g = Softmax(x, len, inner);
  const int64_t outer = static_cast<int64_t>(x.size()) / (len * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const double l = label[o * inner + i];
      for (int64_t j = 0; j < len; ++j) {
        double& v = g[(o * len + j) * inner + i];
        v = (use_ignore && l == ignore) ? 0.0 : (v - (j == int64_t(l) ? 1.0 : 0.0)) * scale;
      }
    }
  }
  return g;
}

OpCase SoftmaxCase(std::vector<Shape> shapes, std::map<std::string, std::string> p, int64_t len,
                   int64_t inner, std::function<std::vector<double>(const Vals&)> grad) {
  return OpCase("SoftmaxOutput", std::move(shapes), std::move(p))
      .Range(-2, 2)
      .NoGrad()
      .Ref([len, inner](const Vals& x) { return Vals{Softmax(x[0], len, inner)}; })
      .GradRef([grad](const Vals& x, const Vals&) {
        return Vals{grad(x), std::vector<double>(x[1].size(), 0.0)};
      });
}

double Sig(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

MX_OP_CASES(loss) {
  return {
      // Default: gradient = softmax - one_hot, not normalised, head gradient ignored.
      SoftmaxCase({Shape{4, 5}, Shape{4}}, {}, 5, 1,
                  [](const Vals& x) { return SoftmaxGrad(x[0], x[1], 5, 1, 1.0); })
          .Init(Labels(5)),
      SoftmaxCase({Shape{4, 5}, Shape{4}}, {{"grad_scale", "2"}, {"normalization", "batch"}}, 5, 1,
                  [](const Vals& x) { return SoftmaxGrad(x[0], x[1], 5, 1, 2.0 / 4); })
          .Init(Labels(5)),
      // Ignored labels: zero gradient, and 'valid' counts only the others (6 labels, 2 ignored).
      SoftmaxCase({Shape{6, 3}, Shape{6}},
                  {{"use_ignore", "true"}, {"ignore_label", "-1"}, {"normalization", "valid"}}, 3,
                  1, [](const Vals& x) { return SoftmaxGrad(x[0], x[1], 3, 1, 1.0 / 4, true); })
          .Init(Labels(3, -1)),
      // Non-flattened data is flattened per example: (2, 2, 3) is 2 examples of 6 classes.
      SoftmaxCase({Shape{2, 2, 3}, Shape{2}}, {}, 6, 1,
                  [](const Vals& x) { return SoftmaxGrad(x[0], x[1], 6, 1, 1.0); })
          .Init(Labels(6)),
      // preserve_shape: softmax over the last axis, one label per (example, position).
      SoftmaxCase({Shape{2, 3, 4}, Shape{2, 3}},
                  {{"preserve_shape", "true"}, {"normalization", "batch"}}, 4, 1,
                  [](const Vals& x) { return SoftmaxGrad(x[0], x[1], 4, 1, 1.0 / 6); })
          .Init(Labels(4)),
      // multi_output: softmax over axis 1 of (n, k, d); gradient averaged over the d positions
      // and, with 'batch', over n.
      SoftmaxCase({Shape{2, 3, 4}, Shape{2, 4}},
                  {{"multi_output", "true"}, {"normalization", "batch"}}, 3, 4,
                  [](const Vals& x) { return SoftmaxGrad(x[0], x[1], 3, 4, 1.0 / 4 / 2); })
          .Init(Labels(3)),
      // Class probabilities as label (label shaped like data): gradient = softmax - label.
      SoftmaxCase({Shape{3, 4}, Shape{3, 4}}, {}, 4, 1,
                  [](const Vals& x) {
                    std::vector<double> g = Softmax(x[0], 4, 1);
                    for (size_t i = 0; i < g.size(); ++i) g[i] -= x[1][i];
                    return g;
                  })
          .Range(0, 1),
      OpCase("LinearRegressionOutput", {Shape{4, 3}, Shape{4, 3}}, {{"grad_scale", "2"}})
          .NoGrad()
          .Ref([](const Vals& x) { return Vals{x[0]}; })
          .GradRef([](const Vals& x, const Vals&) {
            return Vals{Map2(x[0], x[1], [](double o, double l) { return (o - l) * 2 / 3; }),
                        std::vector<double>(x[1].size(), 0.0)};
          }),
      // (n, 1) data takes an (n) label.
      OpCase("LinearRegressionOutput", {Shape{5, 1}, Shape{5}})
          .NoGrad()
          .Ref([](const Vals& x) { return Vals{x[0]}; })
          .GradRef([](const Vals& x, const Vals&) {
            return Vals{Map2(x[0], x[1], [](double o, double l) { return o - l; }),
                        std::vector<double>(x[1].size(), 0.0)};
          }),
      OpCase("LogisticRegressionOutput", {Shape{4, 2}, Shape{4, 2}})
          .NoGrad()
          .Ref([](const Vals& x) { return Vals{Map1(x[0], Sig)}; })
          .GradRef([](const Vals& x, const Vals&) {
            return Vals{Map2(x[0], x[1], [](double d, double l) { return (Sig(d) - l) / 2; }),
                        std::vector<double>(x[1].size(), 0.0)};
          }),
      OpCase("MAERegressionOutput", {Shape{3, 4}, Shape{3, 4}})
          .NoGrad()
          .Ref([](const Vals& x) { return Vals{x[0]}; })
          .GradRef([](const Vals& x, const Vals&) {
            return Vals{
                Map2(x[0], x[1], [](double o, double l) { return (o > l ? 1.0 : -1.0) / 4; }),
                std::vector<double>(x[1].size(), 0.0)};
          }),
  };
}

namespace {

NDArray Ones(const Shape& s) { return MakeArray(s, std::vector<double>(s.Size(), 1.0)); }

std::string ErrorOf(const std::string& op, const std::map<std::string, std::string>& params,
                    const std::vector<NDArray>& inputs) {
  try {
    RunOp(op, params, inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SoftmaxOutput, WrongLabelShapeNamesLabelAndShapes) {
  const std::string msg = ErrorOf("SoftmaxOutput", {}, {Ones(Shape{4, 5}), Ones(Shape{5})});
  EXPECT_NE(msg.find("SoftmaxOutput"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(5)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4)"), std::string::npos) << msg;
  EXPECT_NE(ErrorOf("SoftmaxOutput", {}, {Ones(Shape{4}), Ones(Shape{4})}).find("2 dimensions"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf("SoftmaxOutput", {{"normalization", "mean"}}, {Ones(Shape{4, 5}), Ones(Shape{4})})
          .find("'valid'"),
      std::string::npos);
}

TEST(SoftmaxOutput, GradientIgnoresTheHeadGradient) {
  NDArray data = MakeArray(Shape{2, 2}, {0, 0, 0, 0});
  NDArray label = MakeArray(Shape{2}, {0, 1});
  auto g = EvalGradient("SoftmaxOutput", {}, {data, label}, {MakeArray(Shape{2, 2}, {5, 5, 5, 5})});
  EXPECT_EQ(ToVector(g[0]), (std::vector<double>{-0.5, 0.5, 0.5, -0.5}));
}

TEST(RegressionOutput, LabelWithOtherElementCountIsAnError) {
  const std::string msg =
      ErrorOf("LinearRegressionOutput", {}, {Ones(Shape{4, 3}), Ones(Shape{4, 2})});
  EXPECT_NE(msg.find("label"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4,2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4,3)"), std::string::npos) << msg;
}

// Fuzz findings (fuzz/regressions/op_params/backward_*_label_size.txt): the backward ops, which
// any binding can invoke by name, took a label of any shape and read one label per output or
// softmax lane, past the label's end.
TEST(LossBackward, LabelMustFitTheOutput) {
  std::string msg = ErrorOf("_backward_SoftmaxOutput", {}, {Ones(Shape{1}), Ones(Shape{4, 5})});
  EXPECT_NE(msg.find("label"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(1)"), std::string::npos) << msg;
  msg = ErrorOf("_backward_linear_reg_out", {}, {Ones(Shape{1, 4, 0}), Ones(Shape{1, 4, 2, 2})});
  EXPECT_NE(msg.find("label"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(1,4,0)"), std::string::npos) << msg;
  // What the gradient pass gives them still works: a label per lane, or data's own shape.
  EXPECT_EQ(ErrorOf("_backward_SoftmaxOutput", {}, {Ones(Shape{4}), Ones(Shape{4, 5})}), "");
  EXPECT_EQ(ErrorOf("_backward_SoftmaxOutput", {}, {Ones(Shape{4, 5}), Ones(Shape{4, 5})}), "");
  EXPECT_EQ(ErrorOf("_backward_mae_reg_out", {}, {Ones(Shape{4}), Ones(Shape{4, 1})}), "");
}

}  // namespace test
}  // namespace mx
