#include "io/epoch_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "base/error.h"

namespace mx {
namespace io {
namespace {

// The batches of the plan's current epoch.
std::vector<std::vector<int64_t>> Batches(const EpochPlan& plan) {
  std::vector<std::vector<int64_t>> out(plan.num_batches(),
                                        std::vector<int64_t>(plan.batch_size()));
  for (int64_t b = 0; b < plan.num_batches(); ++b) plan.Batch(b, out[b].data());
  return out;
}

std::vector<int64_t> Sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(EpochPlan, PadCompletesTheLastBatchFromTheStart) {
  EpochPlan plan(10, 4, LastBatch::kPad, false, 0);
  using V = std::vector<int64_t>;
  EXPECT_EQ(Batches(plan), (std::vector<V>{V{0, 1, 2, 3}, V{4, 5, 6, 7}, V{8, 9, 0, 1}}));
  EXPECT_EQ(plan.Pad(0), 0);
  EXPECT_EQ(plan.Pad(2), 2);
  plan.NextEpoch(true);  // padding carries nothing over
  EXPECT_EQ(plan.num_batches(), 3);
  EXPECT_EQ(plan.order(), Iota(10));
}

TEST(EpochPlan, BatchLargerThanTheDataWrapsSeveralTimes) {
  EpochPlan pad(3, 8, LastBatch::kPad, false, 0);
  ASSERT_EQ(pad.num_batches(), 1);
  EXPECT_EQ(Batches(pad)[0], (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1}));
  EXPECT_EQ(pad.Pad(0), 5);
  EXPECT_EQ(EpochPlan(3, 8, LastBatch::kDiscard, false, 0).num_batches(), 0);
  EpochPlan roll(3, 8, LastBatch::kRollOver, false, 0);
  EXPECT_EQ(roll.num_batches(), 0);
  roll.NextEpoch(true);
  EXPECT_EQ(roll.num_batches(), 0);
  roll.NextEpoch(true);  // 3 + 3 + 3 samples: one batch
  ASSERT_EQ(roll.num_batches(), 1);
  EXPECT_EQ(Batches(roll)[0], (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1}));
  EXPECT_EQ(roll.Pad(0), 0);
}

TEST(EpochPlan, DiscardDropsTheRemainderEveryEpoch) {
  EpochPlan plan(10, 4, LastBatch::kDiscard, false, 0);
  for (int epoch = 0; epoch < 2; ++epoch, plan.NextEpoch(true)) {
    ASSERT_EQ(plan.num_batches(), 2);
    EXPECT_EQ(Batches(plan)[1], (std::vector<int64_t>{4, 5, 6, 7}));
    EXPECT_EQ(plan.Pad(1), 0);
  }
}

TEST(EpochPlan, RollOverCarriesTheRemainderIntoTheNextEpoch) {
  EpochPlan plan(10, 4, LastBatch::kRollOver, false, 0);
  EXPECT_EQ(plan.num_batches(), 2);  // 8, 9 left over
  plan.NextEpoch(true);
  ASSERT_EQ(plan.num_batches(), 3);  // 12 samples
  using V = std::vector<int64_t>;
  EXPECT_EQ(Batches(plan), (std::vector<V>{V{8, 9, 0, 1}, V{2, 3, 4, 5}, V{6, 7, 8, 9}}));
  plan.NextEpoch(true);  // nothing left over: back to the start
  EXPECT_EQ(plan.num_batches(), 2);
  EXPECT_EQ(plan.order(), Iota(10));
  // An epoch cut short by a reset carries nothing.
  plan.NextEpoch(false);
  EXPECT_EQ(plan.order(), Iota(10));
}

TEST(EpochPlan, RollOverWithShuffleKeepsEverySampleOncePerPass) {
  EpochPlan plan(10, 4, LastBatch::kRollOver, true, 3);
  const std::vector<int64_t> first = plan.order();
  EXPECT_EQ(Sorted(first), Iota(10));
  plan.NextEpoch(true);
  const std::vector<int64_t>& second = plan.order();
  ASSERT_EQ(second.size(), 12u);
  EXPECT_EQ(second[0], first[8]);
  EXPECT_EQ(second[1], first[9]);
  EXPECT_EQ(Sorted(std::vector<int64_t>(second.begin() + 2, second.end())), Iota(10));
}

TEST(EpochPlan, ShuffleIsADeterministicPermutationPerSeed) {
  EpochPlan a(100, 10, LastBatch::kPad, true, 42), b(100, 10, LastBatch::kPad, true, 42);
  EpochPlan c(100, 10, LastBatch::kPad, true, 43);
  EXPECT_EQ(Sorted(a.order()), Iota(100));
  EXPECT_NE(a.order(), Iota(100));
  EXPECT_EQ(a.order(), b.order());
  EXPECT_NE(a.order(), c.order());
  const std::vector<int64_t> epoch0 = a.order();
  a.NextEpoch(true);
  b.NextEpoch(true);
  EXPECT_EQ(Sorted(a.order()), Iota(100));
  EXPECT_NE(a.order(), epoch0);     // a new order each epoch ...
  EXPECT_EQ(a.order(), b.order());  // ... the same for the same seed
}

TEST(EpochPlan, RejectsBadArguments) {
  EXPECT_THROW(EpochPlan(0, 4, LastBatch::kPad, false, 0), Error);
  EXPECT_THROW(EpochPlan(10, 0, LastBatch::kPad, false, 0), Error);
  EXPECT_THROW(EpochPlan(10, 4, static_cast<LastBatch>(7), false, 0), Error);
  // Batch arrays are allocated up front: an absurd batch size names the limit instead.
  for (const int64_t absurd : {kMaxBatchSize + 1, int64_t{1} << 40, INT64_MAX}) {
    try {
      EpochPlan(10, absurd, LastBatch::kPad, false, 0);
      ADD_FAILURE() << "batch_size " << absurd << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("above the limit of 16777216"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(EpochPlan(10, kMaxBatchSize, LastBatch::kPad, false, 0).num_batches(), 1);
}

}  // namespace
}  // namespace io
}  // namespace mx
