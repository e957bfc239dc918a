// Training on the GPU against the CPU, the device memory pool and copies. Needs a GPU: every test
// here skips itself without one (ctest's executor_gpu_test then reports "skipped").
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "array_test_util.h"
#include "base/context.h"
#include "base/error.h"
#include "engine/engine.h"
#include "executor/executor.h"
#include "op/invoke.h"
#include "op/op_util.h"
#include "resource/resource.h"
#include "storage/storage.h"

namespace mx {
namespace {

Symbol OpNode(const std::string& op, std::vector<Symbol> args,
              std::map<std::string, std::string> params = {}, const std::string& name = "") {
  Symbol s = Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

using test::Read;

Symbol Mlp() {
  Symbol x = Symbol::Variable("data");
  Symbol h = OpNode("FullyConnected", {x}, {{"num_hidden", "32"}}, "fc1");
  h = OpNode("Activation", {h}, {{"act_type", "relu"}}, "relu1");
  h = OpNode("FullyConnected", {h}, {{"num_hidden", "10"}}, "fc2");
  return OpNode("SoftmaxOutput", {h, Symbol::Variable("softmax_label")}, {}, "softmax");
}

Symbol LeNet() {
  Symbol x = Symbol::Variable("data");
  Symbol h = OpNode("Convolution", {x}, {{"kernel", "(5,5)"}, {"num_filter", "8"}}, "conv1");
  h = OpNode("Activation", {h}, {{"act_type", "tanh"}}, "tanh1");
  h = OpNode("Pooling", {h}, {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"pool_type", "max"}},
             "pool1");
  h = OpNode("Flatten", {h}, {}, "flat");
  h = OpNode("FullyConnected", {h}, {{"num_hidden", "10"}}, "fc");
  return OpNode("SoftmaxOutput", {h, Symbol::Variable("softmax_label")}, {}, "softmax");
}

// Trains `net` for a few SGD steps on `ctx` from fixed weights and data; returns the last
// forward's outputs and the trained weights, read back to the host.
std::vector<std::vector<float>> Train(const Symbol& net, const Shape& data_shape, Context ctx) {
  const int64_t batch = data_shape[0];
  auto exec = Executor::SimpleBind(net, ctx, {{"data", data_shape}, {"softmax_label", {batch}}}, {},
                                   GradReq::kWrite, {});
  const std::vector<std::string> names = net.ListArguments();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uni(-0.3f, 0.3f);
  for (size_t i = 0; i < names.size(); ++i) {
    const NDArray& a = exec->arg_arrays()[i];
    std::vector<float> v(a.Size());
    for (float& x : v) x = names[i] == "softmax_label" ? float(rng() % 10) : uni(rng);
    a.SyncCopyFromCPU(v.data(), v.size());
  }
  const mx::Op* sgd = OpRegistry::Get()->Get("sgd_update");
  NodeAttrs attrs = MakeAttrs(sgd, {{"lr", "0.1"}, {"rescale_grad", "0.125"}});
  for (int step = 0; step < 5; ++step) {
    exec->Forward(true);
    exec->Backward({});
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "data" || names[i] == "softmax_label") continue;
      std::vector<NDArray> out{exec->arg_arrays()[i]};
      Invoke(attrs, {exec->arg_arrays()[i], exec->grad_arrays()[i]}, &out);
    }
  }
  exec->Forward(false);
  std::vector<std::vector<float>> result{Read(exec->outputs()[0])};
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "data" && names[i] != "softmax_label") {
      result.push_back(Read(exec->arg_arrays()[i]));
    }
  }
  return result;
}

void ExpectSameTraining(const Symbol& net, const Shape& data_shape) {
  const auto cpu = Train(net, data_shape, Context::CPU());
  const auto gpu = Train(net, data_shape, Context::GPU(0));
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t k = 0; k < cpu.size(); ++k) {
    ASSERT_EQ(cpu[k].size(), gpu[k].size());
    int reported = 0;
    for (size_t i = 0; i < cpu[k].size(); ++i) {
      if (std::fabs(cpu[k][i] - gpu[k][i]) > 1e-4f + 1e-3f * std::fabs(cpu[k][i]) &&
          reported++ < 5) {
        ADD_FAILURE() << (k == 0 ? "output" : "weight " + std::to_string(k)) << " element " << i
                      << ": gpu " << gpu[k][i] << ", cpu " << cpu[k][i];
      }
    }
  }
}

TEST(GpuTraining, MlpTrainsAsOnTheCpu) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  ExpectSameTraining(Mlp(), Shape{8, 20});
}

TEST(GpuTraining, LeNetTrainsAsOnTheCpu) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  ExpectSameTraining(LeNet(), Shape{8, 1, 12, 12});
}

