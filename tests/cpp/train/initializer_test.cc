// Initializers: statistics of the random rules on large arrays, Xavier's fans, the name rules,
// seeding, and errors.
#include "train/initializer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "array_test_util.h"
#include "base/error.h"
#include "resource/resource.h"

namespace mx {
namespace train {
namespace {

using test::Read;

struct Stats {
  double mean = 0, std = 0, min = 1e300, max = -1e300;
};

Stats StatsOf(const std::vector<float>& v) {
  Stats s;
  for (float x : v) {
    s.mean += x;
    s.min = std::min<double>(s.min, x);
    s.max = std::max<double>(s.max, x);
  }
  s.mean /= static_cast<double>(v.size());
  for (float x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  return s;
}

NDArray Filled(std::unique_ptr<Initializer> init, const std::string& name, const Shape& shape) {
  NDArray a(shape, Context::CPU());
  init->Apply(name, a);
  return a;
}

constexpr uint64_t kSeed = 20240607;

TEST(InitializerTest, UniformStatistics) {
  ResourceManager::Get()->SeedRandom(kSeed);
  const Stats s = StatsOf(Read(
      Filled(Initializer::Create("uniform", {{"scale", "0.5"}}), "fc_weight", Shape{200, 500})));
  EXPECT_NEAR(s.mean, 0.0, 0.005);
  EXPECT_NEAR(s.std, 0.5 / std::sqrt(3.0), 0.005);  // U(-a, a) has std a / sqrt(3)
  EXPECT_GE(s.min, -0.5);
  EXPECT_LT(s.max, 0.5);
}

TEST(InitializerTest, NormalStatistics) {
  ResourceManager::Get()->SeedRandom(kSeed);
  const Stats s = StatsOf(
      Read(Filled(Initializer::Create("normal", {{"sigma", "2"}}), "w_weight", Shape{100000})));
  EXPECT_NEAR(s.mean, 0.0, 0.03);
  EXPECT_NEAR(s.std, 2.0, 0.03);
}

TEST(InitializerTest, DefaultsAreMXNets) {
  ResourceManager::Get()->SeedRandom(kSeed);
  EXPECT_NEAR(
      StatsOf(Read(Filled(Initializer::Create("uniform", {}), "weight", Shape{100000}))).std,
      0.07 / std::sqrt(3.0), 0.002);
  EXPECT_NEAR(StatsOf(Read(Filled(Initializer::Create("normal", {}), "weight", Shape{100000}))).std,
              0.01, 0.0003);
}

// Xavier's scale is sqrt(magnitude / factor) with fan_in = in * kernel, fan_out = out * kernel.
TEST(InitializerTest, XavierFans) {
  struct Case {
    const char* rnd;
    const char* factor;
    Shape shape;
    double fan;  // the factor the scale divides by
  };
  const std::vector<Case> cases = {
      {"uniform", "avg", Shape{300, 700}, (300.0 + 700.0) / 2},
      {"uniform", "in", Shape{300, 700}, 700.0},
      {"gaussian", "out", Shape{300, 700}, 300.0},
      {"uniform", "avg", Shape{64, 32, 3, 3}, (32.0 * 9 + 64.0 * 9) / 2},
      {"gaussian", "in", Shape{64, 32, 3, 3}, 32.0 * 9},
  };
  ResourceManager::Get()->SeedRandom(kSeed);
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.rnd) + " " + c.factor + " " + c.shape.ToString());
    const double magnitude = 2.0;
    const auto init = Initializer::Create(
        "xavier", {{"rnd_type", c.rnd}, {"factor_type", c.factor}, {"magnitude", "2"}});
    NDArray a(c.shape, Context::CPU());
    init->Apply("conv_weight", a);
    const Stats s = StatsOf(Read(a));
    const double scale = std::sqrt(magnitude / c.fan);
    const double expected_std = std::string(c.rnd) == "uniform" ? scale / std::sqrt(3.0) : scale;
    EXPECT_NEAR(s.mean, 0.0, 0.02 * expected_std * 3);
    EXPECT_NEAR(s.std, expected_std, 0.03 * expected_std);
    if (std::string(c.rnd) == "uniform") {
      EXPECT_GE(s.min, -scale);
      EXPECT_LT(s.max, scale);
    }
  }
}

TEST(InitializerTest, XavierRejectsVectors) {
  const auto init = Initializer::Create("xavier", {});
  NDArray a(Shape{10}, Context::CPU());
  try {
    init->Apply("fc_weight", a);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc_weight"), std::string::npos) << e.what();
  }
}

TEST(InitializerTest, SameSeedSameValues) {
  ResourceManager::Get()->SeedRandom(7);
  const std::vector<float> first =
      Read(Filled(Initializer::Create("normal", {}), "fc_weight", Shape{16, 16}));
  ResourceManager::Get()->SeedRandom(7);
  const std::vector<float> second =
      Read(Filled(Initializer::Create("normal", {}), "fc_weight", Shape{16, 16}));
  ResourceManager::Get()->SeedRandom(8);
  const std::vector<float> third =
      Read(Filled(Initializer::Create("normal", {}), "fc_weight", Shape{16, 16}));
  EXPECT_EQ(first, second);
  EXPECT_NE(first, third);
}

TEST(InitializerTest, NameRules) {
  struct Case {
    const char* name;
    float value;
  };
  // "constant" makes the weight rule visible; every other rule ignores it.
  const auto init = Initializer::Create("constant", {{"value", "0.25"}});
  const std::vector<Case> cases = {
      {"fc1_weight", 0.25f},  {"weight", 0.25f},          {"fc1_bias", 0.f},
      {"bn_gamma", 1.f},      {"bn_beta", 0.f},           {"bn_moving_mean", 0.f},
      {"bn_moving_var", 1.f}, {"bn_moving_inv_var", 0.f}, {"q_min", 0.f},
      {"q_max", 1.f},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    NDArray a(Shape{2, 3}, Context::CPU());
    a.Fill(-7);
    init->Apply(c.name, a);
    for (float v : Read(a)) EXPECT_EQ(v, c.value);
  }
  NDArray data(Shape{2, 3}, Context::CPU());
  try {
    init->Apply("data", data);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'data'"), std::string::npos) << e.what();
  }
}

TEST(InitializerTest, ZeroOne) {
  NDArray a(Shape{4}, Context::CPU());
  Initializer::Create("one", {})->Apply("x_weight", a);
  for (float v : Read(a)) EXPECT_EQ(v, 1.f);
  Initializer::Create("zero", {})->Apply("x_weight", a);
  for (float v : Read(a)) EXPECT_EQ(v, 0.f);
}

TEST(InitializerTest, BadNamesAndParams) {
  auto message = [](const std::string& type, const ParamMap& p) {
    try {
      Initializer::Create(type, p);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("glorot", {}).find("'glorot'"), std::string::npos);
  EXPECT_NE(message("uniform", {{"sigma", "1"}}).find("'sigma'"), std::string::npos);
  EXPECT_NE(message("uniform", {{"scale", "abc"}}).find("abc"), std::string::npos);
  EXPECT_NE(message("xavier", {{"rnd_type", "cauchy"}}).find("cauchy"), std::string::npos);
  EXPECT_NE(message("xavier", {{"factor_type", "sum"}}).find("sum"), std::string::npos);
  EXPECT_NE(message("constant", {}).find("value"), std::string::npos);
}

}  // namespace
}  // namespace train
}  // namespace mx
