// The run-time choice of instruction set (base/simd.h): every level this CPU has computes the
// same results as the baseline x86-64 loops, for the loop families that dispatch (elementwise
// kernels, broadcasts, reductions, pooling, optimizer updates), on sizes that leave vector
// remainders and sizes large enough for the OpenMP paths.
#include "base/simd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "base/error.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

using Params = std::map<std::string, std::string>;

// Undoes simd::Force when a test ends, even on failure.
struct ForceGuard {
  ~ForceGuard() { simd::Unforce(); }
};

std::vector<double> Values(int64_t n, uint32_t seed, bool specials) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  std::vector<double> v(n);
  for (auto& x : v) x = u(gen);
  if (specials && n > 8) {
    v[1] = std::numeric_limits<double>::quiet_NaN();
    v[3] = 0.0;
    v[5] = -0.0;
    v[7] = std::numeric_limits<double>::infinity();
  }
  return v;
}

struct Call {
  std::string op;
  Params params;
  std::vector<Shape> shapes;
  DType dtype = DType::kFloat32;
  bool specials = true;  // NaN, zeros and infinity among the inputs
};

// The outputs of `c` run at `level`, as float64 (exact for every dtype used here).
std::vector<std::vector<double>> RunAt(simd::Level level, const Call& c) {
  simd::Force(level);
  std::vector<NDArray> in;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    in.push_back(MakeArray(c.shapes[i],
                           Values(c.shapes[i].Size(), static_cast<uint32_t>(7 + i), c.specials),
                           c.dtype));
  }
  std::vector<std::vector<double>> outs;
  for (const NDArray& o : RunOp(c.op, c.params, in)) outs.push_back(ToVector(o));
  return outs;
}

bool Same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

// Runs every call at every level this CPU has and compares each output element with the
// baseline's, exactly.
void ExpectSameAtEveryLevel(const std::vector<Call>& calls) {
  ForceGuard guard;
  for (const Call& c : calls) {
    const auto base = RunAt(simd::Level::kBaseline, c);
    for (int l = 1; l <= static_cast<int>(simd::Best()); ++l) {
      const simd::Level level = static_cast<simd::Level>(l);
      const auto got = RunAt(level, c);
      ASSERT_EQ(got.size(), base.size()) << c.op;
      for (size_t k = 0; k < got.size(); ++k) {
        ASSERT_EQ(got[k].size(), base[k].size()) << c.op;
        int64_t bad = 0;
        for (size_t i = 0; i < got[k].size(); ++i) {
          if (!Same(got[k][i], base[k][i])) {
            if (bad++ < 3) {
              ADD_FAILURE() << c.op << " " << DTypeName(c.dtype) << " at " << simd::Name(level)
                            << ": output " << k << " element " << i << " is " << got[k][i]
                            << ", baseline " << base[k][i];
            }
          }
        }
        EXPECT_EQ(bad, 0) << c.op << " at " << simd::Name(level);
      }
    }
  }
}

TEST(Simd, NamesParseAndTheEnvironmentCapsTheLevel) {
  EXPECT_EQ(simd::Parse("baseline"), simd::Level::kBaseline);
  EXPECT_EQ(simd::Parse("avx2"), simd::Level::kAvx2);
  EXPECT_EQ(simd::Parse("avx512"), simd::Level::kAvx512);
  EXPECT_EQ(simd::Parse("best"), simd::Best());
  for (int l = 0; l <= 2; ++l) {
    const auto level = static_cast<simd::Level>(l);
    EXPECT_EQ(simd::Parse(simd::Name(level)), level);
  }
  EXPECT_EQ(simd::Choose(nullptr), simd::Best());
  EXPECT_EQ(simd::Choose(""), simd::Best());
  EXPECT_EQ(simd::Choose("baseline"), simd::Level::kBaseline);
  // A level the CPU lacks is a cap, not a demand: the CPU's best is used.
  EXPECT_EQ(simd::Choose("avx512"), simd::Best());
  EXPECT_LE(static_cast<int>(simd::Choose("avx2")), static_cast<int>(simd::Level::kAvx2));
  try {
    simd::Choose("avx3");
    FAIL() << "MX_SIMD=avx3 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("MX_SIMD='avx3'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("baseline, avx2, avx512"), std::string::npos);
  }
}

TEST(Simd, ForceSetsTheActiveLevelWithinWhatTheCpuHas) {
  ForceGuard guard;
  EXPECT_EQ(simd::Force(simd::Level::kBaseline), simd::Level::kBaseline);
  EXPECT_EQ(simd::Active(), simd::Level::kBaseline);
  EXPECT_EQ(simd::Force(simd::Level::kAvx512), simd::Best());
  EXPECT_EQ(simd::Active(), simd::Best());
  simd::Unforce();
  EXPECT_LE(static_cast<int>(simd::Active()), static_cast<int>(simd::Best()));
}

