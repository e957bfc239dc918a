// Cases for the unary, scalar and binary elementwise families.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "op/invoke.h"
#include "op/math_functors.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

OpCase Unary(const std::string& op, std::function<double(double)> f, double lo = -2,
             double hi = 2) {
  return OpCase(op, {Shape{3, 4}}).Range(lo, hi).Ref([f](const Vals& x) {
    return Vals{Map1(x[0], f)};
  });
}

OpCase Scalar(const std::string& op, double s, std::function<double(double, double)> f,
              double lo = -2, double hi = 2) {
  return OpCase(op, {Shape{2, 5}}, {{"scalar", std::to_string(s)}})
      .Range(lo, hi)
      .Ref([f, s](const Vals& x) { return Vals{Map1(x[0], [&](double v) { return f(v, s); })}; });
}

OpCase Binary(const std::string& op, std::function<double(double, double)> f, double lo = -2,
              double hi = 2) {
  return OpCase(op, {Shape{4, 3}, Shape{4, 3}}).Range(lo, hi).Ref([f](const Vals& x) {
    return Vals{Map2(x[0], x[1], f)};
  });
}

double Sig(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

MX_OP_CASES(elemwise) {
  return {
      Unary("_copy", [](double x) { return x; }),
      Unary("BlockGrad", [](double x) { return x; }).NoGrad(),
      Unary("negative", [](double x) { return -x; }),
      Unary("abs", [](double x) { return std::fabs(x); }),
      Unary("sign", [](double x) { return double((x > 0) - (x < 0)); }),
      Unary("exp", [](double x) { return std::exp(x); }),
      Unary(
          "log", [](double x) { return std::log(x); }, 0.5, 3),
      Unary(
          "sqrt", [](double x) { return std::sqrt(x); }, 0.5, 3),
      Unary("square", [](double x) { return x * x; }),
      Unary(
          "rsqrt", [](double x) { return 1 / std::sqrt(x); }, 0.5, 3),
      Unary("sin", [](double x) { return std::sin(x); }),
      Unary("cos", [](double x) { return std::cos(x); }),
      Unary("tanh", [](double x) { return std::tanh(x); }),
      Unary("sigmoid", Sig),
      Unary("relu", [](double x) { return x > 0 ? x : 0; }),
      Unary("softrelu", [](double x) { return std::log1p(std::exp(x)); }),
      Scalar("_plus_scalar", 1.5, [](double x, double s) { return x + s; }),
      Scalar("_minus_scalar", 1.5, [](double x, double s) { return x - s; }),
      Scalar("_rminus_scalar", 1.5, [](double x, double s) { return s - x; }),
      Scalar("_mul_scalar", -2.5, [](double x, double s) { return x * s; }),
      Scalar("_div_scalar", 4, [](double x, double s) { return x / s; }),
      Scalar(
          "_rdiv_scalar", 2, [](double x, double s) { return s / x; }, 0.5, 2),
      Scalar("_power_scalar", 3, [](double x, double s) { return std::pow(x, s); }),
      Scalar("_rpower_scalar", 2, [](double x, double s) { return std::pow(s, x); }),
      Scalar("_maximum_scalar", 0.25, [](double x, double s) { return std::max(x, s); }),
      Scalar("_minimum_scalar", 0.25, [](double x, double s) { return std::min(x, s); }),
      Scalar("_equal_scalar", 1, [](double x, double s) { return double(x == s); })
          .Init([](int, std::vector<double>* v) {
            for (size_t i = 0; i < v->size(); ++i) (*v)[i] = double(i % 3);
          }),
      Scalar("_not_equal_scalar", 0.5, [](double x, double s) { return double(x != s); }),
      Scalar("_greater_scalar", 0.5, [](double x, double s) { return double(x > s); }),
      Scalar("_greater_equal_scalar", 0.5, [](double x, double s) { return double(x >= s); }),
      Scalar("_lesser_scalar", 0.5, [](double x, double s) { return double(x < s); }),
      Scalar("_lesser_equal_scalar", 0.5, [](double x, double s) { return double(x <= s); }),
      Binary("elemwise_add", [](double a, double b) { return a + b; }),
      Binary("elemwise_sub", [](double a, double b) { return a - b; }),
      Binary("elemwise_mul", [](double a, double b) { return a * b; }),
      Binary(
          "elemwise_div", [](double a, double b) { return a / b; }, 0.5, 2),
      Binary(
          "_power", [](double a, double b) { return std::pow(a, b); }, 0.5, 2),
      Binary("_maximum", [](double a, double b) { return std::max(a, b); }),
      Binary("_minimum", [](double a, double b) { return std::min(a, b); }),
      Binary("_equal", [](double a, double b) { return double(a == b); })
          .Init([](int, std::vector<double>* v) {
            for (size_t i = 0; i < v->size(); ++i) (*v)[i] = double((i * 7) % 3);
          }),
      Binary("_not_equal", [](double a, double b) { return double(a != b); }),
      Binary("_greater", [](double a, double b) { return double(a > b); }),
      Binary("_greater_equal", [](double a, double b) { return double(a >= b); }),
      Binary("_lesser", [](double a, double b) { return double(a < b); }),
      Binary("_lesser_equal", [](double a, double b) { return double(a <= b); }),
  };
}

TEST(Elemwise, IntegerArithmetic) {
  NDArray a = MakeArray(Shape{4}, {1, 2, 3, 4}, DType::kInt32);
  NDArray b = MakeArray(Shape{4}, {10, 20, 30, 40}, DType::kInt32);
  auto out = RunOp("elemwise_add", {}, {a, b});
  EXPECT_EQ(out[0].dtype(), DType::kInt32);
  EXPECT_EQ(ToVector(out[0]), (std::vector<double>{11, 22, 33, 44}));
}

TEST(Elemwise, ShapeMismatchNamesOpAndShapes) {
  NDArray a = MakeArray(Shape{2, 3}, std::vector<double>(6, 1.0));
  NDArray b = MakeArray(Shape{3, 2}, std::vector<double>(6, 1.0));
  try {
    RunOp("elemwise_mul", {}, {a, b});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("elemwise_mul"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2,3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(3,2)"), std::string::npos) << msg;
  }
}

TEST(Elemwise, MathOpsRejectIntegers) {
  NDArray a = MakeArray(Shape{2}, {1, 2}, DType::kInt32);
  auto out = RunOp("exp", {}, {a});
  EXPECT_THROW(out[0].WaitToRead(), Error);
}

TEST(Elemwise, InplaceAndAliasedOutputs) {
  NDArray a = MakeArray(Shape{3}, {1, 2, 3}, DType::kFloat32);
  std::vector<NDArray> out{a};
  Invoke(MakeAttrs(OpRegistry::Get()->Get("_mul_scalar"), {{"scalar", "2"}}), {a}, &out);
  EXPECT_EQ(ToVector(a), (std::vector<double>{2, 4, 6}));
}

}  // namespace test
}  // namespace mx

namespace mx {
namespace test {
namespace {

// float tanh is a rational approximation on the host (math_functors.h): a few ulp of the exact
// value everywhere, tiny and saturated inputs included.
TEST(MathFunctors, FloatTanhIsAccurate) {
  double worst = 0;
  for (int i = -200000; i <= 200000; ++i) {
    const float x = static_cast<float>(i) * 5e-5f;  // [-10, 10]
    const double exact = std::tanh(static_cast<double>(x));
    const double got = math::tanh(x);
    const double rel = std::fabs(got - exact) / std::max(std::fabs(exact), 1e-30);
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 4e-7) << "worst relative error";
  for (float tiny : {1e-30f, 1e-10f, -3e-6f}) EXPECT_NEAR(math::tanh(tiny) / tiny, 1.0, 1e-6);
  EXPECT_EQ(math::tanh(50.0f), 1.0f);
  EXPECT_EQ(math::tanh(-1e30f), -1.0f);
  EXPECT_TRUE(std::isnan(math::tanh(std::nanf(""))));
}

}  // namespace
}  // namespace test
}  // namespace mx