// The executor's memory comes from the device pool, and training steps allocate nothing more.
TEST(GpuTraining, SteadyStateAllocatesNoDeviceMemory) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  auto exec = Executor::SimpleBind(Mlp(), Context::GPU(0),
                                   {{"data", Shape{16, 20}}, {"softmax_label", Shape{16}}}, {},
                                   GradReq::kWrite, {});
  exec->Forward(true);
  exec->Backward({});
  engine::Engine::Get()->WaitForAll();
  const StorageStats before = Storage::Get()->Stats(Context::GPU(0));
  EXPECT_GT(before.bytes_in_use, 0u);
  for (int i = 0; i < 10; ++i) {
    exec->Forward(true);
    exec->Backward({});
  }
  engine::Engine::Get()->WaitForAll();
  EXPECT_EQ(Storage::Get()->Stats(Context::GPU(0)).num_system_allocs, before.num_system_allocs);
}

TEST(GpuStorage, PooledBlocksAreReusedAndOutOfMemoryIsAnError) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  Storage* s = Storage::Get();
  const Context gpu = Context::GPU(0);
  Storage::Handle h = s->Alloc(1 << 20, gpu);
  ASSERT_NE(h.dptr, nullptr);
  s->Free(h);
  const uint64_t system = s->Stats(gpu).num_system_allocs;
  Storage::Handle again = s->Alloc(1 << 20, gpu);
  EXPECT_EQ(s->Stats(gpu).num_system_allocs, system) << "a freed block of the size is reused";
  s->Free(again);
  // Far beyond any device: an error with the size, and the device keeps working.
  try {
    s->Alloc(size_t(1) << 50, gpu);
    ADD_FAILURE() << "a petabyte was granted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory) << e.what();
  }
  NDArray a(Shape{4}, gpu);
  a.Fill(3.0);
  EXPECT_EQ(Read(a), (std::vector<float>{3, 3, 3, 3}));
}

// Copies in every direction and size class keep the data, with compute between them.
TEST(GpuStorage, CopiesRoundTrip) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  for (int64_t n : {1, 1000, 1 << 20}) {
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = float(i % 977) - 300.0f;
    NDArray host(Shape{n}, Context::CPU());
    host.SyncCopyFromCPU(v.data(), v.size());
    NDArray dev = host.CopyTo(Context::GPU(0));
    NDArray pinned = dev.CopyTo(Context::CPUPinned());
    std::vector<NDArray> doubled;
    Invoke(MakeAttrs(OpRegistry::Get()->Get("_mul_scalar"), {{"scalar", "2"}}), {dev}, &doubled);
    const std::vector<float> back = Read(pinned), twice = Read(doubled[0]);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(back[i], v[i]) << "n " << n << " element " << i;
      ASSERT_EQ(twice[i], 2 * v[i]) << "n " << n << " element " << i;
    }
  }
}

// Copies between the device and pageable host arrays go through pinned staging blocks, which the
// stream hands back to the pool once it is done with them: many copies in flight keep their
// values, nothing is left in use afterwards, and the blocks are reused (no new pinned memory in
// steady state). A destination released right after its copy was pushed is not reused early.
TEST(GpuStorage, PageableCopiesStageThroughPooledPinnedBlocks) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  Storage* s = Storage::Get();
  const Context pinned = Context::CPUPinned();
  constexpr int64_t kN = 1 << 18;
  constexpr int kCopies = 8;
  auto round = [&](float offset) {
    std::vector<NDArray> backs;
    for (int k = 0; k < kCopies; ++k) {
      std::vector<float> v(kN);
      for (int64_t i = 0; i < kN; ++i) v[i] = offset + float(k * 1000 + i % 997);
      NDArray host(Shape{kN}, Context::CPU());
      host.SyncCopyFromCPU(v.data(), v.size());
      NDArray dev = host.CopyTo(Context::GPU(0));    // pageable -> device
      backs.push_back(dev.CopyTo(Context::CPU()));   // device -> pageable
      NDArray dropped = dev.CopyTo(Context::CPU());  // released while its copy may be in flight
    }
    for (int k = 0; k < kCopies; ++k) {
      const std::vector<float> got = Read(backs[k]);
      for (int64_t i = 0; i < kN; i += 4099)
        ASSERT_EQ(got[i], offset + float(k * 1000 + i % 997)) << "copy " << k << " element " << i;
    }
  };
  round(0);  // warms the pinned pool
  engine::Engine::Get()->WaitForAll();
  const StorageStats warm = s->Stats(pinned);
  round(0.5f);
  engine::Engine::Get()->WaitForAll();
  const StorageStats after = s->Stats(pinned);
  // (Counts, not timings: how many blocks are in flight at once depends on the machine.)
  const uint64_t allocs = after.num_allocs - warm.num_allocs;
  const uint64_t fresh = after.num_system_allocs - warm.num_system_allocs;
  EXPECT_GE(allocs, uint64_t(3 * kCopies)) << "every pageable copy was staged";
  EXPECT_LT(fresh, allocs) << "staging blocks come back to the pool and are reused";
  EXPECT_EQ(after.bytes_in_use, warm.bytes_in_use) << "every staging block went back to the pool";
}

}  // namespace
}  // namespace mx
