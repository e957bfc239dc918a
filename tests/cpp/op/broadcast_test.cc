// Cases for the broadcast family: binary ops under numpy broadcasting, broadcast_to and
// broadcast_axis; plus the error messages and the large (parallel) paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

// The flat index into `in` (aligned at the right, size-1 dims broadcast) of element i of `out`.
int64_t SourceIndex(const Shape& out, int64_t i, const Shape& in) {
  int64_t src = 0, stride = 1;
  for (int d = out.ndim() - 1; d >= 0; --d) {
    const int64_t idx = i % out[d];
    i /= out[d];
    const int di = d - (out.ndim() - in.ndim());
    if (di < 0) continue;
    if (in[di] != 1) src += idx * stride;
    stride *= in[di];
  }
  return src;
}

Shape Broadcast(const Shape& a, const Shape& b) {
  const int nd = std::max(a.ndim(), b.ndim());
  Shape out = Shape::Filled(nd, 1);
  for (int d = 0; d < nd; ++d) {
    const int da = d - (nd - a.ndim()), db = d - (nd - b.ndim());
    out[d] = std::max(da >= 0 ? a[da] : 1, db >= 0 ? b[db] : 1);
  }
  return out;
}

std::vector<double> RefBinary(const Shape& sa, const std::vector<double>& a, const Shape& sb,
                              const std::vector<double>& b,
                              const std::function<double(double, double)>& f) {
  const Shape out = Broadcast(sa, sb);
  std::vector<double> y(out.Size());
  for (int64_t i = 0; i < out.Size(); ++i) {
    y[i] = f(a[SourceIndex(out, i, sa)], b[SourceIndex(out, i, sb)]);
  }
  return y;
}

std::vector<double> RefBroadcastTo(const Shape& in, const std::vector<double>& x,
                                   const Shape& out) {
  std::vector<double> y(out.Size());
  for (int64_t i = 0; i < out.Size(); ++i) y[i] = x[SourceIndex(out, i, in)];
  return y;
}

using Fn2 = std::function<double(double, double)>;

std::vector<OpCase> Binary(const std::string& op, Fn2 f, std::vector<std::pair<Shape, Shape>> ss,
                           double lo = -2, double hi = 2) {
  std::vector<OpCase> cases;
  for (const auto& s : ss) {
    const Shape sa = s.first, sb = s.second;
    cases.push_back(OpCase(op, {sa, sb}).Range(lo, hi).Ref([=](const Vals& x) {
      return Vals{RefBinary(sa, x[0], sb, x[1], f)};
    }));
  }
  return cases;
}

// Same shapes, a row vector, size-1 dims on both sides, 1-D against 3-D.
const std::vector<std::pair<Shape, Shape>> kArithShapes = {
    {Shape{3, 4}, Shape{3, 4}},
    {Shape{3, 4}, Shape{4}},
    {Shape{2, 1, 4}, Shape{3, 1}},
    {Shape{1}, Shape{2, 3, 2}},
};
const std::vector<std::pair<Shape, Shape>> kCompareShapes = {
    {Shape{3, 4}, Shape{3, 1}},
    {Shape{2, 1, 3}, Shape{4, 1}},
};

OpCase To(const Shape& in, const std::string& shape, const Shape& out) {
  return OpCase("broadcast_to", {in}, {{"shape", shape}}).Ref([=](const Vals& x) {
    return Vals{RefBroadcastTo(in, x[0], out)};
  });
}

OpCase Axis(const Shape& in, const std::string& axis, const std::string& size, const Shape& out) {
  return OpCase("broadcast_axis", {in}, {{"axis", axis}, {"size", size}}).Ref([=](const Vals& x) {
    return Vals{RefBroadcastTo(in, x[0], out)};
  });
}

// Small integers so equality and ties actually occur.
void SmallInts(int input, std::vector<double>* v) {
  for (size_t i = 0; i < v->size(); ++i) (*v)[i] = double((i * (3 + input) + input) % 3);
}

}  // namespace