// 1003 leaves a remainder for 4-, 8- and 16-wide vectors; 40009 runs the OpenMP paths.
TEST(Simd, ElementwiseKernelsGiveTheBaselineResults) {
  std::vector<Call> calls;
  for (int64_t n : {1003, 40009}) {
    for (DType dt : {DType::kFloat32, DType::kFloat64}) {
      for (const char* op : {"elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div",
                             "_maximum", "_minimum", "_greater", "_backward_elemwise_mul"}) {
        const int inputs = std::string(op).rfind("_backward", 0) == 0 ? 3 : 2;
        calls.push_back({op, {}, std::vector<Shape>(inputs, Shape{n}), dt});
      }
      for (const char* op : {"relu", "sigmoid", "tanh", "exp", "sqrt", "abs", "square"}) {
        calls.push_back({op, {}, {Shape{n}}, dt});
      }
      for (const char* op : {"_plus_scalar", "_mul_scalar", "_rdiv_scalar", "_maximum_scalar"}) {
        calls.push_back({op, {{"scalar", "0.75"}}, {Shape{n}}, dt});
      }
    }
    // Integer kernels stay baseline (kWideSimd, op/kernel.h) whatever the level.
    calls.push_back({"elemwise_mul", {}, {Shape{n}, Shape{n}}, DType::kInt32, false});
  }
  ExpectSameAtEveryLevel(calls);
}

TEST(Simd, BroadcastsAndReductionsGiveTheBaselineResults) {
  std::vector<Call> calls;
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    calls.push_back({"broadcast_add", {}, {Shape{37, 1}, Shape{1, 53}}, dt});
    calls.push_back({"broadcast_mul", {}, {Shape{67, 129}, Shape{1, 129}}, dt});
    calls.push_back({"broadcast_maximum", {}, {Shape{300, 131}, Shape{300, 1}}, dt});
    for (const char* op : {"sum", "mean", "max", "min"}) {
      for (const char* axis : {"0", "1", "(0, 1)"}) {
        calls.push_back({op, {{"axis", axis}}, {Shape{67, 129}}, dt, std::string(op) != "sum"});
        calls.push_back({op, {{"axis", axis}}, {Shape{301, 157}}, dt, false});
      }
    }
    calls.push_back({"prod", {{"axis", "0"}}, {Shape{5, 1003}}, dt, false});
  }
  ExpectSameAtEveryLevel(calls);
}

TEST(Simd, PoolingGivesTheBaselineResults) {
  std::vector<Call> calls;
  // float64: float32's forward pass may run in oneDNN, whose own choice of code is not ours.
  // Tiled 2x2 windows and overlapping padded 3x3 ones take different loops; the backward op's
  // inputs are (ograd, data, output).
  const Shape x1{2, 3, 34, 38}, y1{2, 3, 17, 19}, x2{4, 8, 33, 35}, y2{4, 8, 17, 18};
  for (const char* type : {"max", "avg", "sum"}) {
    const Params tiled{{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", type}};
    const Params padded{
        {"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"pad", "(1, 1)"}, {"pool_type", type}};
    calls.push_back({"Pooling", tiled, {x1}, DType::kFloat64, false});
    calls.push_back({"Pooling", padded, {x2}, DType::kFloat64, false});
    calls.push_back({"_backward_Pooling", tiled, {y1, x1, y1}, DType::kFloat64, false});
    calls.push_back({"_backward_Pooling", padded, {y2, x2, y2}, DType::kFloat64, false});
  }
  ExpectSameAtEveryLevel(calls);
}

TEST(Simd, OptimizerUpdatesGiveTheBaselineResults) {
  std::vector<Call> calls;
  for (int64_t n : {1003, 40009}) {
    calls.push_back({"sgd_update", {{"lr", "0.1"}, {"wd", "0.01"}}, {Shape{n}, Shape{n}}});
    calls.push_back({"sgd_mom_update",
                     {{"lr", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}},
                     {Shape{n}, Shape{n}, Shape{n}}});
    calls.push_back({"adam_update",
                     {{"lr", "0.01"}, {"wd", "0.001"}},
                     {Shape{n}, Shape{n}, Shape{n}, Shape{n}},
                     DType::kFloat32,
                     false});
  }
  ExpectSameAtEveryLevel(calls);
}

}  // namespace
}  // namespace test
}  // namespace mx
