// Cases for BatchNorm: training and inference, fix_gamma, use_global_stats, channel axis; the
// moving statistics (auxiliary states) and the hidden mean/var outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/symbol.h"
#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

struct BNRef {
  bool training = true, fix_gamma = true;
  double eps = 1e-3;
  int64_t outer, c, inner;  // data viewed around the channel axis
};

// Outputs (y, mean, var) from inputs (x, gamma, beta, moving_mean, moving_var).
Vals BatchNormRef(const Vals& in, const BNRef& r) {
  const auto& x = in[0];
  std::vector<double> y(x.size()), mean(r.c), var(r.c);
  const double m = static_cast<double>(r.outer * r.inner);
  for (int64_t c = 0; c < r.c; ++c) {
    auto at = [&](int64_t o, int64_t i) { return (o * r.c + c) * r.inner + i; };
    if (r.training) {
      double s = 0, ss = 0;
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t i = 0; i < r.inner; ++i) s += x[at(o, i)];
      mean[c] = s / m;
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t i = 0; i < r.inner; ++i) ss += std::pow(x[at(o, i)] - mean[c], 2);
      var[c] = ss / m;
    } else {
      mean[c] = in[3][c];
      var[c] = in[4][c];
    }
    const double g = r.fix_gamma ? 1.0 : in[1][c];
    for (int64_t o = 0; o < r.outer; ++o)
      for (int64_t i = 0; i < r.inner; ++i)
        y[at(o, i)] = g * (x[at(o, i)] - mean[c]) / std::sqrt(var[c] + r.eps) + in[2][c];
  }
  return {y, mean, var};
}

OpCase BN(Shape s, std::map<std::string, std::string> p, BNRef r) {
  const int64_t c = r.c;
  OpCase k("BatchNorm", {s, Shape{c}, Shape{c}, Shape{c}, Shape{c}}, std::move(p));
  k.Ref([r](const Vals& in) { return BatchNormRef(in, r); })
      .Init([](int i, std::vector<double>* v) {
        if (i == 4)
          for (double& x : *v) x = 0.5 + std::fabs(x);  // a positive moving variance
      })
      .GradInputs({0, 1, 2})
      .Tol(1e-4, 1e-5);
  k.is_train = r.training;
  return k;
}

MX_OP_CASES(batch_norm) {
  std::vector<OpCase> cases;
  cases.push_back(BN(Shape{4, 3, 2, 2}, {{"fix_gamma", "false"}}, {true, false, 1e-3, 4, 3, 4}));
  cases.push_back(BN(Shape{5, 2, 3}, {}, {true, true, 1e-3, 5, 2, 3}));  // fix_gamma by default
  // On the GPU: libmx's own kernels instead of cuDNN's (the same everywhere else).
  cases.push_back(BN(Shape{4, 3, 2, 2}, {{"fix_gamma", "false"}, {"cudnn_off", "true"}},
                     {true, false, 1e-3, 4, 3, 4}));
  cases.push_back(BN(Shape{6, 4}, {{"fix_gamma", "false"}, {"eps", "1e-5"}},
                     {true, false, 1e-5, 6, 4, 1}));  // after a FullyConnected
  cases.push_back(
      BN(Shape{3, 2, 4}, {{"fix_gamma", "false"}, {"axis", "-1"}}, {true, false, 1e-3, 6, 4, 1}));
  // The moving statistics: inference, and use_global_stats in training.
  // (Backward follows a training forward pass; inference values only.)
  cases.push_back(
      BN(Shape{2, 3, 2, 2}, {{"fix_gamma", "false"}}, {false, false, 1e-3, 2, 3, 4}).NoGrad());
  OpCase global = BN(Shape{2, 3, 2, 2}, {{"fix_gamma", "false"}, {"use_global_stats", "true"}},
                     {false, false, 1e-3, 2, 3, 4});
  global.is_train = true;
  cases.push_back(global);
  return cases;
}

TEST(BatchNorm, TrainingMovesTheMovingStatistics) {
  const Shape s{4, 2, 3};
  std::vector<double> xv(s.Size());
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(0.7 * i) * 3 + (i % 6 < 3 ? 1 : -2);
  std::vector<NDArray> in{MakeArray(s, xv), MakeArray({2}, {1, 1}), MakeArray({2}, {0, 0}),
                          MakeArray({2}, {0.5, -0.5}), MakeArray({2}, {1, 2})};
  const Vals ref =
      BatchNormRef({xv, {1, 1}, {0, 0}, {0.5, -0.5}, {1, 2}}, {true, true, 1e-3, 4, 2, 3});
  RunOp("BatchNorm", {{"momentum", "0.75"}}, in, /*is_train=*/true);
  const std::vector<double> mm = ToVector(in[3]), mv = ToVector(in[4]);
  EXPECT_NEAR(mm[0], 0.5 * 0.75 + ref[1][0] * 0.25, 1e-12);
  EXPECT_NEAR(mm[1], -0.5 * 0.75 + ref[1][1] * 0.25, 1e-12);
  EXPECT_NEAR(mv[0], 1 * 0.75 + ref[2][0] * 0.25, 1e-12);
  EXPECT_NEAR(mv[1], 2 * 0.75 + ref[2][1] * 0.25, 1e-12);
  // Inference reads them and leaves them alone.
  RunOp("BatchNorm", {}, in, /*is_train=*/false);
  EXPECT_EQ(ToVector(in[3]), mm);
  EXPECT_EQ(ToVector(in[4]), mv);
}

