#include "io/ndarray_iter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "array_test_util.h"
#include "base/error.h"
#include "storage/storage.h"

namespace mx {
namespace io {
namespace {

struct Batch {
  std::vector<float> data, label;
  int64_t pad;
  bool operator==(const Batch& o) const {
    return data == o.data && label == o.label && pad == o.pad;
  }
  bool operator!=(const Batch& o) const { return !(*this == o); }
};

using test::Read;

// Every batch of `epochs` epochs (Reset between them).
std::vector<Batch> Collect(DataIter* it, int epochs) {
  std::vector<Batch> out;
  for (int e = 0; e < epochs; ++e, it->Reset()) {
    while (it->Next()) {
      out.push_back(Batch{Read(it->data()),
                          it->has_label() ? Read(it->label()) : std::vector<float>(), it->pad()});
    }
  }
  return out;
}

// Samples of shape (2, 3): sample s holds 100 s + k; its label is s.
constexpr int64_t kSamples = 10;
std::vector<float> SampleData() {
  std::vector<float> v;
  for (int64_t s = 0; s < kSamples; ++s) {
    for (int k = 0; k < 6; ++k) v.push_back(static_cast<float>(100 * s + k));
  }
  return v;
}
std::vector<float> SampleLabels() {
  std::vector<float> v;
  for (int64_t s = 0; s < kSamples; ++s) v.push_back(static_cast<float>(s));
  return v;
}

std::unique_ptr<DataIter> MakeIter(int64_t batch, LastBatch last, bool shuffle, bool prefetch,
                                   uint64_t seed = 5) {
  BatchIterParams p;
  p.batch_size = batch;
  p.last_batch = last;
  p.shuffle = shuffle;
  p.seed = seed;
  p.prefetch = prefetch;
  const std::vector<float> d = SampleData(), l = SampleLabels();
  return CreateNDArrayIter(d.data(), Shape{kSamples, 2, 3}, l.data(), Shape{kSamples}, p);
}

// The sample ids in a batch, checking that each row holds the sample its label names.
std::vector<int64_t> SampleIds(const Batch& b) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < b.label.size(); ++i) {
    const auto s = static_cast<int64_t>(b.label[i]);
    for (int k = 0; k < 6; ++k) EXPECT_EQ(b.data[i * 6 + k], 100 * s + k) << "row " << i;
    ids.push_back(s);
  }
  return ids;
}

TEST(NDArrayIter, ShapesAndPadOverTwoEpochs) {
  auto it = MakeIter(4, LastBatch::kPad, false, true);
  EXPECT_EQ(it->provide_data(), (Shape{4, 2, 3}));
  EXPECT_EQ(it->provide_label(), (Shape{4}));
  const std::vector<Batch> batches = Collect(it.get(), 2);
  ASSERT_EQ(batches.size(), 6u);
  for (int e = 0; e < 2; ++e) {
    EXPECT_EQ(SampleIds(batches[e * 3 + 0]), (std::vector<int64_t>{0, 1, 2, 3}));
    EXPECT_EQ(SampleIds(batches[e * 3 + 2]), (std::vector<int64_t>{8, 9, 0, 1}));
    EXPECT_EQ(batches[e * 3 + 1].pad, 0);
    EXPECT_EQ(batches[e * 3 + 2].pad, 2);
  }
}

TEST(NDArrayIter, DiscardAndRollOverOverTwoEpochs) {
  auto discard = MakeIter(4, LastBatch::kDiscard, false, true);
  const std::vector<Batch> d = Collect(discard.get(), 2);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(SampleIds(d[3]), (std::vector<int64_t>{4, 5, 6, 7}));

  auto roll = MakeIter(4, LastBatch::kRollOver, false, true);
  const std::vector<Batch> r = Collect(roll.get(), 2);
  ASSERT_EQ(r.size(), 5u);  // 2 batches, then 8, 9 + 10 samples = 3 batches
  EXPECT_EQ(SampleIds(r[2]), (std::vector<int64_t>{8, 9, 0, 1}));
  EXPECT_EQ(SampleIds(r[4]), (std::vector<int64_t>{6, 7, 8, 9}));
  for (const Batch& b : r) EXPECT_EQ(b.pad, 0);
}

TEST(NDArrayIter, ShuffleIsDeterministicAndCoversEverySample) {
  auto a = MakeIter(5, LastBatch::kPad, true, true, 11);
  auto b = MakeIter(5, LastBatch::kPad, true, true, 11);
  auto c = MakeIter(5, LastBatch::kPad, true, true, 12);
  const std::vector<Batch> ba = Collect(a.get(), 2), bb = Collect(b.get(), 2);
  EXPECT_EQ(ba, bb);
  EXPECT_NE(ba, Collect(c.get(), 2));
  for (int e = 0; e < 2; ++e) {
    std::multiset<int64_t> seen;
    for (int i = 0; i < 2; ++i) {
      for (int64_t s : SampleIds(ba[e * 2 + i])) seen.insert(s);
    }
    EXPECT_EQ(seen, (std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "epoch " << e;
  }
  EXPECT_NE(ba[0], ba[2]);  // reshuffled between epochs
}

// Prefetching must not change a single value: compare with batches prepared synchronously, over
// three epochs and every last-batch mode, shuffled.
TEST(NDArrayIter, PrefetchedBatchesEqualSynchronousOnes) {
  for (LastBatch last : {LastBatch::kPad, LastBatch::kDiscard, LastBatch::kRollOver}) {
    auto threaded = MakeIter(3, last, true, true, 9);
    auto reference = MakeIter(3, last, true, false, 9);
    EXPECT_EQ(Collect(threaded.get(), 3), Collect(reference.get(), 3)) << LastBatchName(last);
  }
}

TEST(NDArrayIter, ResetMidEpochStartsAFullEpoch) {
  auto it = MakeIter(4, LastBatch::kRollOver, false, true);
  ASSERT_TRUE(it->Next());
  it->Reset();  // an epoch cut short carries nothing over
  EXPECT_THROW(it->data(), Error);
  int n = 0;
  while (it->Next()) ++n;
  EXPECT_EQ(n, 2);
  EXPECT_FALSE(it->Next());  // stays at the end until Reset
  EXPECT_THROW(it->data(), Error);
}

// Note [fresh batches]: batches kept past Next and Reset (as list(it) keeps them) hold their own
// values, in every last-batch mode, shuffled or not, prefetched or not.
TEST(NDArrayIter, KeptBatchesKeepTheirValues) {
  for (LastBatch last : {LastBatch::kPad, LastBatch::kDiscard, LastBatch::kRollOver}) {
    for (bool shuffle : {false, true}) {
      for (bool prefetch : {false, true}) {
        SCOPED_TRACE(std::string(LastBatchName(last)) + (shuffle ? " shuffled" : "") +
                     (prefetch ? " prefetched" : ""));
        auto it = MakeIter(3, last, shuffle, prefetch, 4);
        std::vector<NDArray> data, label;
        std::vector<int64_t> pad;
        for (int e = 0; e < 3; ++e, it->Reset()) {
          while (it->Next()) {
            data.push_back(it->data());
            label.push_back(it->label());
            pad.push_back(it->pad());
          }
        }
        it.reset();  // the batches outlive their iterator too
        auto reference = MakeIter(3, last, shuffle, false, 4);
        const std::vector<Batch> expected = Collect(reference.get(), 3);
        ASSERT_EQ(data.size(), expected.size());
        for (size_t b = 0; b < data.size(); ++b) {
          const Batch kept{Read(data[b]), Read(label[b]), pad[b]};
          SampleIds(kept);  // each row holds the sample its label names
          EXPECT_EQ(kept, expected[b]) << "batch " << b;
        }
      }
    }
  }
}

// Fresh arrays per batch, yet a loop that lets each batch go reuses their memory: the storage
// pool, not the system, serves the batches after the first few (however far the engine lags in
// freeing them: the prefetch thread runs at most a few batches ahead).
TEST(NDArrayIter, ReusesTheMemoryOfBatchesLetGo) {
  Storage* storage = Storage::Get();
  const uint64_t system_allocs = storage->Stats(Context::CPU()).num_system_allocs;
  auto it = MakeIter(2, LastBatch::kPad, true, true);
  int batches = 0;
  for (int e = 0; e < 40; ++e, it->Reset()) {
    while (it->Next()) {
      Read(it->data());
      ++batches;
      engine::Engine::Get()->WaitForAll();  // the frees of batches let go have run
    }
  }
  EXPECT_EQ(batches, 200);
  // 400 arrays; the system served only those alive at one time: data and label of the three
  // slots, and of the few batches filled since the consumer's last WaitForAll (12 when measured).
  EXPECT_LE(storage->Stats(Context::CPU()).num_system_allocs - system_allocs, 32u);
}

// Work pushed on a batch before moving on still sees that batch: the iterator waits for it
// before refilling the buffer.
TEST(NDArrayIter, PendingReadsOfABatchSeeItsValues) {
  auto it = MakeIter(3, LastBatch::kPad, true, true, 2);
  auto reference = MakeIter(3, LastBatch::kPad, true, false, 2);
  std::vector<NDArray> copies;
  while (it->Next()) copies.push_back(it->data().CopyTo(Context::CPU()));
  std::vector<Batch> expected = Collect(reference.get(), 1);
  ASSERT_EQ(copies.size(), expected.size());
  for (size_t i = 0; i < copies.size(); ++i) EXPECT_EQ(Read(copies[i]), expected[i].data) << i;
}

TEST(NDArrayIter, FromNDArraysWithoutLabels) {
  const std::vector<float> d = SampleData();
  NDArray data(Shape{kSamples, 6}, Context::CPU());
  data.SyncCopyFromCPU(d.data(), d.size());
  BatchIterParams p;
  p.batch_size = 4;
  auto it = CreateNDArrayIter(data, NDArray(), p);
  EXPECT_FALSE(it->has_label());
  ASSERT_TRUE(it->Next());
  EXPECT_TRUE(it->label().is_none());
  EXPECT_EQ(Read(it->data()), std::vector<float>(d.begin(), d.begin() + 24));
}

TEST(NDArrayIter, RejectsMismatchedShapes) {
  const std::vector<float> d = SampleData(), l = SampleLabels();
  BatchIterParams p;
  p.batch_size = 4;
  try {
    CreateNDArrayIter(d.data(), Shape{kSamples, 6}, l.data(), Shape{kSamples - 1}, p);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("label holds 9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(CreateNDArrayIter(d.data(), Shape(), nullptr, Shape(), p), Error);
  p.batch_size = 0;
  EXPECT_THROW(CreateNDArrayIter(d.data(), Shape{kSamples, 6}, nullptr, Shape(), p), Error);
}

// A source that fails on one sample, as a corrupt record would.
class FailingSource final : public SampleSource {
 public:
  explicit FailingSource(std::atomic<int>* copies) : copies_(copies) {}
  int64_t num_samples() const override { return 8; }
  Shape data_shape() const override { return Shape{1}; }
  Shape label_shape() const override { return Shape::Unknown(); }
  void CopyData(int64_t i, float* dst) const override {
    ++*copies_;
    MX_CHECK(i != 5, kIO) << "sample 5 is corrupt";
    *dst = static_cast<float>(i);
  }
  void CopyLabel(int64_t, float*) const override {}

 private:
  std::atomic<int>* copies_;
};

TEST(BatchIter, AnErrorOnThePrefetchThreadSurfacesOnNext) {
  std::atomic<int> copies{0};
  BatchIterParams p;
  p.batch_size = 2;
  BatchIter it(std::make_unique<FailingSource>(&copies), p);
  ASSERT_TRUE(it.Next());
  ASSERT_TRUE(it.Next());
  try {
    it.Next();  // samples 4, 5
    FAIL() << "expected the batch's error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO);
    EXPECT_NE(std::string(e.what()).find("sample 5 is corrupt"), std::string::npos);
  }
  EXPECT_THROW(it.data(), Error);
  ASSERT_TRUE(it.Next());  // the iterator goes on with the next batch
  EXPECT_EQ(Read(it.data()), (std::vector<float>{6, 7}));
  EXPECT_FALSE(it.Next());
  it.Reset();
  EXPECT_TRUE(it.Next());
}

TEST(BatchIter, DestroyingMidEpochJoinsTheThread) {
  std::atomic<int> copies{0};
  BatchIterParams p;
  p.batch_size = 1;
  for (int round = 0; round < 20; ++round) {
    BatchIter it(std::make_unique<FailingSource>(&copies), p);
    if (round % 2 == 1) it.Next();
  }
  {
    BatchIter it(std::make_unique<FailingSource>(&copies), p);
    it.Next();
    it.Reset();
  }
  EXPECT_GT(copies.load(), 0);
}

}  // namespace
}  // namespace io
}  // namespace mx