MX_OP_CASES(broadcast) {
  std::vector<OpCase> all;
  auto add = [&](std::vector<OpCase> cs) {
    for (auto& c : cs) all.push_back(std::move(c));
  };
  add(Binary("broadcast_add", std::plus<double>(), kArithShapes));
  add(Binary("broadcast_sub", std::minus<double>(), kArithShapes));
  add(Binary("broadcast_mul", std::multiplies<double>(), kArithShapes));
  add(Binary("broadcast_div", std::divides<double>(), kArithShapes, 0.5, 2));
  add(Binary(
      "broadcast_power", [](double a, double b) { return std::pow(a, b); }, kArithShapes, 0.5, 2));
  add(Binary(
      "broadcast_maximum", [](double a, double b) { return std::max(a, b); }, kArithShapes));
  add(Binary(
      "broadcast_minimum", [](double a, double b) { return std::min(a, b); }, kArithShapes));
  const std::vector<std::pair<std::string, Fn2>> compares = {
      {"broadcast_equal", [](double a, double b) { return double(a == b); }},
      {"broadcast_not_equal", [](double a, double b) { return double(a != b); }},
      {"broadcast_greater", [](double a, double b) { return double(a > b); }},
      {"broadcast_greater_equal", [](double a, double b) { return double(a >= b); }},
      {"broadcast_lesser", [](double a, double b) { return double(a < b); }},
      {"broadcast_lesser_equal", [](double a, double b) { return double(a <= b); }},
  };
  for (const auto& c : compares) {
    std::vector<OpCase> cs = Binary(c.first, c.second, kCompareShapes);
    for (auto& k : cs) k.Init(SmallInts);
    add(std::move(cs));
  }
  all.push_back(To(Shape{1, 3}, "(4,3)", Shape{4, 3}));
  all.push_back(To(Shape{2, 1, 1}, "(0,3,4)", Shape{2, 3, 4}));
  all.push_back(To(Shape{1}, "(5,)", Shape{5}));
  all.push_back(To(Shape{2, 3}, "(2,3)", Shape{2, 3}));
  all.push_back(Axis(Shape{2, 1, 3}, "1", "4", Shape{2, 4, 3}));
  all.push_back(Axis(Shape{1, 2, 1}, "(0,-1)", "(3,2)", Shape{3, 2, 2}));
  return all;
}

