// Engine selection, explicit start/shutdown, shutdown and exit with work pending, fork().
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/error.h"
#include "engine/engine.h"
#include "engine_test_util.h"
#include "mx/c_api.h"

#if MX_USE_OPENMP
#include <omp.h>
#endif

namespace mx {
namespace engine {
namespace {

// Sets an environment variable for the scope of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

#if MX_USE_OPENMP
// The OpenMP threads a CPU worker's op gets, on a fresh threaded engine with one CPU worker.
int WorkerOmpThreads() {
  Engine* e = testing::Restart(EngineType::kThreaded, 1);
  std::atomic<int> n{0};
  VarHandle v = e->NewVar();
  e->PushSync([&](RunContext) { n = omp_get_max_threads(); }, Context::CPU(), nullptr, 0, &v, 1);
  e->WaitForVar(v);
  e->DeleteVar(v);
  return n.load();
}

// Workers x OpenMP threads fill the process's cores: OMP_NUM_THREADS when set, else the machine's
// divided between the processes mpirun started on it (docs/distributed.md).
TEST(EngineThreads, OpenMpThreadsShareTheProcessesCores) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  {
    ScopedEnv omp("OMP_NUM_THREADS", "");
    ScopedEnv local("OMPI_COMM_WORLD_LOCAL_SIZE", "1");
    EXPECT_EQ(WorkerOmpThreads(), cores);
  }
  {
    ScopedEnv omp("OMP_NUM_THREADS", "3");
    EXPECT_EQ(WorkerOmpThreads(), 3);
  }
  {
    ScopedEnv omp("OMP_NUM_THREADS", "");
    ScopedEnv local("OMPI_COMM_WORLD_LOCAL_SIZE", "1000");
    EXPECT_EQ(WorkerOmpThreads(), 1);
  }
  Engine::Shutdown();
}
#endif

TEST(EngineSelection, NaiveThroughOptions) {
  Engine* e = testing::Restart(EngineType::kNaive);
  EXPECT_STREQ(e->Name(), "naive");
  EXPECT_EQ(e->WorkerCount(DeviceType::kCPU), 0);
  Engine::Shutdown();
}

TEST(EngineSelection, NaiveThroughEnvironment) {
  Engine::Shutdown();
  {
    ScopedEnv env("MX_ENGINE_TYPE", "naive");
    EXPECT_STREQ(Engine::Get()->Name(), "naive");
    Engine::Shutdown();
  }
  {
    ScopedEnv env("MX_ENGINE_TYPE", "threaded");
    ScopedEnv workers("MX_CPU_WORKER_NTHREADS", "3");
    EXPECT_STREQ(Engine::Get()->Name(), "threaded");
    EXPECT_EQ(Engine::Get()->WorkerCount(DeviceType::kCPU), 3 + 1);
    Engine::Shutdown();
  }
  {
    ScopedEnv env("MX_ENGINE_TYPE", "bogus");
    try {
      Engine::Get();
      ADD_FAILURE() << "an unknown engine type must be an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos);
    }
  }
  // Explicit options override the environment.
  {
    ScopedEnv env("MX_ENGINE_TYPE", "threaded");
    EXPECT_STREQ(testing::Restart(EngineType::kNaive)->Name(), "naive");
    Engine::Shutdown();
  }
}

TEST(EngineCApi, InitIsReferenceCountedAndChecksOptions) {
  Engine::Shutdown();
  mx_init_options_t opts;
  ASSERT_EQ(mx_init_options_default(&opts), MX_OK);
  EXPECT_EQ(opts.struct_size, sizeof opts);
  opts.engine_type = MX_ENGINE_NAIVE;
  ASSERT_EQ(mx_init(&opts), MX_OK);
  ASSERT_EQ(mx_init(&opts), MX_OK);  // same options: one more reference
  const char* name = nullptr;
  ASSERT_EQ(mx_engine_get_type(&name), MX_OK);
  EXPECT_STREQ(name, "naive");
  mx_init_options_t other;
  mx_init_options_default(&other);
  other.engine_type = MX_ENGINE_THREADED;
  EXPECT_EQ(mx_init(&other), MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "already running"), nullptr) << mx_get_last_error();
  other.engine_type = 9;
  EXPECT_EQ(mx_init(&other), MX_ERR_INVALID_ARGUMENT);
  other.engine_type = MX_ENGINE_DEFAULT;
  other.cpu_workers = -2;
  EXPECT_EQ(mx_init(&other), MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(mx_get_last_error(), "cpu_workers"), nullptr) << mx_get_last_error();
  EXPECT_EQ(mx_shutdown(), MX_OK);
  EXPECT_NE(Engine::Peek(), nullptr);  // one reference left
  EXPECT_EQ(mx_shutdown(), MX_OK);
  EXPECT_EQ(Engine::Peek(), nullptr);
  EXPECT_EQ(mx_shutdown(), MX_OK);  // nothing running: fine
  // Lazy start after shutdown.
  int32_t n = -1;
  ASSERT_EQ(mx_engine_get_worker_count(MX_CPU, &n), MX_OK);
  EXPECT_GE(n, 1);
  Engine::Shutdown();
}

// Worker counts are bounded: a billion threads used to be started one by one until the process
// died. Now the option and the limit are named before any thread starts.
TEST(EngineSelection, AbsurdWorkerCountsAreErrors) {
  Engine::Shutdown();
  for (int EngineOptions::*field :
       {&EngineOptions::cpu_workers, &EngineOptions::cpu_priority_workers,
        &EngineOptions::gpu_compute_workers, &EngineOptions::gpu_copy_workers}) {
    EngineOptions o;
    o.*field = 1000000000;
    try {
      Engine::Start(o);
      ADD_FAILURE() << "started with " << o.ToString();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("= 1000000000"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("1024"), std::string::npos) << e.what();
    }
    EXPECT_EQ(Engine::Peek(), nullptr);
  }
  ScopedEnv env("MX_CPU_WORKER_NTHREADS", "1000000000");
  EXPECT_THROW(Engine::Start(EngineOptions()), Error);
  EXPECT_EQ(Engine::Peek(), nullptr);
}

TEST(EngineLifecycle, ShutdownWaitsForPendingWork) {
  Engine* engine = testing::Restart(EngineType::kThreaded, 2);
  VarHandle v = engine->NewVar();
  std::atomic<int> ran{0};
  constexpr int kOps = 200;
  for (int i = 0; i < kOps; ++i) {
    engine->PushSync(
        [&](RunContext) {
          volatile int sink = 0;
          for (int k = 0; k < 2000; ++k) sink = sink + k;
          ran.fetch_add(1);
        },
        Context::CPU(), nullptr, 0, &v, 1);
  }
  engine->DeleteVar(v);
  Engine::Shutdown();
  EXPECT_EQ(ran.load(), kOps);
  // A new engine starts on the next use.
  VarHandle w = Engine::Get()->NewVar();
  Engine::Get()->PushSync([&](RunContext) { ran.fetch_add(1); }, Context::CPU(), nullptr, 0, &w, 1);
  Engine::Get()->WaitForVar(w);
  EXPECT_EQ(ran.load(), kOps + 1);
  Engine::Get()->DeleteVar(w);
  Engine::Shutdown();
}

// Runs `child` in a forked process and returns its exit status (-1 if it did not exit normally).
template <typename F>
int RunInChild(F child) {
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) child();  // must end the process itself
  if (pid < 0) return -2;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -3;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(EngineLifecycle, ExitWithWorkPendingDoesNotCrash) {
  testing::Restart(EngineType::kThreaded, 2);
  const int status = RunInChild([] {
    Engine* engine = Engine::Get();
    VarHandle v = engine->NewVar();
    for (int i = 0; i < 2000; ++i) {
      engine->PushSync(
          [](RunContext) {
            volatile int sink = 0;
            for (int k = 0; k < 1000; ++k) sink = sink + k;
          },
          Context::CPU(), nullptr, 0, &v, 1);
    }
    std::exit(0);  // static destructors run while the workers are still busy
  });
  EXPECT_EQ(status, 0);
  Engine::Shutdown();
}

TEST(EngineLifecycle, ForkGivesTheChildAWorkingEngine) {
  Engine* engine = testing::Restart(EngineType::kThreaded, 2);
  VarHandle v = engine->NewVar();
  int64_t x = 0;
  for (int i = 0; i < 100; ++i)
    engine->PushSync([&](RunContext) { ++x; }, Context::CPU(), nullptr, 0, &v, 1);
  // fork() waits for that work (atfork handler), so both processes start from x == 100.
  const int status = RunInChild([&] {
    Engine* e = Engine::Get();
    VarHandle w = e->NewVar();
    for (int i = 0; i < 100; ++i)
      e->PushSync([&](RunContext) { x += 2; }, Context::CPU(), &v, 1, &w, 1);
    bool ok = true;
    try {
      e->WaitForVar(w);
    } catch (...) {
      ok = false;
    }
    _exit(ok && x == 300 ? 0 : 1);
  });
  EXPECT_EQ(status, 0);
  // The parent's workers were restarted.
  engine->PushSync([&](RunContext) { ++x; }, Context::CPU(), nullptr, 0, &v, 1);
  engine->WaitForVar(v);
  EXPECT_EQ(x, 101);
  engine->DeleteVar(v);
  Engine::Shutdown();
}

}  // namespace
}  // namespace engine
}  // namespace mx
