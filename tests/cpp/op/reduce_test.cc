// Cases for the reduce family (sum, mean, max, min, prod, argmax, argmin), output shapes, error
// messages and the large (parallel) paths.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

using Params = std::map<std::string, std::string>;

// reduced[d]: whether dim d is folded, from the op's axis/exclude params (the test's own parse).
std::vector<bool> Reduced(const Shape& s, const std::vector<int>& axes, bool exclude) {
  std::vector<bool> r(s.ndim(), axes.empty());
  if (axes.empty()) return r;
  for (int a : axes) r[a < 0 ? a + s.ndim() : a] = true;
  if (exclude) r.flip();
  return r;
}

// Folds x (shape s) over the reduced dims; the result is in output order (keepdims or not).
std::vector<double> RefReduce(const Shape& s, const std::vector<double>& x,
                              const std::vector<bool>& reduced, double init,
                              const std::function<double(double, double)>& fold) {
  Shape keep = s;
  for (int d = 0; d < s.ndim(); ++d) {
    if (reduced[d]) keep[d] = 1;
  }
  std::vector<double> y(keep.Size(), init);
  for (int64_t i = 0; i < s.Size(); ++i) {
    int64_t rest = i, o = 0, stride = 1;
    for (int d = s.ndim() - 1; d >= 0; --d) {
      const int64_t idx = rest % s[d];
      rest /= s[d];
      if (!reduced[d]) o += idx * stride;
      stride *= keep[d];
    }
    y[o] = fold(y[o], x[i]);
  }
  return y;
}

std::string AxisString(const std::vector<int>& axes) {
  std::string s = "(";
  for (int a : axes) s += std::to_string(a) + ",";
  return s + ")";
}

enum class R { kSum, kMean, kMax, kMin, kProd };

OpCase Reduce(R r, const Shape& s, const std::vector<int>& axes = {}, bool keepdims = false,
              bool exclude = false) {
  static const char* kNames[] = {"sum", "mean", "max", "min", "prod"};
  Params p;
  if (!axes.empty()) p["axis"] = AxisString(axes);
  if (keepdims) p["keepdims"] = "true";
  if (exclude) p["exclude"] = "1";
  OpCase c(kNames[static_cast<int>(r)], {s}, p);
  const std::vector<bool> red = Reduced(s, axes, exclude);
  c.Ref([=](const Vals& x) {
    int64_t n = 1;
    for (int d = 0; d < s.ndim(); ++d) n *= red[d] ? s[d] : 1;
    switch (r) {
      case R::kSum:
        return Vals{RefReduce(s, x[0], red, 0, std::plus<double>())};
      case R::kMean:
        return Vals{Map1(RefReduce(s, x[0], red, 0, std::plus<double>()),
                         [n](double v) { return v / double(n); })};
      case R::kMax:
        return Vals{
            RefReduce(s, x[0], red, -INFINITY, [](double a, double b) { return std::max(a, b); })};
      case R::kMin:
        return Vals{
            RefReduce(s, x[0], red, INFINITY, [](double a, double b) { return std::min(a, b); })};
      case R::kProd:
        break;
    }
    return Vals{RefReduce(s, x[0], red, 1, std::multiplies<double>())};
  });
  if (r == R::kProd) c.Range(0.5, 1.5);
  return c;
}

OpCase Arg(bool is_max, const Shape& s, int axis, bool has_axis, bool keepdims = false) {
  Params p;
  if (has_axis) p["axis"] = std::to_string(axis);
  if (keepdims) p["keepdims"] = "True";
  OpCase c(is_max ? "argmax" : "argmin", {s}, p);
  c.Ref([=](const Vals& x) {
    int64_t outer = 1, n = s.Size(), inner = 1;
    if (has_axis) {
      const int ax = axis < 0 ? axis + s.ndim() : axis;
      outer = s.ProdDims(0, ax);
      n = s[ax];
      inner = s.ProdDims(ax + 1, s.ndim());
    }
    std::vector<double> y(outer * inner);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        for (int64_t k = 1; k < n; ++k) {
          const double v = x[0][(o * n + k) * inner + i], b = x[0][(o * n + best) * inner + i];
          if (is_max ? v > b : v < b) best = k;
        }
        y[o * inner + i] = double(best);
      }
    }
    return Vals{y};
  });
  return c;
}