namespace {

std::string ErrorOf(const std::string& op, const std::map<std::string, std::string>& params,
                    const std::vector<Shape>& shapes) {
  std::vector<NDArray> in;
  for (const Shape& s : shapes) in.push_back(MakeArray(s, std::vector<double>(s.Size(), 1.0)));
  try {
    RunOp(op, params, in);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << op << " on incompatible input did not throw";
  return "";
}

void ExpectContains(const std::string& msg, const std::vector<std::string>& parts) {
  for (const auto& p : parts)
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' in: " << msg;
}

}  // namespace

TEST(Broadcast, IncompatibleShapesNameBothShapes) {
  ExpectContains(ErrorOf("broadcast_add", {}, {Shape{2, 3}, Shape{4, 3}}),
                 {"broadcast_add", "(2,3)", "(4,3)", "lhs", "rhs"});
  ExpectContains(ErrorOf("broadcast_mul", {}, {Shape{3}, Shape{2, 2}}), {"(3)", "(2,2)"});
}

TEST(Broadcast, BroadcastToErrors) {
  ExpectContains(ErrorOf("broadcast_to", {{"shape", "(4,3)"}}, {Shape{2, 3}}),
                 {"broadcast_to", "(2,3)", "(4,3)", "dim 0"});
  ExpectContains(ErrorOf("broadcast_to", {{"shape", "(4,3)"}}, {Shape{3}}),
                 {"(4,3)", "(3)", "dims"});
}

// A fuzz finding (fuzz/regressions/op_params/backward_broadcast_to_ograd_shape.txt): the backward
// op, invocable by name, took any ograd and failed inside its kernel with an internal error.
TEST(Broadcast, BackwardOfBroadcastToChecksTheShapes) {
  ExpectContains(ErrorOf("_backward_broadcast_to", {}, {Shape{}, Shape{3, 4}}),
                 {"_backward_broadcast_to", "(3,4)", "does not broadcast", "ograd"});
  ExpectContains(ErrorOf("_backward_broadcast_axis", {}, {Shape{2, 3}, Shape{2, 2}}),
                 {"(2,2)", "(2,3)"});
  std::vector<NDArray> g =
      RunOp("_backward_broadcast_to", {},
            {MakeArray(Shape{2, 3}, {1, 2, 3, 4, 5, 6}), MakeArray(Shape{3}, {0, 0, 0})});
  EXPECT_EQ(ToVector(g[0]), (std::vector<double>{5, 7, 9}));
}

TEST(Broadcast, BroadcastAxisErrors) {
  ExpectContains(ErrorOf("broadcast_axis", {{"axis", "3"}, {"size", "2"}}, {Shape{1, 2}}),
                 {"broadcast_axis", "axis 3", "2 dims"});
  ExpectContains(ErrorOf("broadcast_axis", {{"axis", "1"}, {"size", "4"}}, {Shape{1, 2}}),
                 {"(1,2)", "axis 1 has size 2"});
  ExpectContains(ErrorOf("broadcast_axis", {{"axis", "(0,1)"}, {"size", "4"}}, {Shape{1, 1}}),
                 {"same length"});
}

TEST(Broadcast, IntegerArithmetic) {
  NDArray a = MakeArray(Shape{2, 2}, {1, 2, 3, 4}, DType::kInt32);
  NDArray b = MakeArray(Shape{2}, {10, 20}, DType::kInt32);
  auto out = RunOp("broadcast_add", {}, {a, b});
  EXPECT_EQ(out[0].dtype(), DType::kInt32);
  EXPECT_EQ(ToVector(out[0]), (std::vector<double>{11, 22, 13, 24}));
}

// Large enough for the OpenMP paths: forward, and gradients that reduce over rows and columns.
TEST(Broadcast, LargeRowAndColumnVectors) {
  const Shape sm{300, 200}, row{200}, col{300, 1};
  std::vector<double> m(sm.Size()), r(row.Size()), c(col.Size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = double(i % 17) - 8;
  for (size_t i = 0; i < r.size(); ++i) r[i] = double(i % 5) + 1;
  for (size_t i = 0; i < c.size(); ++i) c[i] = double(i % 7) - 3;
  for (const auto& other : {std::make_pair(row, r), std::make_pair(col, c)}) {
    for (DType dt : {DType::kFloat32, DType::kFloat64}) {
      auto out = RunOp("broadcast_mul", {},
                       {MakeArray(sm, m, dt), MakeArray(other.first, other.second, dt)});
      EXPECT_EQ(ToVector(out[0]),
                RefBinary(sm, m, other.first, other.second, std::multiplies<double>()));
      // d/d(other) of sum(w * m * other) with w = 1: column or row sums of m.
      auto grads = EvalGradient("broadcast_mul", {},
                                {MakeArray(sm, m, dt), MakeArray(other.first, other.second, dt)},
                                {MakeArray(sm, std::vector<double>(sm.Size(), 1.0), dt)});
      std::vector<double> want(other.second.size(), 0.0);
      for (int64_t i = 0; i < sm.Size(); ++i) want[SourceIndex(sm, i, other.first)] += m[i];
      EXPECT_EQ(ToVector(grads[1]), want);
      EXPECT_EQ(ToVector(grads[0]), RefBroadcastTo(other.first, other.second, sm));
    }
  }
}

}  // namespace test
}  // namespace mx
