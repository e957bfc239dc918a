// The dependency contract on both engines: reads overlap, writes are exclusive and ordered,
// duplicated variables do not deadlock, concurrent pushers are safe, deletion waits.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/error.h"
#include "engine/engine.h"
#include "engine_test_util.h"

namespace mx {
namespace engine {
namespace {

using testing::EngineConfig;
using testing::Restart;
using testing::SpinUntil;

class DependencyTest : public ::testing::TestWithParam<EngineConfig> {
 protected:
  void SetUp() override { engine_ = Restart(GetParam().type, GetParam().cpu_workers); }
  void TearDown() override { Engine::Shutdown(); }
  Engine* engine_ = nullptr;
};

TEST_P(DependencyTest, WritesAreExclusiveAndInPushOrder) {
  VarHandle v = engine_->NewVar();
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::vector<int> order;
  constexpr int kOps = 300;
  for (int i = 0; i < kOps; ++i) {
    engine_->PushSync(
        [&, i](RunContext) {
          if (inside.fetch_add(1) != 0) overlap = true;
          order.push_back(i);
          inside.fetch_sub(1);
        },
        Context::CPU(), nullptr, 0, &v, 1);
  }
  engine_->WaitForVar(v);
  EXPECT_FALSE(overlap.load());
  ASSERT_EQ(order.size(), static_cast<size_t>(kOps));
  for (int i = 0; i < kOps; ++i) ASSERT_EQ(order[i], i);
  engine_->DeleteVar(v);
}

TEST_P(DependencyTest, ReadsSeeTheWriteBeforeThemAndNotTheOneAfter) {
  VarHandle v = engine_->NewVar();
  VarHandle out = engine_->NewVar();
  int value = 0;
  std::vector<int> seen(100, -1);
  for (int i = 0; i < 100; ++i) {
    engine_->PushSync([&, i](RunContext) { value = i; }, Context::CPU(), nullptr, 0, &v, 1);
    VarHandle w = engine_->NewVar();
    engine_->PushSync([&, i](RunContext) { seen[i] = value; }, Context::CPU(), &v, 1, &w, 1);
    engine_->DeleteVar(w);
  }
  engine_->WaitForAll();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
  engine_->DeleteVar(v);
  engine_->DeleteVar(out);
}

TEST_P(DependencyTest, VarInBothListsIsAWriteAndDoesNotDeadlock) {
  VarHandle v = engine_->NewVar();
  int x = 1;
  VarHandle twice[] = {v, v};
  engine_->PushSync([&](RunContext) { x += 1; }, Context::CPU(), &v, 1, &v, 1);
  engine_->PushSync([&](RunContext) { x *= 3; }, Context::CPU(), twice, 2, twice, 2);
  engine_->PushSync([&](RunContext) { x -= 1; }, Context::CPU(), twice, 2, nullptr, 0);
  engine_->WaitForVar(v);
  engine_->WaitForAll();
  EXPECT_EQ(x, 5);  // (1 + 1) * 3 - 1, in push order
  engine_->DeleteVar(v);
}

TEST_P(DependencyTest, PushesFromEightThreads) {
  constexpr int kThreads = 8;
  const int ops = testing::kUnderTsan ? 150 : 500;
  VarHandle shared = engine_->NewVar();
  std::vector<VarHandle> own(kThreads);
  for (auto& v : own) v = engine_->NewVar();
  std::vector<int64_t> counts(kThreads, 0);
  int64_t total = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < ops; ++i) {
        engine_->PushSync([&, t](RunContext) { ++counts[t]; }, Context::CPU(), nullptr, 0, &own[t],
                          1);
        if (i % 4 == 0) {
          engine_->PushSync([&](RunContext) { ++total; }, Context::CPU(), &own[t], 1, &shared, 1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  engine_->WaitForAll();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(counts[t], ops);
  EXPECT_EQ(total, kThreads * ((ops + 3) / 4));
  for (auto& v : own) engine_->DeleteVar(v);
  engine_->DeleteVar(shared);
}

TEST_P(DependencyTest, DeleteVarWaitsForPendingWork) {
  VarHandle v = engine_->NewVar();
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  engine_->PushSync(
      [&](RunContext) {
        // On the naive engine this runs inside the push: nothing to wait for.
        if (GetParam().type != EngineType::kNaive) SpinUntil([&] { return release.load(); });
        ++ran;
      },
      Context::CPU(), nullptr, 0, &v, 1);
  engine_->PushSync([&](RunContext) { ++ran; }, Context::CPU(), &v, 1, nullptr, 0);
  engine_->DeleteVar(v);
  // The variable is gone for callers at once, but its memory is only recycled after the ops ran:
  // a new variable must not alias it while they are pending.
  VarHandle fresh = engine_->NewVar();
  if (GetParam().type != EngineType::kNaive) {
    EXPECT_NE(fresh, v);
    // Pushing on a deleted variable is reported, not a crash.
    EXPECT_THROW(engine_->PushSync([](RunContext) {}, Context::CPU(), &v, 1, nullptr, 0), Error);
  }
  release = true;
  engine_->WaitForAll();
  EXPECT_EQ(ran.load(), 2);
  engine_->DeleteVar(fresh);
}

TEST_P(DependencyTest, CachedOperatorsRunEachPush) {
  VarHandle a = engine_->NewVar();
  VarHandle b = engine_->NewVar();
  int x = 0, y = 0;
  OprHandle inc = engine_->NewOperator(
      [&](RunContext, CallbackOnComplete done) {
        ++x;
        done();
      },
      nullptr, 0, &a, 1, FnProperty::kNormal, "inc");
  OprHandle copy = engine_->NewOperator(
      [&](RunContext, CallbackOnComplete done) {
        y = x;
        done();
      },
      &a, 1, &b, 1, FnProperty::kNormal, "copy");
  for (int i = 0; i < 50; ++i) {
    engine_->PushOperator(inc, Context::CPU());
    engine_->PushOperator(copy, Context::CPU());
  }
  engine_->DeleteOperator(inc);  // deferred until its pushes ran
  engine_->DeleteOperator(copy);
  engine_->WaitForVar(b);
  EXPECT_EQ(x, 50);
  EXPECT_EQ(y, 50);
  engine_->DeleteVar(a);
  engine_->DeleteVar(b);
}

TEST_P(DependencyTest, AsyncOpsCompleteFromAnotherThread) {
  VarHandle v = engine_->NewVar();
  int x = 0;
  std::vector<std::thread> helpers;
  std::mutex helpers_mu;
  for (int i = 0; i < 20; ++i) {
    engine_->PushAsync(
        [&](RunContext, CallbackOnComplete done) {
          std::lock_guard<std::mutex> lock(helpers_mu);
          helpers.emplace_back([&x, done] {
            ++x;
            done();
          });
        },
        Context::CPU(), nullptr, 0, &v, 1, FnProperty::kAsync);
  }
  engine_->WaitForVar(v);
  EXPECT_EQ(x, 20);
  engine_->WaitForAll();
  for (auto& h : helpers) h.join();
  engine_->DeleteVar(v);
}

INSTANTIATE_TEST_SUITE_P(Engines, DependencyTest,
                         ::testing::Values(EngineConfig{EngineType::kNaive, 1},
                                           EngineConfig{EngineType::kThreaded, 1},
                                           EngineConfig{EngineType::kThreaded, 4}),
                         [](const auto& info) { return info.param.Label(); });

// Two readers of one variable are inside their functions at the same time.
TEST(ThreadedEngine, ReadsRunConcurrently) {
  Engine* engine = Restart(EngineType::kThreaded, 2);
  VarHandle v = engine->NewVar();
  std::atomic<int> arrived{0};
  std::atomic<int> met{0};
  for (int i = 0; i < 2; ++i) {
    engine->PushSync(
        [&](RunContext) {
          arrived.fetch_add(1);
          if (SpinUntil([&] { return arrived.load() == 2; })) met.fetch_add(1);
        },
        Context::CPU(), &v, 1, nullptr, 0);
  }
  engine->WaitForAll();
  EXPECT_EQ(met.load(), 2) << "the two reads never overlapped";
  engine->DeleteVar(v);
  Engine::Shutdown();
}

// A write queued behind a running read waits for it; reads queued behind the write wait too.
TEST(ThreadedEngine, WriteWaitsForRunningReads) {
  Engine* engine = Restart(EngineType::kThreaded, 3);
  VarHandle v = engine->NewVar();
  std::atomic<bool> release{false};
  std::atomic<int> stage{0};
  int value = 0;
  int read_after = -1;
  engine->PushSync(
      [&](RunContext) {
        SpinUntil([&] { return release.load(); });
        stage = 1;
      },
      Context::CPU(), &v, 1, nullptr, 0);
  engine->PushSync([&](RunContext) { value = stage.load() == 1 ? 7 : -7; }, Context::CPU(), nullptr,
                   0, &v, 1);
  engine->PushSync([&](RunContext) { read_after = value; }, Context::CPU(), &v, 1, nullptr, 0);
  release = true;
  engine->WaitForAll();
  EXPECT_EQ(read_after, 7);
  engine->DeleteVar(v);
  Engine::Shutdown();
}

TEST(ThreadedEngine, PrioritizedOpsRunOnThePriorityLane) {
  Engine* engine = Restart(EngineType::kThreaded, 1, 1);
  EXPECT_EQ(engine->WorkerCount(DeviceType::kCPU), 2);
  VarHandle blocker = engine->NewVar();
  VarHandle v = engine->NewVar();
  std::atomic<bool> release{false};
  std::atomic<bool> prioritized_ran{false};
  // Occupy the FIFO worker; a prioritized op must still run meanwhile.
  engine->PushSync([&](RunContext) { SpinUntil([&] { return release.load(); }); }, Context::CPU(),
                   nullptr, 0, &blocker, 1);
  engine->PushSync([&](RunContext) { prioritized_ran = true; }, Context::CPU(), nullptr, 0, &v, 1,
                   FnProperty::kCPUPrioritized, 10, "update");
  EXPECT_TRUE(SpinUntil([&] { return prioritized_ran.load(); }));
  release = true;
  engine->WaitForAll();
  engine->DeleteVar(blocker);
  engine->DeleteVar(v);
  Engine::Shutdown();
}

TEST(ThreadedEngine, GpuContextWithoutGpuIsAnError) {
  Engine* engine = Restart(EngineType::kThreaded);
  VarHandle v = engine->NewVar();
  if (GpuCount() > 0) GTEST_SKIP() << "machine has a GPU";
  EXPECT_THROW(engine->PushSync([](RunContext) {}, Context::GPU(0), nullptr, 0, &v, 1), Error);
  EXPECT_EQ(engine->WorkerCount(DeviceType::kGPU), 0);
  engine->DeleteVar(v);
  Engine::Shutdown();
}

}  // namespace
}  // namespace engine
}  // namespace mx