// Some exact zeros (one in some groups, two in others) for prod's gradient.
void SomeZeros(int, std::vector<double>* v) {
  for (size_t i = 0; i < v->size(); ++i) {
    if (i % 5 == 1 || i == 2) (*v)[i] = 0;
  }
}

}  // namespace

MX_OP_CASES(reduce) {
  std::vector<OpCase> all;
  for (R r : {R::kSum, R::kMean, R::kMax, R::kMin, R::kProd}) {
    all.push_back(Reduce(r, Shape{3, 4}));
    all.push_back(Reduce(r, Shape{5}, {0}));
    all.push_back(Reduce(r, Shape{2, 3, 4}, {1}));
    all.push_back(Reduce(r, Shape{2, 3, 4}, {0, 2}, true));
    all.push_back(Reduce(r, Shape{2, 3, 4}, {-1}));
    all.push_back(Reduce(r, Shape{2, 3, 4}, {1}, false, true));
    all.push_back(Reduce(r, Shape{2, 1, 3, 2}, {1, -1}, true, true));
  }
  all.push_back(Reduce(R::kSum, Shape{2, 3}, {}, true));
  all.push_back(Reduce(R::kMean, Shape{2, 3, 2}, {0, 1}));
  all.push_back(Reduce(R::kProd, Shape{4, 5}, {1}).Init(SomeZeros).Range(-1.5, 1.5));
  all.push_back(Reduce(R::kProd, Shape{4, 5}, {0}).Init(SomeZeros).Range(-1.5, 1.5));
  for (bool is_max : {true, false}) {
    all.push_back(Arg(is_max, Shape{3, 4}, 0, false));
    all.push_back(Arg(is_max, Shape{3, 4}, 0, false, true));
    all.push_back(Arg(is_max, Shape{3, 4}, 1, true));
    all.push_back(Arg(is_max, Shape{2, 3, 4}, 1, true, true));
    all.push_back(Arg(is_max, Shape{2, 3, 4}, -3, true));
    all.push_back(Arg(is_max, Shape{6}, 0, true));
  }
  return all;
}

