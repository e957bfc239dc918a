// The dist_sync key-value store across the processes of an MPI job. ctest runs this binary under
// `mpirun -np 2` and `-np 3` (tests/CMakeLists.txt); every rank runs every test, and each check
// is computed here from the ranks' known inputs. Alone (no mpirun) it is a group of one.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/engine.h"
#include "kvstore/collective_op.h"
#include "kvstore/kvstore.h"
#include "train/optimizer.h"

namespace mx {
namespace kvstore {
namespace {

int Rank() {
  const char* r = std::getenv("OMPI_COMM_WORLD_RANK");
  return r != nullptr ? std::atoi(r) : 0;
}
int Size() {
  const char* s = std::getenv("OMPI_COMM_WORLD_SIZE");
  return s != nullptr ? std::atoi(s) : 1;
}

// IEEE half of a small non-negative integer (exact up to 2048).
uint16_t Half(int k) {
  if (k == 0) return 0;
  int e = 0;
  while ((2 << e) <= k) ++e;
  return static_cast<uint16_t>(((e + 15) << 10) | ((k - (1 << e)) << (10 - e)));
}

// Element i of worker r's value: a small integer, so every dtype sums it exactly.
int ValueOf(int r, size_t i) { return static_cast<int>((i * 7 + static_cast<size_t>(r) * 3) % 5); }

template <typename T>
NDArray Filled(DType dtype, size_t n, int r) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, uint16_t>) {
      v[i] = Half(ValueOf(r, i));
    } else {
      v[i] = static_cast<T>(ValueOf(r, i));
    }
  }
  NDArray a(Shape{static_cast<int64_t>(n)}, Context::CPU(), dtype);
  a.SyncCopyFromCPU(v.data(), n);
  return a;
}

template <typename T>
void ExpectSumOverWorkers(const NDArray& a, DType dtype, int copies_per_worker) {
  std::vector<T> got(static_cast<size_t>(a.Size()));
  a.SyncCopyToCPU(got.data(), got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    int want = 0;
    for (int r = 0; r < Size(); ++r) want += copies_per_worker * ValueOf(r, i);
    T w;
    if constexpr (std::is_same_v<T, uint16_t>) {
      w = Half(want);
    } else {
      w = static_cast<T>(want);
    }
    ASSERT_EQ(got[i], w) << DTypeName(dtype) << " element " << i << " of " << got.size();
  }
}

template <typename T>
void CheckAllreduce(DType dtype) {
  // Odd sizes; the first ones are fused into one message, the last is larger than a message.
  const std::vector<size_t> sizes = {1, 3, 1001, 65537, (kFusionBytes / sizeof(T)) + 3};
  auto kv = KVStore::Create("dist_sync");
  std::vector<std::string> keys;
  std::vector<NDArray> grads, outs;
  for (size_t s : sizes) {
    keys.push_back(std::string(DTypeName(dtype)) + "_" + std::to_string(s));
    grads.push_back(Filled<T>(dtype, s, Rank()));
    outs.push_back(NDArray(Shape{static_cast<int64_t>(s)}, Context::CPU(), dtype));
  }
  kv->Init(keys, grads);
  kv->Push(keys, grads, 0);
  kv->Pull(keys, outs, 0);
  for (size_t k = 0; k < sizes.size(); ++k) ExpectSumOverWorkers<T>(outs[k], dtype, 1);
  // The pushed arrays are the caller's: the sum went elsewhere.
  std::vector<T> mine(sizes[2]);
  grads[2].SyncCopyToCPU(mine.data(), mine.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    const T want = std::is_same_v<T, uint16_t> ? static_cast<T>(Half(ValueOf(Rank(), i)))
                                               : static_cast<T>(ValueOf(Rank(), i));
    ASSERT_EQ(mine[i], want);
  }
}

TEST(DistKVStore, RankAndWorkersComeFromMpi) {
  auto kv = KVStore::Create("dist_sync");
  EXPECT_EQ(kv->type(), "dist_sync");
  EXPECT_EQ(kv->rank(), Rank());
  EXPECT_EQ(kv->num_workers(), Size());
}

TEST(DistKVStore, InitTakesRankZerosValue) {
  auto kv = KVStore::Create("dist_sync");
  NDArray w(Shape{4}, Context::CPU());
  w.Fill(Rank() + 1.0);
  kv->Init({"w"}, {w});
  NDArray out(Shape{4}, Context::CPU());
  kv->Pull({"w"}, {out}, 0);
  std::vector<float> v(4);
  out.SyncCopyToCPU(v.data(), 4);
  for (float x : v) EXPECT_EQ(x, 1.0f);
}

TEST(DistKVStore, PushSumsEveryDTypeAcrossWorkers) {
  CheckAllreduce<float>(DType::kFloat32);
  CheckAllreduce<double>(DType::kFloat64);
  CheckAllreduce<uint16_t>(DType::kFloat16);
  CheckAllreduce<uint8_t>(DType::kUint8);
  CheckAllreduce<int32_t>(DType::kInt32);
  CheckAllreduce<int8_t>(DType::kInt8);
  CheckAllreduce<int64_t>(DType::kInt64);
}