TEST(BatchNorm, SymbolShowsOneOutputAndTwoAuxiliaryStates) {
  Symbol bn = Symbol::CreateOp("BatchNorm", {});
  bn.Compose({Symbol::Variable("data")}, {}, "bn1");
  EXPECT_EQ(bn.ListArguments(), (std::vector<std::string>{"data", "bn1_gamma", "bn1_beta"}));
  EXPECT_EQ(bn.ListAuxiliaryStates(),
            (std::vector<std::string>{"bn1_moving_mean", "bn1_moving_var"}));
  EXPECT_EQ(bn.ListOutputs(), (std::vector<std::string>{"bn1_output"}));
  Symbol all = Symbol::CreateOp("BatchNorm", {{"output_mean_var", "true"}});
  all.Compose({Symbol::Variable("data")}, {}, "bn2");
  EXPECT_EQ(all.ListOutputs(), (std::vector<std::string>{"bn2_output", "bn2_mean", "bn2_var"}));
  // Imperative calls through the C ABI's path return the visible outputs only.
  std::vector<NDArray> out(1);
  Invoke(bn.outputs[0].node->attrs,
         {MakeArray({2, 2}, {1, 2, 3, 4}), MakeArray({2}, {1, 1}), MakeArray({2}, {0, 0}),
          MakeArray({2}, {0, 0}), MakeArray({2}, {1, 1})},
         &out, true);
  ASSERT_EQ(out.size(), 1u);
  const std::vector<double> y = ToVector(out[0]);
  EXPECT_NEAR(y[0], -1 / std::sqrt(1 + 1e-3), 1e-9);
  EXPECT_NEAR(y[2], 1 / std::sqrt(1 + 1e-3), 1e-9);
}

// The executor plans inference in place (SetInplace): writing over the data gives the same
// result, on every path (float32 takes oneDNN when built with it, float64 the loops).
TEST(BatchNorm, InPlaceEqualsOutOfPlace) {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    std::vector<double> xv(2 * 3 * 4);
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::cos(1.3 * i) * 2;
    auto inputs = [&](const NDArray& x) {
      return std::vector<NDArray>{x, MakeArray({3}, {1, 2, 3}, dt), MakeArray({3}, {0, 1, 0}, dt),
                                  MakeArray({3}, {0.5, 0, -1}, dt), MakeArray({3}, {1, 2, 3}, dt)};
    };
    for (bool train : {false, true}) {
      const NDArray x = MakeArray({2, 3, 4}, xv, dt);
      const std::vector<double> want =
          ToVector(RunOp("BatchNorm", {{"fix_gamma", "false"}}, inputs(x), train)[0]);
      NDArray y = MakeArray({2, 3, 4}, xv, dt);
      std::vector<NDArray> out{y};
      Invoke(MakeAttrs(OpRegistry::Get()->Get("BatchNorm"), {{"fix_gamma", "false"}}), inputs(y),
             &out, train);
      const std::vector<double> got = ToVector(y);
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
    }
  }
}

TEST(BatchNorm, BadShapesNameTheArgument) {
  try {
    RunOp("BatchNorm", {},
          {NDArray(Shape{2, 3}, Context::CPU(), DType::kFloat32),
           NDArray(Shape{4}, Context::CPU(), DType::kFloat32),
           NDArray(Shape{3}, Context::CPU(), DType::kFloat32),
           NDArray(Shape{3}, Context::CPU(), DType::kFloat32),
           NDArray(Shape{3}, Context::CPU(), DType::kFloat32)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gamma"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RunOp("BatchNorm", {{"momentum", "1.5"}}, {}), Error);
  EXPECT_THROW(RunOp("BatchNorm", {{"axis", "3"}},
                     {NDArray(Shape{2, 3}, Context::CPU(), DType::kFloat32),
                      NDArray(Shape{3}, Context::CPU(), DType::kFloat32),
                      NDArray(Shape{3}, Context::CPU(), DType::kFloat32),
                      NDArray(Shape{3}, Context::CPU(), DType::kFloat32),
                      NDArray(Shape{3}, Context::CPU(), DType::kFloat32)}),
               Error);
}

}  // namespace
}  // namespace test
}  // namespace mx
