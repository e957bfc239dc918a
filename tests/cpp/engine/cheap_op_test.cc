// FnProperty::kCheap on the threaded engine: a cheap function whose variables are free runs on the
// pushing thread inside the push; one that has to wait runs on a worker later, in order; errors
// are stored on its variables either way, never thrown by the push.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "base/error.h"
#include "engine/engine.h"
#include "engine_test_util.h"

namespace mx {
namespace engine {
namespace {

using testing::Restart;
using testing::SpinUntil;

class CheapOpTest : public ::testing::Test {
 protected:
  void SetUp() override { engine_ = Restart(EngineType::kThreaded, 1); }
  void TearDown() override { Engine::Shutdown(); }
  Engine* engine_ = nullptr;
};

TEST_F(CheapOpTest, RunsOnThePusherWhenItsVariablesAreFree) {
  VarHandle a = engine_->NewVar(), b = engine_->NewVar();
  std::thread::id ran_on;
  bool done = false;
  engine_->PushSync(
      [&](RunContext) {
        ran_on = std::this_thread::get_id();
        done = true;
      },
      Context::CPU(), &a, 1, &b, 1, FnProperty::kCheap);
  // Ran inside the push: no wait needed to see it.
  EXPECT_TRUE(done);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  engine_->DeleteVar(a);
  engine_->DeleteVar(b);
  engine_->WaitForAll();
}

TEST_F(CheapOpTest, WaitsForAPendingWriterAndRunsAfterItOnAWorker) {
  VarHandle v = engine_->NewVar(), out = engine_->NewVar();
  std::atomic<bool> release{false}, writer_done{false}, cheap_done{false};
  std::atomic<bool> ordered{true};
  std::thread::id cheap_thread;
  // The writer holds `v` until the test releases it (no timing: the flag decides).
  engine_->PushSync(
      [&](RunContext) {
        while (!release.load()) std::this_thread::yield();
        writer_done = true;
      },
      Context::CPU(), nullptr, 0, &v, 1);
  engine_->PushSync(
      [&](RunContext) {
        if (!writer_done.load()) ordered = false;
        cheap_thread = std::this_thread::get_id();
        cheap_done = true;
      },
      Context::CPU(), &v, 1, &out, 1, FnProperty::kCheap);
  // The push returned without running it: its input has a pending writer.
  EXPECT_FALSE(cheap_done.load());
  release = true;
  engine_->WaitForVar(out);
  EXPECT_TRUE(cheap_done.load());
  EXPECT_TRUE(ordered.load());
  EXPECT_NE(cheap_thread, std::this_thread::get_id());
  engine_->DeleteVar(v);
  engine_->DeleteVar(out);
  engine_->WaitForAll();
}

TEST_F(CheapOpTest, DoesNotRunWhileAReaderHoldsWhatItWrites) {
  VarHandle v = engine_->NewVar();
  std::atomic<bool> release{false}, reading{false}, wrote{false};
  engine_->PushSync(
      [&](RunContext) {
        reading = true;
        while (!release.load()) std::this_thread::yield();
      },
      Context::CPU(), &v, 1, nullptr, 0);
  ASSERT_TRUE(SpinUntil([&] { return reading.load(); }));
  engine_->PushSync([&](RunContext) { wrote = true; }, Context::CPU(), nullptr, 0, &v, 1,
                    FnProperty::kCheap);
  EXPECT_FALSE(wrote.load());
  release = true;
  engine_->WaitForVar(v);
  EXPECT_TRUE(wrote.load());
  engine_->DeleteVar(v);
  engine_->WaitForAll();
}

TEST_F(CheapOpTest, AnErrorGoesToItsVariablesNotToThePusher) {
  VarHandle v = engine_->NewVar(), w = engine_->NewVar();
  EXPECT_NO_THROW(engine_->PushSync([](RunContext) { throw std::runtime_error("cheap failed"); },
                                    Context::CPU(), nullptr, 0, &v, 1, FnProperty::kCheap, 0,
                                    "cheap_op"));
  // A cheap op reading the failed variable is skipped and passes the error on.
  bool ran = false;
  engine_->PushSync([&](RunContext) { ran = true; }, Context::CPU(), &v, 1, &w, 1,
                    FnProperty::kCheap);
  EXPECT_FALSE(ran);
  try {
    engine_->WaitForVar(w);
    FAIL() << "the error was not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cheap failed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cheap_op"), std::string::npos) << e.what();
  }
  // The engine keeps working: a fresh write clears the error.
  bool ok = false;
  engine_->PushSync([&](RunContext) { ok = true; }, Context::CPU(), nullptr, 0, &w, 1,
                    FnProperty::kCheap);
  EXPECT_NO_THROW(engine_->WaitForVar(w));
  EXPECT_TRUE(ok);
  engine_->DeleteVar(v);
  engine_->DeleteVar(w);
  EXPECT_NO_THROW(engine_->WaitForAll());  // the error was reported once, through w
}

TEST_F(CheapOpTest, AGpuContextIsNeverRunOnThePusher) {
  // kCheap applies to CPU functions; on a machine without GPUs the push is rejected as for any
  // GPU op, with the error naming the device.
  if (GpuCount() > 0) GTEST_SKIP() << "covered by the GPU tests";
  VarHandle v = engine_->NewVar();
  EXPECT_THROW(
      engine_->PushSync([](RunContext) {}, Context::GPU(0), nullptr, 0, &v, 1, FnProperty::kCheap),
      Error);
  engine_->DeleteVar(v);
  engine_->WaitForAll();
}

}  // namespace
}  // namespace engine
}  // namespace mx
