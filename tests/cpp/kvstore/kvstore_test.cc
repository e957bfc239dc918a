// The key-value store against values computed here: sums of pushes from several devices,
// optimizer steps on the sum (with MXNet's no-decay rule for named biases and integer keys as
// optimizer indices), repeated pushes reusing staging buffers, and every error leaving the
// store usable.
#include "kvstore/kvstore.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "array_test_util.h"
#include "base/context.h"
#include "base/error.h"

namespace mx {
namespace kvstore {
namespace {

NDArray Array(const std::vector<float>& v, Context ctx = Context::CPU()) {
  NDArray a(Shape{static_cast<int64_t>(v.size())}, ctx);
  a.SyncCopyFromCPU(v.data(), v.size());
  return a;
}

using test::Read;

void ExpectCode(ErrorCode code, const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << part << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(KVStore, InitThenPullCopiesIntoEveryOutput) {
  auto kv = KVStore::Create("local");
  EXPECT_EQ(kv->type(), "local");
  EXPECT_EQ(kv->rank(), 0);
  EXPECT_EQ(kv->num_workers(), 1);
  NDArray w = Array({1, 2, 3});
  kv->Init({"w"}, {w});
  w.SyncCopyFromCPU(std::vector<float>{9, 9, 9}.data(), 3);  // the store kept its own copy
  NDArray a = Array({0, 0, 0}), b = Array({0, 0, 0}, Context::CPU(1));
  kv->Pull({"w", "w"}, {a, b}, 0);
  EXPECT_EQ(Read(a), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(Read(b), (std::vector<float>{1, 2, 3}));
}

TEST(KVStore, PushWithoutOptimizerStoresTheSumOfAllDevices) {
  for (const char* type : {"local", "device"}) {
    auto kv = KVStore::Create(type);
    kv->Init({"g"}, {Array({0, 0}, Context::CPU(1))});
    // Repeated pushes reuse the staging buffers; each result must be that push's sum only.
    for (int step = 1; step <= 4; ++step) {
      const float s = static_cast<float>(step);
      kv->Push({"g", "g", "g"},
               {Array({s, 1}), Array({10 * s, 2}, Context::CPU(1)),
                Array({100 * s, 3}, Context::CPU(2))},
               0);
      NDArray out = Array({0, 0});
      kv->Pull({"g"}, {out}, 0);
      EXPECT_EQ(Read(out), (std::vector<float>{111 * s, 6})) << type << " step " << step;
    }
  }
}

TEST(KVStore, OptimizerStepsOnTheSummedGradient) {
  auto kv = KVStore::Create("local");
  std::shared_ptr<train::Optimizer> sgd =
      train::Optimizer::Create("sgd", {{"learning_rate", "0.1"}, {"wd", "0.5"}, {"momentum", "0"}});
  kv->Init({"fc_weight", "fc_bias"}, {Array({1, 2}), Array({1, 2})});
  kv->SetOptimizer(sgd);
  kv->Push({"fc_weight", "fc_bias", "fc_weight", "fc_bias"},
           {Array({1, 1}), Array({1, 1}), Array({3, 5}), Array({3, 5})}, 0);
  NDArray w = Array({0, 0}), b = Array({0, 0});
  kv->Pull({"fc_weight", "fc_bias"}, {w, b}, 0);
  // weight: w - lr * (g + wd * w); bias (named by its key): no weight decay, as in MXNet.
  const std::vector<float> gw = Read(w), gb = Read(b);
  EXPECT_NEAR(gw[0], 1 - 0.1 * (4 + 0.5 * 1), 1e-6);
  EXPECT_NEAR(gw[1], 2 - 0.1 * (6 + 0.5 * 2), 1e-6);
  EXPECT_NEAR(gb[0], 1 - 0.1 * 4, 1e-6);
  EXPECT_NEAR(gb[1], 2 - 0.1 * 6, 1e-6);
}

TEST(KVStore, IntegerKeysAreTheOptimizersIndices) {
  auto kv = KVStore::Create("local");
  std::shared_ptr<train::Optimizer> sgd =
      train::Optimizer::Create("sgd", {{"learning_rate", "1"}, {"wd", "1"}});
  sgd->SetArgNames({{3, "fc_bias"}, {4, "fc_weight"}});
  kv->SetOptimizer(sgd);
  kv->Init({"3", "4"}, {Array({2}), Array({2})});  // initialised after the optimizer is set
  kv->Push({"3", "4"}, {Array({1}), Array({1})}, 0);
  NDArray b = Array({0}), w = Array({0});
  kv->Pull({"3", "4"}, {b, w}, 0);
  EXPECT_NEAR(Read(b)[0], 2 - 1, 1e-6);            // index 3 is a bias: no decay
  EXPECT_NEAR(Read(w)[0], 2 - (1 + 1 * 2), 1e-6);  // index 4 is a weight: decayed
}

// dist_sync without mpirun is a group of one, and a store like "local"; a libmx built without
// MPI (the CUDA gate's build) refuses it, naming MPI (tests/mpi runs it with several workers).
TEST(KVStore, DistSyncIsOneWorkerAloneOrNamesMissingMpi) {
  if (!WorkerGroup::Available()) {
    ExpectCode(
        ErrorCode::kUnsupported, [] { KVStore::Create("dist_sync"); }, "without MPI");
    ExpectCode(
        ErrorCode::kUnsupported, [] { KVStore::Create("dist_device_sync"); }, "MPI");
    return;
  }
  auto kv = KVStore::Create("dist_sync");
  EXPECT_EQ(kv->rank(), 0);
  EXPECT_EQ(kv->num_workers(), 1);
  kv->Init({"w"}, {Array({1, 2})});
  kv->Push({"w", "w"}, {Array({1, 1}), Array({2, 3}, Context::CPU(1))}, 0);
  NDArray out = Array({0, 0});
  kv->Pull({"w"}, {out}, 0);
  EXPECT_EQ(Read(out), (std::vector<float>{3, 4}));
}

TEST(KVStore, ErrorsNameTheProblemAndLeaveTheStoreUsable) {
  ExpectCode(
      ErrorCode::kUnsupported, [] { KVStore::Create("dist_async"); }, "use 'dist_sync'");
  ExpectCode(
      ErrorCode::kInvalidArgument, [] { KVStore::Create("nccl"); }, "'nccl'");
  auto kv = KVStore::Create("local");
  kv->Init({"a"}, {Array({1, 2})});
  ExpectCode(
      ErrorCode::kInvalidArgument,
      [&] {
        kv->Init({"b", "a"}, {Array({1}), Array({1})});
      },
      "'a' is already initialised");
  ExpectCode(
      ErrorCode::kInvalidArgument,
      [&] {
        kv->Init({"c", "c"}, {Array({1}), Array({1})});
      },
      "'c' is already initialised");
  ExpectCode(
      ErrorCode::kNotFound, [&] { kv->Push({"b"}, {Array({1})}, 0); },
      "'b' has not been initialised");
  ExpectCode(
      ErrorCode::kInvalidArgument,
      [&] {
        kv->Push({"a"}, {Array({1, 2, 3})}, 0);
      },
      "shape");
  ExpectCode(
      ErrorCode::kInvalidArgument, [&] { kv->Pull({"a"}, {Array({0})}, 0); }, "shape");
  ExpectCode(
      ErrorCode::kInvalidArgument,
      [&] {
        kv->Push({"a", "a"}, {Array({1, 2})}, 0);
      },
      "2 keys but 1 arrays");
  // A failed init added nothing ("b" is still free) and "a" still works.
  kv->Init({"b"}, {Array({5})});
  kv->Push({"a"}, {Array({7, 8})}, 0);
  NDArray a = Array({0, 0}), b = Array({0});
  kv->Pull({"a", "b"}, {a, b}, 0);
  EXPECT_EQ(Read(a), (std::vector<float>{7, 8}));
  EXPECT_EQ(Read(b), (std::vector<float>{5}));
}

// GPU values (needs a device; ctest's kvstore_gpu_test reports "skipped" without one): the
// "local" store keeps its values on the host, "device" on the values' GPU; both sum pushes from
// the GPU and the host, step an optimizer and pull into arrays on either device.
TEST(GpuKVStore, StoresSumAndUpdateGpuValues) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  const Context gpu = Context::GPU(0);
  for (const char* type : {"local", "device"}) {
    auto kv = KVStore::Create(type);
    kv->Init({"g", "fc_bias"}, {Array({0, 0}, gpu), Array({1, 2}, gpu)});
    kv->SetOptimizer(
        train::Optimizer::Create("sgd", {{"learning_rate", "0.1"}, {"momentum", "0"}}));
    for (int step = 1; step <= 3; ++step) {
      const float s = static_cast<float>(step);
      kv->Push({"g", "g"}, {Array({s, 1}, gpu), Array({10 * s, 2})}, 0);
      NDArray on_gpu = Array({0, 0}, gpu), on_host = Array({0, 0});
      kv->Pull({"g", "g"}, {on_gpu, on_host}, 0);
      EXPECT_EQ(Read(on_gpu), Read(on_host)) << type << " step " << step;
    }
    // Without an optimizer step on "g" the sums would be stored; with sgd each step subtracts
    // 0.1 times the sum: -0.1 * (11 + 22 + 33), -0.1 * 3 * 3.
    NDArray g = Array({0, 0}, gpu);
    kv->Pull({"g"}, {g}, 0);
    const std::vector<float> got = Read(g);
    EXPECT_NEAR(got[0], -6.6f, 1e-5) << type;
    EXPECT_NEAR(got[1], -0.9f, 1e-5) << type;
    kv->Push({"fc_bias"}, {Array({1, 1}, gpu)}, 0);
    NDArray b = Array({0, 0}, gpu);
    kv->Pull({"fc_bias"}, {b}, 0);
    const std::vector<float> bias = Read(b);
    EXPECT_NEAR(bias[0], 0.9f, 1e-6) << type;
    EXPECT_NEAR(bias[1], 1.9f, 1e-6) << type;
  }
}

}  // namespace
}  // namespace kvstore
}  // namespace mx
