// Errors inside ops: stored on the written variables, inherited by dependents, rethrown once at
// the next wait, and cleared by the next write. Same behaviour on both engines.
#include "base/error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "engine/engine.h"
#include "engine_test_util.h"
#include "mx/c_api.h"

namespace mx {
namespace engine {
namespace {

using testing::EngineConfig;
using testing::Restart;

class ErrorTest : public ::testing::TestWithParam<EngineConfig> {
 protected:
  void SetUp() override { engine_ = Restart(GetParam().type, GetParam().cpu_workers); }
  void TearDown() override { Engine::Shutdown(); }
  Engine* engine_ = nullptr;
};

// Runs `f` and returns the mx::Error it threw (fails the test if it threw none).
template <typename F>
Error Catch(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an mx::Error";
  return Error(ErrorCode::kInternal, "no error thrown");
}

TEST_P(ErrorTest, ErrorPropagatesToDependentsAndIsReportedOnce) {
  VarHandle a = engine_->NewVar(), b = engine_->NewVar(), c = engine_->NewVar();
  std::atomic<bool> dependent_ran{false};
  engine_->PushSync([](RunContext) { MX_THROW(kInvalidArgument) << "weight has wrong shape"; },
                    Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0, "fc1_forward");
  engine_->PushSync([&](RunContext) { dependent_ran = true; }, Context::CPU(), &a, 1, &b, 1,
                    FnProperty::kNormal, 0, "relu1");
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &c, 1);  // unrelated
  const Error e = Catch([&] { engine_->WaitForVar(b); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(e.what(), "error in op 'fc1_forward': weight has wrong shape");
  EXPECT_FALSE(dependent_ran.load());
  // One failure, one report: the other variables it reached do not throw again.
  EXPECT_NO_THROW(engine_->WaitForVar(a));
  EXPECT_NO_THROW(engine_->WaitForVar(b));
  EXPECT_NO_THROW(engine_->WaitForVar(c));
  EXPECT_NO_THROW(engine_->WaitForAll());
  // New work on the same variables runs normally.
  int x = 0;
  engine_->PushSync([&](RunContext) { x = 5; }, Context::CPU(), nullptr, 0, &a, 1);
  engine_->PushSync([&](RunContext) { x *= 2; }, Context::CPU(), &a, 1, &b, 1);
  EXPECT_NO_THROW(engine_->WaitForVar(b));
  EXPECT_EQ(x, 10);
  for (VarHandle v : {a, b, c}) engine_->DeleteVar(v);
}

// A cheap op runs on the pusher, so it has completed when the push returns: the wait then finds
// nothing pending and answers without a probe op, and must still report the error, once.
TEST_P(ErrorTest, WaitOnASettledVariableReportsItsError) {
  VarHandle a = engine_->NewVar();
  engine_->PushSync([](RunContext) { MX_THROW(kInvalidArgument) << "bad scalar"; }, Context::CPU(),
                    nullptr, 0, &a, 1, FnProperty::kCheap, 0, "settled_op");
  const Error e = Catch([&] { engine_->WaitForVar(a); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(e.what(), "error in op 'settled_op': bad scalar");
  EXPECT_NO_THROW(engine_->WaitForVar(a));
  int x = 0;
  engine_->PushSync([&](RunContext) { x = 3; }, Context::CPU(), nullptr, 0, &a, 1,
                    FnProperty::kCheap);
  EXPECT_NO_THROW(engine_->WaitForVar(a));
  EXPECT_EQ(x, 3);
  engine_->DeleteVar(a);
  EXPECT_NO_THROW(engine_->WaitForAll());
}

TEST_P(ErrorTest, WaitForAllReportsAndClears) {
  VarHandle a = engine_->NewVar(), b = engine_->NewVar();
  engine_->PushSync([](RunContext) { throw std::runtime_error("disk on fire"); }, Context::CPU(),
                    nullptr, 0, &a, 1, FnProperty::kNormal, 0, "loader");
  engine_->PushSync([](RunContext) { throw std::runtime_error("second"); }, Context::CPU(), nullptr,
                    0, &b, 1, FnProperty::kNormal, 0, "other");
  const Error e = Catch([&] { engine_->WaitForAll(); });
  EXPECT_EQ(e.code(), ErrorCode::kFailed);
  // The two ops are independent, so on a threaded engine either may fail first: the report
  // names the first failure to complete and counts the other.
  const std::string what = e.what();
  EXPECT_TRUE(what.find("error in op 'loader': disk on fire") == 0 ||
              what.find("error in op 'other': second") == 0)
      << what;
  EXPECT_NE(what.find("(and 1 more failed op)"), std::string::npos) << what;
  EXPECT_NO_THROW(engine_->WaitForAll());
  EXPECT_NO_THROW(engine_->WaitForVar(a));
  EXPECT_NO_THROW(engine_->WaitForVar(b));
  engine_->DeleteVar(a);
  engine_->DeleteVar(b);
}

TEST_P(ErrorTest, BadAllocBecomesOutOfMemory) {
  VarHandle a = engine_->NewVar();
  engine_->PushSync([](RunContext) { throw std::bad_alloc(); }, Context::CPU(), nullptr, 0, &a, 1,
                    FnProperty::kNormal, 0, "huge_alloc");
  const Error e = Catch([&] { engine_->WaitForVar(a); });
  EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
  EXPECT_NE(std::string(e.what()).find("huge_alloc"), std::string::npos);
  engine_->DeleteVar(a);
}

TEST_P(ErrorTest, AsyncCallbackCarriesError) {
  VarHandle a = engine_->NewVar();
  engine_->PushAsync(
      [](RunContext, CallbackOnComplete done) {
        done(std::make_exception_ptr(Error(ErrorCode::kIO, "read failed")));
      },
      Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0, "async_read");
  const Error e = Catch([&] { engine_->WaitForVar(a); });
  EXPECT_EQ(e.code(), ErrorCode::kIO);
  EXPECT_STREQ(e.what(), "error in op 'async_read': read failed");
  engine_->DeleteVar(a);
}

// A collective (FnProperty::kCollective) must take its turn even after an error, or the other
// processes would wait for it; the error still reaches what it writes, reported once.
TEST_P(ErrorTest, CollectiveRunsAfterAnErrorAndPassesItOn) {
  VarHandle in = engine_->NewVar(), out = engine_->NewVar(), next = engine_->NewVar();
  std::atomic<int> collective_runs{0}, skipped_runs{0};
  engine_->PushSync([](RunContext) { MX_THROW(kFailed) << "backward failed"; }, Context::CPU(),
                    nullptr, 0, &in, 1, FnProperty::kNormal, 0, "backward");
  for (int i = 0; i < 2; ++i) {  // an erroneous input, then an erroneous output
    engine_->PushAsync(
        [&](RunContext, CallbackOnComplete done) {
          ++collective_runs;
          done();
        },
        Context::CPU(), &in, 1, &out, 1, FnProperty::kCollective, 0, "allreduce");
  }
  engine_->PushAsync(
      [&](RunContext, CallbackOnComplete done) {
        ++skipped_runs;
        done();
      },
      Context::CPU(), &out, 1, &next, 1, FnProperty::kAsync, 0, "update");
  const Error e = Catch([&] { engine_->WaitForVar(next); });
  EXPECT_STREQ(e.what(), "error in op 'backward': backward failed");
  EXPECT_EQ(collective_runs.load(), 2);
  EXPECT_EQ(skipped_runs.load(), 0);
  EXPECT_NO_THROW(engine_->WaitForVar(out));
  EXPECT_NO_THROW(engine_->WaitForAll());
  // Its own failure is reported as any op's.
  engine_->PushAsync(
      [](RunContext, CallbackOnComplete done) {
        done(std::make_exception_ptr(Error(ErrorCode::kFailed, "peer timed out")));
      },
      Context::CPU(), nullptr, 0, &out, 1, FnProperty::kCollective, 0, "allreduce");
  EXPECT_STREQ(Catch([&] { engine_->WaitForVar(out); }).what(),
               "error in op 'allreduce': peer timed out");
  for (VarHandle v : {in, out, next}) engine_->DeleteVar(v);
}

TEST_P(ErrorTest, ManyFailuresDoNotKillWorkers) {
  VarHandle a = engine_->NewVar();
  for (int i = 0; i < 100; ++i) {
    engine_->PushSync([](RunContext) { throw 42; }, Context::CPU(), nullptr, 0, &a, 1);
    EXPECT_THROW(engine_->WaitForVar(a), Error);
  }
  int x = 0;
  engine_->PushSync([&](RunContext) { x = 1; }, Context::CPU(), nullptr, 0, &a, 1);
  EXPECT_NO_THROW(engine_->WaitForVar(a));
  EXPECT_EQ(x, 1);
  engine_->DeleteVar(a);
}

INSTANTIATE_TEST_SUITE_P(Engines, ErrorTest,
                         ::testing::Values(EngineConfig{EngineType::kNaive, 1},
                                           EngineConfig{EngineType::kThreaded, 2}),
                         [](const auto& info) { return info.param.Label(); });

// ---- Through the C ABI --------------------------------------------------------------------

int32_t FailingCallback(void* user_data, char* err, size_t err_size) {
  std::snprintf(err, err_size, "bad input %d", *static_cast<int*>(user_data));
  return 1;
}
int32_t IncrementCallback(void* user_data, char*, size_t) {
  ++*static_cast<int*>(user_data);
  return 0;
}

TEST(EngineCApi, ErrorThroughCallbackThenRecovery) {
  Engine::Shutdown();
  ASSERT_EQ(mx_init(nullptr), MX_OK);
  mx_engine_var_t v = nullptr;
  ASSERT_EQ(mx_engine_var_new(&v), MX_OK);
  int bad = 7;
  ASSERT_EQ(mx_engine_push(FailingCallback, &bad, nullptr, nullptr, 0, &v, 1, 0, "parse_batch"),
            MX_OK);
  EXPECT_EQ(mx_engine_wait_for_var(v), MX_ERR_FAILED);
  EXPECT_NE(std::strstr(mx_get_last_error(), "parse_batch"), nullptr) << mx_get_last_error();
  EXPECT_NE(std::strstr(mx_get_last_error(), "bad input 7"), nullptr) << mx_get_last_error();
  EXPECT_EQ(mx_engine_wait_for_var(v), MX_OK);
  int count = 0;
  ASSERT_EQ(mx_engine_push(IncrementCallback, &count, nullptr, nullptr, 0, &v, 1, 0, nullptr),
            MX_OK);
  EXPECT_EQ(mx_engine_wait_for_var(v), MX_OK);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(mx_engine_var_free(v), MX_OK);
  EXPECT_EQ(mx_shutdown(), MX_OK);
}

TEST(EngineCApi, BadArgumentsAreNamed) {
  mx_engine_var_t v = nullptr;
  ASSERT_EQ(mx_engine_var_new(&v), MX_OK);
  EXPECT_EQ(mx_engine_var_new(nullptr), MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "out_var"), nullptr);
  EXPECT_EQ(mx_engine_wait_for_var(nullptr), MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "'var'"), nullptr);
  EXPECT_EQ(mx_engine_push(IncrementCallback, nullptr, nullptr, &v, -1, nullptr, 0, 0, nullptr),
            MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "n_read"), nullptr);
  EXPECT_EQ(mx_engine_push(nullptr, nullptr, nullptr, nullptr, 0, &v, 1, 0, nullptr),
            MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "'fn'"), nullptr);
  mx_engine_var_t list[2] = {v, nullptr};
  EXPECT_EQ(mx_engine_push(IncrementCallback, nullptr, nullptr, nullptr, 0, list, 2, 0, nullptr),
            MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "write[1]"), nullptr);
  EXPECT_EQ(mx_engine_get_worker_count(9, nullptr), MX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(mx_engine_var_free(nullptr), MX_OK);
  EXPECT_EQ(mx_engine_var_free(v), MX_OK);
  // A freed handle is recognised while its memory is still the library's.
  EXPECT_EQ(mx_engine_wait_for_var(v), MX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(mx_engine_wait_all(), MX_OK);
}

TEST(EngineCApi, FreeUserDataRunsExactlyOnce) {
  static std::atomic<int> frees{0};
  frees = 0;
  auto free_fn = [](void* p) {
    frees.fetch_add(1);
    delete static_cast<int*>(p);
  };
  mx_engine_var_t v = nullptr;
  ASSERT_EQ(mx_engine_var_new(&v), MX_OK);
  ASSERT_EQ(mx_engine_push(IncrementCallback, new int(0), free_fn, nullptr, 0, &v, 1, 0, "a"),
            MX_OK);
  // A failed push still takes ownership.
  EXPECT_EQ(mx_engine_push(IncrementCallback, new int(0), free_fn, nullptr, -3, &v, 1, 0, "b"),
            MX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(mx_engine_wait_all(), MX_OK);
  EXPECT_EQ(frees.load(), 2);
  EXPECT_EQ(mx_engine_var_free(v), MX_OK);
}

}  // namespace
}  // namespace engine
}  // namespace mx