namespace {

Shape OutShape(const std::string& op, const Params& p, const Shape& in) {
  return RunOp(op, p, {MakeArray(in, std::vector<double>(in.Size(), 1.0))})[0].shape();
}

std::string ErrorOf(const std::string& op, const Params& p, const Shape& in) {
  try {
    RunOp(op, p, {MakeArray(in, std::vector<double>(in.Size(), 1.0))});
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << op << " did not throw";
  return "";
}

void ExpectContains(const std::string& msg, const std::vector<std::string>& parts) {
  for (const auto& p : parts) {
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' in: " << msg;
  }
}

}  // namespace

TEST(Reduce, OutputShapes) {
  EXPECT_EQ(OutShape("sum", {}, Shape{2, 3}), (Shape{1}));
  EXPECT_EQ(OutShape("sum", {{"keepdims", "true"}}, Shape{2, 3}), (Shape{1, 1}));
  EXPECT_EQ(OutShape("max", {{"axis", "(0,2)"}}, Shape{2, 3, 4}), (Shape{3}));
  EXPECT_EQ(OutShape("mean", {{"axis", "-1"}, {"keepdims", "1"}}, Shape{2, 3, 4}),
            (Shape{2, 3, 1}));
  EXPECT_EQ(OutShape("prod", {{"axis", "1"}, {"exclude", "true"}}, Shape{2, 3, 4}), (Shape{3}));
  EXPECT_EQ(OutShape("argmax", {}, Shape{2, 3}), (Shape{1}));
  EXPECT_EQ(OutShape("argmin", {{"axis", "0"}}, Shape{4}), (Shape{1}));
  EXPECT_EQ(OutShape("argmin", {{"axis", "-1"}}, Shape{2, 5}), (Shape{2}));
}

TEST(Reduce, AxisErrorsNameAxisAndNdim) {
  ExpectContains(ErrorOf("sum", {{"axis", "3"}}, Shape{2, 3, 4}), {"sum", "axis 3", "3 dims"});
  ExpectContains(ErrorOf("mean", {{"axis", "(0,-4)"}}, Shape{2, 3, 4}), {"axis -4", "3 dims"});
  ExpectContains(ErrorOf("max", {{"axis", "(1,-2)"}}, Shape{2, 3, 4}), {"repeated"});
  ExpectContains(ErrorOf("argmax", {{"axis", "2"}}, Shape{2, 3}), {"argmax", "axis 2", "2 dims"});
  ExpectContains(ErrorOf("sum", {{"keepdims", "maybe"}}, Shape{2}), {"sum", "keepdims"});
  ExpectContains(ErrorOf("argmin", {{"axis", "0"}}, Shape{0, 3}), {"argmin", "empty"});
}

TEST(Reduce, IntegersAndNaN) {
  NDArray a = MakeArray(Shape{2, 3}, {1, 5, 3, 4, 2, 6}, DType::kInt32);
  EXPECT_EQ(ToVector(RunOp("sum", {{"axis", "1"}}, {a})[0]), (std::vector<double>{9, 12}));
  EXPECT_EQ(ToVector(RunOp("max", {{"axis", "0"}}, {a})[0]), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(ToVector(RunOp("argmax", {{"axis", "1"}}, {a})[0]), (std::vector<double>{1, 2}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  NDArray b = MakeArray(Shape{4}, {1, nan, 3, nan});
  EXPECT_TRUE(std::isnan(ToVector(RunOp("max", {}, {b})[0])[0]));
  EXPECT_TRUE(std::isnan(ToVector(RunOp("min", {}, {b})[0])[0]));
  EXPECT_EQ(ToVector(RunOp("argmax", {}, {b})[0]), (std::vector<double>{1}));
}

TEST(Reduce, MaxGradientGoesToEveryTie) {
  NDArray x = MakeArray(Shape{2, 3}, {1, 3, 3, 2, 0, 2});
  auto g = EvalGradient("max", {{"axis", "1"}}, {x}, {MakeArray(Shape{2}, {10, 20})});
  EXPECT_EQ(ToVector(g[0]), (std::vector<double>{0, 10, 10, 20, 0, 20}));
}

// Large enough for the OpenMP paths of both kernels (innermost dim reduced and kept).
TEST(Reduce, LargeSumsAgreeWithReference) {
  for (const Shape& s : {Shape{64, 40, 30}, Shape{130, 3, 7}}) {
    std::vector<double> x(s.Size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = double(i % 11) - 5;
    for (const std::vector<int>& axes : std::vector<std::vector<int>>{{2}, {0}, {1}, {0, 2}}) {
      for (DType dt : {DType::kFloat32, DType::kFloat64}) {
        for (const char* op : {"sum", "max"}) {
          const bool is_sum = op[0] == 's';
          auto out = RunOp(op, {{"axis", AxisString(axes)}}, {MakeArray(s, x, dt)});
          EXPECT_EQ(
              ToVector(out[0]),
              RefReduce(s, x, Reduced(s, axes, false), is_sum ? 0 : -INFINITY,
                        [is_sum](double a, double b) { return is_sum ? a + b : std::max(a, b); }))
              << op << " " << s << " axis=" << AxisString(axes);
        }
      }
    }
  }
}

}  // namespace test
}  // namespace mx
