// Cases for the creation ops (_zeros, _ones, _full, _arange, zeros_like, ones_like) and the random
// ops (_random_uniform, _random_normal): values, seeding, statistics, and parameter errors.
#include <gtest/gtest.h>

#include <cmath>

#include "op/invoke.h"
#include "op_harness.h"
#include "resource/resource.h"

namespace mx {
namespace test {
namespace {

using Vec = std::vector<double>;

OpCase Const(const std::string& op, std::map<std::string, std::string> p, Vec want) {
  return OpCase(op, {}, p).Ref([want](const Vals&) { return Vals{want}; });
}

// Random ops: two runs differ, so neither the float32-vs-float64 comparison nor a reference
// applies; their values are checked by the seeding and statistics tests below.
OpCase Random(const std::string& op, std::map<std::string, std::string> p) {
  OpCase c(op, {}, p);
  c.test_float32 = false;
  return c.NoGrad();
}

}  // namespace

MX_OP_CASES(init) {
  return {
      Const("_zeros", {{"shape", "(2,3)"}}, Vec(6, 0.0)),
      Const("_ones", {{"shape", "(3,)"}, {"dtype", "float64"}, {"ctx", "cpu(0)"}}, Vec(3, 1.0)),
      Const("_ones", {{"shape", "(2,2)"}, {"dtype", "int32"}}, Vec(4, 1.0)),
      Const("_full", {{"shape", "(2,2)"}, {"value", "2.5"}}, Vec(4, 2.5)),
      Const("_arange", {{"start", "1"}, {"stop", "4"}, {"step", "0.5"}}, {1, 1.5, 2, 2.5, 3, 3.5}),
      Const("_arange", {{"start", "3"}, {"repeat", "2"}, {"dtype", "int64"}}, {0, 0, 1, 1, 2, 2}),
      Const("_arange", {{"start", "2"}, {"stop", "-1"}, {"step", "-1"}}, {2, 1, 0}),
      OpCase("zeros_like", {Shape{2, 3}}).Ref([](const Vals& x) {
        return Vals{Vec(x[0].size(), 0.0)};
      }),
      OpCase("ones_like", {Shape{4}}).Ref([](const Vals& x) {
        return Vals{Vec(x[0].size(), 1.0)};
      }),
      Random("_random_uniform", {{"shape", "(4,5)"}, {"low", "-1"}, {"high", "2"}}),
      Random("_random_normal", {{"shape", "(3,3)"}, {"loc", "1"}, {"scale", "0.5"}}),
  };
}

namespace {

Vec Draw(const std::string& op, std::map<std::string, std::string> p) {
  return ToVector(RunOp(op, p, {})[0]);
}

struct Moments {
  double mean = 0, var = 0, min = INFINITY, max = -INFINITY;
};

Moments Stats(const Vec& v) {
  Moments m;
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= v.size();
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= v.size() - 1;
  return m;
}

}  // namespace

TEST(InitOps, SameSeedSameNumbers) {
  for (const char* op : {"_random_uniform", "_random_normal"}) {
    for (const char* dtype : {"float32", "float64"}) {
      SCOPED_TRACE(std::string(op) + " " + dtype);
      const std::map<std::string, std::string> p{{"shape", "(1001,)"}, {"dtype", dtype}};
      ResourceManager::Get()->SeedRandom(42);
      const Vec a = Draw(op, p);
      const Vec a2 = Draw(op, p);
      ResourceManager::Get()->SeedRandom(42);
      const Vec b = Draw(op, p);
      const Vec b2 = Draw(op, p);
      EXPECT_EQ(a, b);
      EXPECT_EQ(a2, b2);
      EXPECT_NE(a, a2) << "consecutive draws must differ";
      ResourceManager::Get()->SeedRandom(43);
      EXPECT_NE(Draw(op, p), a) << "another seed must give other numbers";
    }
  }
}

TEST(InitOps, UniformStatistics) {
  ResourceManager::Get()->SeedRandom(1);
  for (const char* dtype : {"float32", "float64"}) {
    SCOPED_TRACE(dtype);
    const Moments m =
        Stats(Draw("_random_uniform",
                   {{"shape", "(100000,)"}, {"low", "-2"}, {"high", "3"}, {"dtype", dtype}}));
    EXPECT_NEAR(m.mean, 0.5, 0.03);  // sd of the mean: 1.44 / sqrt(1e5) = 0.005
    EXPECT_NEAR(m.var, 25.0 / 12.0, 0.04);
    EXPECT_GE(m.min, -2.0);
    EXPECT_LT(m.max, 3.0);
    EXPECT_LT(m.min, -1.99);
    EXPECT_GT(m.max, 2.99);
  }
}

TEST(InitOps, NormalStatistics) {
  ResourceManager::Get()->SeedRandom(2);
  for (const char* dtype : {"float32", "float64"}) {
    SCOPED_TRACE(dtype);
    const Vec v = Draw("_random_normal",
                       {{"shape", "(100001,)"}, {"loc", "1"}, {"scale", "2"}, {"dtype", dtype}});
    const Moments m = Stats(v);
    EXPECT_NEAR(m.mean, 1.0, 0.04);  // sd of the mean: 2 / sqrt(1e5) = 0.0063
    EXPECT_NEAR(m.var, 4.0, 0.1);
    // About 4.55% of normal draws lie beyond two standard deviations.
    int64_t tails = 0;
    for (double x : v) tails += std::fabs(x - 1.0) > 4.0;
    EXPECT_NEAR(tails / double(v.size()), 0.0455, 0.004);
  }
}

TEST(InitOps, ParameterErrors) {
  auto expect_error = [](const std::string& op, const std::map<std::string, std::string>& p,
                         const std::string& part) {
    try {
      RunOp(op, p, {})[0].WaitToRead();
      ADD_FAILURE() << op << ": expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error("_arange", {{"start", "0"}, {"stop", "3"}, {"step", "0"}}, "step must not be 0");
  expect_error("_arange", {{"start", "5"}, {"stop", "1"}}, "non-empty range");
  expect_error("_arange", {{"start", "5"}, {"repeat", "0"}}, "repeat");
  expect_error("_zeros", {{"shape", "(2,3)"}, {"ctx", "tpu(0)"}}, "tpu(0)");
  expect_error("_zeros", {{"shape", "(2,-3)"}}, "negative dim");
  expect_error("_ones", {{"shape", "(2,)"}, {"dtype", "float33"}}, "float33");
  expect_error("_full", {{"shape", "(2,)"}}, "value");
  expect_error("_random_uniform", {{"low", "2"}, {"high", "1"}}, "low=2");
  expect_error("_random_normal", {{"scale", "-1"}}, "scale=-1");
  expect_error("_random_normal", {{"shape", "(2,)"}, {"dtype", "int32"}}, "int32");
}

// Fuzz findings (fuzz/regressions/op_params/zeros_*.txt): an empty output's data pointer is null,
// and zero-filling it called memset(nullptr, 0, 0), undefined behaviour that UBSan reports.
TEST(InitOps, EmptyShapesAreFine) {
  NDArray z = RunOp("_zeros", {{"shape", "(0,3)"}}, {})[0];
  z.WaitToRead();
  EXPECT_EQ(z.shape(), (Shape{0, 3}));
  NDArray like = RunOp("zeros_like", {}, {z})[0];
  like.WaitToRead();
  EXPECT_EQ(like.shape(), (Shape{0, 3}));
}

TEST(InitOps, ZerosOfEveryType) {
  // Zero needs no arithmetic, so even float16 (stored only) can be created.
  NDArray h = RunOp("_zeros", {{"shape", "(3,)"}, {"dtype", "float16"}}, {})[0];
  h.WaitToRead();
  EXPECT_EQ(h.dtype(), DType::kFloat16);
  EXPECT_EQ(h.shape(), (Shape{3}));
  EXPECT_EQ(ToVector(RunOp("_zeros", {{"shape", "(2,)"}, {"dtype", "uint8"}}, {})[0]), (Vec{0, 0}));
}

TEST(InitOps, OutputsGoWhereTheCallerSays) {
  std::vector<NDArray> out;
  Invoke(MakeAttrs(OpRegistry::Get()->Get("_ones"), {{"shape", "(2,)"}}), {}, &out, false,
         Context::CPU(1));
  EXPECT_EQ(out[0].ctx(), Context::CPU(1));
  EXPECT_EQ(ToVector(out[0]), (Vec{1, 1}));
}

}  // namespace test
}  // namespace mx