TEST(DistKVStore, SeveralDevicesPerWorkerAndRepeatedPushes) {
  auto kv = KVStore::Create("dist_sync");
  const std::vector<std::string> keys = {"a", "b", "a", "b"};
  NDArray a0 = Filled<float>(DType::kFloat32, 9, Rank());
  NDArray b0 = Filled<float>(DType::kFloat32, 5, Rank());
  kv->Init({"a", "b"}, {a0, b0});
  NDArray a1(Shape{9}, Context::CPU(1)), b1(Shape{5}, Context::CPU(1));
  NDArray::CopyFromTo(a0, a1);
  NDArray::CopyFromTo(b0, b1);
  std::vector<NDArray> outs = {NDArray(Shape{9}, Context::CPU()), NDArray(Shape{5}, Context::CPU()),
                               NDArray(Shape{9}, Context::CPU(1)),
                               NDArray(Shape{5}, Context::CPU(1))};
  for (int step = 0; step < 3; ++step) {  // buffers are reused from the second push on
    kv->Push(keys, {a0, b0, a1, b1}, 0);
    kv->Pull(keys, outs, 0);
    for (const NDArray& o : outs) ExpectSumOverWorkers<float>(o, DType::kFloat32, 2);
  }
}

TEST(DistKVStore, OptimizerStepIsTheSameOnEveryWorker) {
  auto kv = KVStore::Create("dist_sync");
  std::shared_ptr<train::Optimizer> sgd = train::Optimizer::Create(
      "sgd", {{"learning_rate", "0.25"}, {"momentum", "0.5"}, {"rescale_grad", "0.5"}});
  NDArray w(Shape{6}, Context::CPU());
  w.Fill(Rank() == 0 ? 1.0 : 100.0);  // rank 0's wins
  kv->Init({"fc_weight"}, {w});
  kv->SetOptimizer(sgd);
  NDArray g = Filled<float>(DType::kFloat32, 6, Rank());
  NDArray out(Shape{6}, Context::CPU());
  std::vector<float> mom(6, 0.0f), want(6, 1.0f);
  for (int step = 0; step < 2; ++step) {
    kv->Push({"fc_weight"}, {g}, 0);
    for (size_t i = 0; i < 6; ++i) {
      float sum = 0;
      for (int r = 0; r < Size(); ++r) sum += static_cast<float>(ValueOf(r, i));
      mom[i] = 0.5f * mom[i] - 0.25f * (0.5f * sum);
      want[i] += mom[i];
    }
  }
  kv->Pull({"fc_weight"}, {out}, 0);
  std::vector<float> got(6);
  out.SyncCopyToCPU(got.data(), 6);
  for (size_t i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << i;
  // Bit-identical on every worker: the sum of everyone's result is Size() times ours.
  auto check = KVStore::Create("dist_sync");
  check->Init({"same"}, {out});
  check->Push({"same"}, {out}, 0);
  NDArray total(Shape{6}, Context::CPU());
  check->Pull({"same"}, {total}, 0);
  std::vector<float> t(6);
  total.SyncCopyToCPU(t.data(), 6);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(t[i], got[i] * static_cast<float>(Size())) << i;
}

TEST(DistKVStore, InitThatDiffersBetweenWorkersFailsOnEveryWorker) {
  auto kv = KVStore::Create("dist_sync");
  NDArray w(Shape{Size() == 1 ? 3 : 3 + Rank()}, Context::CPU());
  w.Fill(1);
  try {
    kv->Init({"w"}, {w});
    EXPECT_EQ(Size(), 1) << "no error with differing shapes";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("disagree"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'w' (" + std::to_string(3 + Rank()) + ")"),
              std::string::npos)
        << e.what();
  }
  // Nothing was stored, and the store still works (a group of one stored 'w').
  const std::string key = Size() == 1 ? "w2" : "w";
  NDArray v(Shape{2}, Context::CPU());
  v.Fill(2);
  kv->Init({key}, {v});
  kv->Push({key}, {v}, 0);
  NDArray out(Shape{2}, Context::CPU());
  kv->Pull({key}, {out}, 0);
  std::vector<float> got(2);
  out.SyncCopyToCPU(got.data(), 2);
  EXPECT_EQ(got[0], 2.0f * static_cast<float>(Size()));
}

TEST(DistKVStore, AFailedGradientOnOneWorkerFailsThePushEverywhere) {
  auto kv = KVStore::Create("dist_sync");
  NDArray g(Shape{5}, Context::CPU()), ok(Shape{3}, Context::CPU());
  g.Fill(1);
  ok.Fill(1);
  kv->Init({"g", "ok"}, {g, ok});
  if (Rank() == Size() - 1) {
    // The op computing this worker's gradient fails.
    engine::VarHandle v = g.var();
    engine::Engine::Get()->PushSync(
        [](engine::RunContext) { MX_THROW(kFailed) << "backward of node fc1 failed"; },
        Context::CPU(), nullptr, 0, &v, 1, engine::FnProperty::kNormal, 0, "failing_backward");
  }
  kv->Push({"g"}, {g}, 0);
  NDArray out(Shape{5}, Context::CPU());
  kv->Pull({"g"}, {out}, 0);
  try {
    out.WaitToRead();
    EXPECT_EQ(Size(), 1) << "no error";
  } catch (const Error& e) {
    const std::string want = Rank() == Size() - 1 ? "backward of node fc1 failed"
                                                  : "another worker's values for key 'g'";
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
  }
  if (Rank() == Size() - 1) {
    try {  // the error stays on g until it is reported; drop it here
      g.WaitToRead();
    } catch (const Error&) {
    }
  }
  // Other keys, and the group, keep working.
  kv->Push({"ok"}, {ok}, 0);
  NDArray o(Shape{3}, Context::CPU());
  kv->Pull({"ok"}, {o}, 0);
  std::vector<float> got(3);
  o.SyncCopyToCPU(got.data(), 3);
  EXPECT_EQ(got[0], static_cast<float>(Size()));
}

TEST(DistKVStore, AsyncIsRejected) {
  try {
    KVStore::Create("dist_async");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("dist_sync"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kvstore
}  // namespace mx
