// Cases for the optimizer update ops, against references written from MXNet's formulas, plus
// multi-step runs that update weight and state in place through Invoke.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "op/invoke.h"
#include "op/op_util.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

struct Hyper {
  double lr = 0.1, momentum = 0.9, wd = 0.01, rescale = 0.5, clip = 0.3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

double Clip(double g, double bound) { return bound < 0 ? g : std::max(-bound, std::min(bound, g)); }

// One step of each optimizer on flat vectors; returns the new weight and updates the state.
std::vector<double> SgdStep(const std::vector<double>& w, const std::vector<double>& g,
                            const Hyper& h) {
  std::vector<double> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    out[i] = (1 - h.lr * h.wd) * w[i] - h.lr * Clip(h.rescale * g[i], h.clip);
  }
  return out;
}

std::vector<double> SgdMomStep(const std::vector<double>& w, const std::vector<double>& g,
                               std::vector<double>* mom, const Hyper& h) {
  std::vector<double> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    (*mom)[i] = h.momentum * (*mom)[i] - h.lr * h.wd * w[i] - h.lr * Clip(h.rescale * g[i], h.clip);
    out[i] = w[i] + (*mom)[i];
  }
  return out;
}

std::vector<double> AdamStep(const std::vector<double>& w, const std::vector<double>& g,
                             std::vector<double>* mean, std::vector<double>* var, const Hyper& h) {
  std::vector<double> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const double gi = Clip(h.rescale * g[i] + h.wd * w[i], h.clip);
    (*mean)[i] = h.beta1 * (*mean)[i] + (1 - h.beta1) * gi;
    (*var)[i] = h.beta2 * (*var)[i] + (1 - h.beta2) * gi * gi;
    out[i] = w[i] - h.lr * (*mean)[i] / (std::sqrt((*var)[i]) + h.eps);
  }
  return out;
}

std::map<std::string, std::string> SgdParams(const Hyper& h) {
  return {{"lr", ParamString(h.lr)},
          {"wd", ParamString(h.wd)},
          {"rescale_grad", ParamString(h.rescale)},
          {"clip_gradient", ParamString(h.clip)}};
}

std::map<std::string, std::string> MomParams(const Hyper& h) {
  auto p = SgdParams(h);
  p["momentum"] = ParamString(h.momentum);
  return p;
}

std::map<std::string, std::string> AdamParams(const Hyper& h) {
  auto p = SgdParams(h);
  p["beta1"] = ParamString(h.beta1);
  p["beta2"] = ParamString(h.beta2);
  p["epsilon"] = ParamString(h.eps);
  return p;
}

Hyper NoClip() {
  Hyper h;
  h.clip = -1;
  return h;
}

// Gradients in [-2, 2] with rescale 0.5 and clip 0.3: some clipped, some not.
OpCase Sgd(const Hyper& h) {
  return OpCase("sgd_update", {Shape{4, 5}, Shape{4, 5}}, SgdParams(h))
      .Range(-2, 2)
      .Ref([h](const Vals& x) { return Vals{SgdStep(x[0], x[1], h)}; });
}

OpCase SgdMom(const Hyper& h) {
  return OpCase("sgd_mom_update", {Shape{3, 4}, Shape{3, 4}, Shape{3, 4}}, MomParams(h))
      .Range(-2, 2)
      .Ref([h](const Vals& x) {
        std::vector<double> mom = x[2];
        return Vals{SgdMomStep(x[0], x[1], &mom, h)};
      });
}

OpCase Adam(const Hyper& h) {
  // var must be non-negative: inputs in [0, 2] for it, via Init.
  return OpCase("adam_update", {Shape{3, 4}, Shape{3, 4}, Shape{3, 4}, Shape{3, 4}}, AdamParams(h))
      .Range(-2, 2)
      .Init([](int input, std::vector<double>* v) {
        if (input == 3) {
          for (double& x : *v) x = std::fabs(x) + 0.1;
        }
      })
      .Ref([h](const Vals& x) {
        std::vector<double> mean = x[2], var = x[3];
        return Vals{AdamStep(x[0], x[1], &mean, &var, h)};
      });
}

}  // namespace

MX_OP_CASES(optimizer) {
  return {Sgd(Hyper()),     Sgd(NoClip()), SgdMom(Hyper()),
          SgdMom(NoClip()), Adam(Hyper()), Adam(NoClip())};
}

namespace {

void Update(const std::string& op, const std::map<std::string, std::string>& params,
            const std::vector<NDArray>& inputs, const NDArray& out) {
  std::vector<NDArray> outs{out};
  Invoke(MakeAttrs(OpRegistry::Get()->Get(op), params), inputs, &outs);
}

void ExpectNear(const std::vector<double>& got, const std::vector<double>& want, double tol,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << what << " element " << i;
  }
}

