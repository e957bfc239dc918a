// Cases for Dropout: identity at inference, a seeded mask in training (statistics, scaling,
// reproducibility), p = 0 and p = 1, mode=always, and the hidden mask output.
#include <gtest/gtest.h>

#include "graph/symbol.h"
#include "op_harness.h"
#include "resource/resource.h"

namespace mx {
namespace test {
namespace {

MX_OP_CASES(dropout) {
  // The harness reseeds the generator before every evaluation, so the training case computes one
  // fixed function of its input: the gradient is checked against finite differences.
  OpCase train("Dropout", {Shape{4, 5}}, {{"p", "0.3"}});
  OpCase infer = OpCase("Dropout", {Shape{3, 4}}, {{"p", "0.5"}}).Ref([](const Vals& x) {
    return Vals{x[0], std::vector<double>(x[0].size(), 1.0)};
  });
  infer.is_train = false;
  return {train, infer};
}

std::vector<double> Drop(const NDArray& x, std::map<std::string, std::string> p, bool train,
                         uint64_t seed) {
  ResourceManager::Get()->SeedRandom(seed);
  return ToVector(RunOp("Dropout", p, {x}, train)[0]);
}

TEST(Dropout, KeepsOneMinusPScaledAndIsReproducible) {
  const int n = 20000;
  NDArray x = MakeArray(Shape{n}, std::vector<double>(n, 2.0), DType::kFloat32);
  const std::vector<double> a = Drop(x, {{"p", "0.25"}}, true, 7);
  int kept = 0;
  for (double v : a) {
    if (v != 0) {
      EXPECT_NEAR(v, 2.0 / 0.75, 1e-6);
      ++kept;
    }
  }
  EXPECT_NEAR(kept / static_cast<double>(n), 0.75, 0.015);
  EXPECT_EQ(Drop(x, {{"p", "0.25"}}, true, 7), a) << "same seed, same mask";
  EXPECT_NE(Drop(x, {{"p", "0.25"}}, true, 8), a) << "another seed, another mask";
}

TEST(Dropout, EdgeProbabilitiesAndModes) {
  NDArray x = MakeArray(Shape{6}, {1, -2, 3, -4, 5, -6});
  const std::vector<double> xv = ToVector(x);
  EXPECT_EQ(Drop(x, {{"p", "0"}}, true, 1), xv);
  EXPECT_EQ(Drop(x, {{"p", "1"}}, true, 1), std::vector<double>(6, 0.0));
  EXPECT_EQ(Drop(x, {{"p", "0.9"}}, false, 1), xv) << "identity at inference";
  const std::vector<double> always = Drop(x, {{"p", "0.5"}, {"mode", "always"}}, false, 3);
  for (size_t i = 0; i < xv.size(); ++i) {
    EXPECT_TRUE(always[i] == 0 || always[i] == 2 * xv[i]) << always[i];
  }
  EXPECT_THROW(RunOp("Dropout", {{"p", "1.5"}}, {x}), Error);
  EXPECT_THROW(RunOp("Dropout", {{"mode", "sometimes"}}, {x}), Error);
}

TEST(Dropout, TheMaskIsHidden) {
  Symbol d = Symbol::CreateOp("Dropout", {{"p", "0.2"}});
  d.Compose({Symbol::Variable("data")}, {}, "drop1");
  EXPECT_EQ(d.ListOutputs(), std::vector<std::string>{"drop1_output"});
  EXPECT_EQ(d.ListArguments(), std::vector<std::string>{"data"});
}

}  // namespace
}  // namespace test
}  // namespace mx
