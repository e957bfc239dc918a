// Optimizers against references written here from MXNet's formulas, over several steps:
// SGD with momentum, weight decay, rescaling and clipping; Adam with its bias correction;
// per-argument multipliers and MXNet's no-decay default for biases; the schedules.
#include "train/optimizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"

namespace mx {
namespace train {
namespace {

using Vec = std::vector<double>;

double Clip(double g, double bound) { return bound < 0 ? g : std::max(-bound, std::min(bound, g)); }

NDArray FromVec(const Vec& v) {
  std::vector<float> f(v.begin(), v.end());
  NDArray a(Shape{static_cast<int64_t>(v.size())}, Context::CPU());
  a.SyncCopyFromCPU(f.data(), f.size());
  return a;
}

Vec ToVec(const NDArray& a) {
  std::vector<float> f(static_cast<size_t>(a.Size()));
  a.SyncCopyToCPU(f.data(), f.size());
  return Vec(f.begin(), f.end());
}

void ExpectNear(const Vec& got, const Vec& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// The gradient of step k: varied in sign and size so clipping matters for some elements.
Vec GradAt(int k, size_t n) {
  Vec g(n);
  for (size_t i = 0; i < n; ++i) g[i] = std::sin(1.3 * static_cast<double>(i) + k) * (1 + k % 3);
  return g;
}

const Vec kW0 = {0.5, -0.25, 1.0, -1.5, 0.75, 0.1};

TEST(OptimizerTest, SgdMomentumMatchesReference) {
  const double lr = 0.1, mom = 0.9, wd = 0.01, rescale = 0.5, clip = 0.6;
  auto opt = Optimizer::Create("sgd", {{"learning_rate", "0.1"},
                                       {"momentum", "0.9"},
                                       {"wd", "0.01"},
                                       {"rescale_grad", "0.5"},
                                       {"clip_gradient", "0.6"}});
  NDArray w = FromVec(kW0);
  Vec ref = kW0, m(kW0.size(), 0.0);
  for (int k = 0; k < 5; ++k) {
    const Vec g = GradAt(k, kW0.size());
    opt->Update(0, w, FromVec(g));
    for (size_t i = 0; i < ref.size(); ++i) {
      m[i] = mom * m[i] - lr * wd * ref[i] - lr * Clip(rescale * g[i], clip);
      ref[i] += m[i];
    }
  }
  ExpectNear(ToVec(w), ref, 1e-5);
  EXPECT_EQ(opt->num_update(), 5);
}

TEST(OptimizerTest, PlainSgdMatchesReference) {
  const double lr = 0.2, wd = 0.05;
  auto opt = Optimizer::Create("sgd", {{"learning_rate", "0.2"}, {"wd", "0.05"}});
  NDArray w = FromVec(kW0);
  Vec ref = kW0;
  for (int k = 0; k < 4; ++k) {
    const Vec g = GradAt(k, kW0.size());
    opt->Update(3, w, FromVec(g));
    for (size_t i = 0; i < ref.size(); ++i) ref[i] = (1 - lr * wd) * ref[i] - lr * g[i];
  }
  ExpectNear(ToVec(w), ref, 1e-5);
}

TEST(OptimizerTest, AdamMatchesReference) {
  const double lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6, wd = 0.02, rescale = 2, clip = 1.5;
  auto opt = Optimizer::Create("adam", {{"learning_rate", "0.01"},
                                        {"beta1", "0.8"},
                                        {"beta2", "0.95"},
                                        {"epsilon", "1e-6"},
                                        {"wd", "0.02"},
                                        {"rescale_grad", "2"},
                                        {"clip_gradient", "1.5"}});
  NDArray w = FromVec(kW0);
  Vec ref = kW0, mean(kW0.size(), 0.0), var(kW0.size(), 0.0);
  for (int t = 1; t <= 6; ++t) {
    const Vec g = GradAt(t, kW0.size());
    opt->Update(1, w, FromVec(g));
    const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < ref.size(); ++i) {
      const double gi = Clip(rescale * g[i] + wd * ref[i], clip);
      mean[i] = b1 * mean[i] + (1 - b1) * gi;
      var[i] = b2 * var[i] + (1 - b2) * gi * gi;
      ref[i] -= lr_t * mean[i] / (std::sqrt(var[i]) + eps);
    }
  }
  ExpectNear(ToVec(w), ref, 1e-5);
}

// Each index keeps its own state and count: two arguments updated alternately end as if each
// had been updated alone.
TEST(OptimizerTest, StatePerIndex) {
  auto both = Optimizer::Create("adam", {});
  auto alone = Optimizer::Create("adam", {});
  NDArray a = FromVec(kW0), b = FromVec(Vec{1, 2}), c = FromVec(kW0);
  for (int k = 0; k < 3; ++k) {
    both->Update(0, a, FromVec(GradAt(k, kW0.size())));
    both->Update(1, b, FromVec(GradAt(k + 7, 2)));
    alone->Update(0, c, FromVec(GradAt(k, kW0.size())));
  }
  ExpectNear(ToVec(a), ToVec(c), 1e-7);
  EXPECT_EQ(both->num_update(), 3);
}

// lr_mult and wd_mult by name; once named, a bias gets no weight decay unless told otherwise.
TEST(OptimizerTest, Multipliers) {
  const double lr = 0.1, wd = 0.5;
  auto opt = Optimizer::Create("sgd", {{"learning_rate", "0.1"}, {"wd", "0.5"}});
  opt->SetArgNames({{0, "fc_weight"}, {1, "fc_bias"}, {2, "fc2_bias"}, {3, "bn_gamma"}});
  opt->SetLrMult({{"fc_weight", 2.0}});
  opt->SetWdMult({{"fc2_bias", 3.0}});
  const Vec g = GradAt(0, kW0.size());
  std::vector<NDArray> w;
  for (int i = 0; i < 5; ++i) w.push_back(FromVec(kW0));
  for (int i = 0; i < 5; ++i) opt->Update(i, w[i], FromVec(g));  // index 4 has no name
  auto step = [&](double lr_mult, double wd_mult) {
    Vec r = kW0;
    for (size_t i = 0; i < r.size(); ++i)
      r[i] = (1 - lr * lr_mult * wd * wd_mult) * r[i] - lr * lr_mult * g[i];
    return r;
  };
  ExpectNear(ToVec(w[0]), step(2, 1), 1e-6);  // weight: lr_mult 2, decayed
  ExpectNear(ToVec(w[1]), step(1, 0), 1e-6);  // bias: not decayed by default
  ExpectNear(ToVec(w[2]), step(1, 3), 1e-6);  // bias with an explicit wd_mult
  ExpectNear(ToVec(w[3]), step(1, 1), 1e-6);  // gamma: decayed, as MXNet
  ExpectNear(ToVec(w[4]), step(1, 1), 1e-6);  // unnamed: multipliers of 1
}

TEST(OptimizerTest, FactorSchedule) {
  FactorScheduler s(3, 0.5, 0.02);
  s.set_base_lr(0.1);
  const std::vector<double> want = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02};
  for (int n = 1; n <= 10; ++n) EXPECT_DOUBLE_EQ(s.LearningRate(n), want[n - 1]) << "update " << n;
}

TEST(OptimizerTest, MultiFactorSchedule) {
  MultiFactorScheduler s({2, 5}, 0.1);
  s.set_base_lr(1.0);
  const std::vector<double> want = {1, 1, 0.1, 0.1, 0.1, 0.01, 0.01};
  for (int n = 1; n <= 7; ++n) EXPECT_NEAR(s.LearningRate(n), want[n - 1], 1e-12) << n;
}

// The optimizer drives its schedule with num_update, after counting the update being made.
TEST(OptimizerTest, ScheduleDrivesUpdates) {
  auto opt = Optimizer::Create(
      "sgd",
      {{"learning_rate", "1"}, {"lr_scheduler", "factor"}, {"lr_step", "2"}, {"lr_factor", "0.5"}});
  NDArray w = FromVec(Vec{0});
  Vec lrs;
  for (int k = 0; k < 5; ++k) {
    opt->Update(0, w, FromVec(Vec{-1}));  // w += lr
    lrs.push_back(opt->LearningRate());
  }
  EXPECT_EQ(lrs, (Vec{1, 1, 0.5, 0.5, 0.25}));
  ExpectNear(ToVec(w), Vec{1 + 1 + 0.5 + 0.5 + 0.25}, 1e-6);
  EXPECT_THROW(opt->SetLearningRate(0.1), Error);

  auto multi = Optimizer::Create(
      "adam", {{"lr_scheduler", "multifactor"}, {"lr_steps", "[1, 3]"}, {"lr_factor", "0.1"}});
  EXPECT_DOUBLE_EQ(multi->LearningRate(), 0.001);
}

TEST(OptimizerTest, SetLearningRate) {
  auto opt = Optimizer::Create("SGD", {});  // names are case-insensitive, as in MXNet
  EXPECT_EQ(opt->name(), "sgd");
  EXPECT_DOUBLE_EQ(opt->LearningRate(), 0.01);
  opt->SetLearningRate(0.5);
  EXPECT_DOUBLE_EQ(opt->LearningRate(), 0.5);
  EXPECT_THROW(opt->SetLearningRate(-1), Error);
}

TEST(OptimizerTest, Errors) {
  auto message = [](const std::string& name, const ParamMap& p) {
    try {
      Optimizer::Create(name, p);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("rmsprop", {}).find("'rmsprop'"), std::string::npos);
  EXPECT_NE(message("sgd", {{"learning_rte", "0.1"}}).find("'learning_rte'"), std::string::npos);
  EXPECT_NE(message("adam", {{"momentum", "0.9"}}).find("'momentum'"), std::string::npos);
  EXPECT_NE(message("sgd", {{"momentum", "x"}}).find("momentum"), std::string::npos);
  EXPECT_NE(message("sgd", {{"lr_scheduler", "cosine"}}).find("cosine"), std::string::npos);
  EXPECT_NE(message("sgd", {{"lr_scheduler", "factor"}}).find("lr_step"), std::string::npos);
  EXPECT_NE(
      message("sgd", {{"lr_scheduler", "multifactor"}, {"lr_steps", "[5, 2]"}}).find("increase"),
      std::string::npos);
  EXPECT_EQ(message("sgd", {{"clip_gradient", "None"}}), "no error");

  auto opt = Optimizer::Create("sgd", {{"momentum", "0.5"}});
  EXPECT_THROW(opt->Update(-1, FromVec(Vec{1}), FromVec(Vec{1})), Error);
  EXPECT_THROW(opt->Update(0, FromVec(Vec{1, 2}), FromVec(Vec{1})), Error);
  opt->Update(0, FromVec(Vec{1, 2}), FromVec(Vec{1, 1}));
  EXPECT_THROW(opt->Update(0, FromVec(Vec{1, 2, 3}), FromVec(Vec{1, 1, 1})), Error);
}

}  // namespace
}  // namespace train
}  // namespace mx