class OptimizerSteps : public ::testing::TestWithParam<DType> {
 protected:
  double Tol() const { return GetParam() == DType::kFloat32 ? 1e-5 : 1e-12; }
  NDArray Array(const std::vector<double>& v) {
    return MakeArray(Shape{static_cast<int64_t>(v.size())}, v, GetParam());
  }
  std::vector<double> w0_{0.5, -1.0, 2.0, 0.0, -0.25, 1.5};
  std::vector<std::vector<double>> grads_{{1.0, -2.0, 0.1, 0.0, 3.0, -0.2},
                                          {-0.5, 0.4, 0.2, 1.0, -3.0, 0.0},
                                          {0.3, 0.3, -0.3, -1.0, 0.05, 2.0}};
};

// Three steps updating the weight in place (out = weight), as a training loop does.
TEST_P(OptimizerSteps, SgdInPlace) {
  for (const Hyper& h : {Hyper(), NoClip()}) {
    NDArray w = Array(w0_);
    std::vector<double> ref = w0_;
    for (const auto& g : grads_) {
      Update("sgd_update", SgdParams(h), {w, Array(g)}, w);
      ref = SgdStep(ref, g, h);
    }
    ExpectNear(ToVector(w), ref, Tol(), "weight");
  }
}

TEST_P(OptimizerSteps, SgdMomInPlaceUpdatesMomentum) {
  for (const Hyper& h : {Hyper(), NoClip()}) {
    NDArray w = Array(w0_);
    NDArray mom = Array(std::vector<double>(w0_.size(), 0.0));
    std::vector<double> ref = w0_, ref_mom(w0_.size(), 0.0);
    for (const auto& g : grads_) {
      Update("sgd_mom_update", MomParams(h), {w, Array(g), mom}, w);
      ref = SgdMomStep(ref, g, &ref_mom, h);
    }
    ExpectNear(ToVector(w), ref, Tol(), "weight");
    ExpectNear(ToVector(mom), ref_mom, Tol(), "momentum");
  }
}

TEST_P(OptimizerSteps, AdamInPlaceUpdatesMeanAndVar) {
  for (const Hyper& h : {Hyper(), NoClip()}) {
    NDArray w = Array(w0_);
    NDArray mean = Array(std::vector<double>(w0_.size(), 0.0));
    NDArray var = Array(std::vector<double>(w0_.size(), 0.0));
    std::vector<double> ref = w0_, ref_mean(w0_.size(), 0.0), ref_var(w0_.size(), 0.0);
    for (const auto& g : grads_) {
      Update("adam_update", AdamParams(h), {w, Array(g), mean, var}, w);
      ref = AdamStep(ref, g, &ref_mean, &ref_var, h);
    }
    // A zero gradient with zero state divides ~0 by epsilon: float32 rounding is amplified.
    const double tol = GetParam() == DType::kFloat32 ? 1e-4 : 1e-10;
    ExpectNear(ToVector(w), ref, tol, "weight");
    ExpectNear(ToVector(mean), ref_mean, Tol(), "mean");
    ExpectNear(ToVector(var), ref_var, Tol(), "var");
  }
}

// A separate output leaves the weight untouched (the state still advances).
TEST_P(OptimizerSteps, SeparateOutputKeepsWeight) {
  const Hyper h = NoClip();
  NDArray w = Array(w0_), mom = Array(std::vector<double>(w0_.size(), 0.0));
  auto out = RunOp("sgd_mom_update", MomParams(h), {w, Array(grads_[0]), mom});
  std::vector<double> ref_mom(w0_.size(), 0.0);
  const std::vector<double> ref = SgdMomStep(w0_, grads_[0], &ref_mom, h);
  ExpectNear(ToVector(out[0]), ref, Tol(), "out");
  ExpectNear(ToVector(w), w0_, 0, "weight");
  ExpectNear(ToVector(mom), ref_mom, Tol(), "momentum");
}

INSTANTIATE_TEST_SUITE_P(Dtypes, OptimizerSteps,
                         ::testing::Values(DType::kFloat32, DType::kFloat64),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

TEST(Optimizer, ErrorsNameTheProblem) {
  NDArray a = MakeArray(Shape{3}, {1, 2, 3}), b = MakeArray(Shape{4}, {1, 2, 3, 4});
  try {
    RunOp("sgd_update", {{"lr", "0.1"}}, {a, b});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("sgd_update"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(4)"), std::string::npos) << msg;
  }
  try {
    RunOp("sgd_update", {}, {a, a});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lr"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RunOp("adam_update", {{"lr", "0.1"}, {"beta1", "1.5"}}, {a, a, a, a}), Error);
}

}  // namespace
}  // namespace test
}  // namespace mx
