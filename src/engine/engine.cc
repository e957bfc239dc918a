// The process-wide engine: configuration, lazy start, explicit start/shutdown, fork().
//
// Note [Engine lifetime]: the engine is created on first use and never destroyed by a static
// destructor. At process exit it is simply abandoned (its workers die with the process), because
// running or joining work from a destructor, in an order the C++ runtime chooses, is how engines
// crash at exit. Shutdown() is the explicit way to wait for work and join the workers.
#include "engine/engine.h"

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

#include "base/error.h"
#include "engine/naive_engine.h"
#include "engine/threaded_engine.h"

namespace mx {
namespace engine {

int64_t CheapWorkLimit() {
  static const int64_t limit = [] {
    const char* v = std::getenv("MX_INLINE_OP_ELEMENTS");
    if (v == nullptr || *v == '\0') return int64_t{16384};
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);
    MX_CHECK(*end == '\0' && n >= 0, kInvalidArgument)
        << "MX_INLINE_OP_ELEMENTS='" << v << "': expected a count of elements (0 or more)";
    return static_cast<int64_t>(n);
  }();
  return limit;
}
namespace {

// Trivially destructible globals only (Note [Engine lifetime]).
std::mutex g_mu;  // serialises Start/Shutdown and holds everything still across fork()
std::atomic<Engine*> g_engine{nullptr};
bool g_atfork_registered = false;

// The most threads of one kind an engine starts (per device for GPUs): far beyond any useful
// number, and low enough that a mistyped count fails at once instead of spawning threads until
// the process dies.
constexpr long kMaxWorkers = 1024;  // NOLINT(runtime/int): compared with strtol's result

// Reads a positive count from the environment; unset or empty means `fallback`.
int EnvCount(const char* name, int fallback) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);  // NOLINT(runtime/int): strtol's type
  MX_CHECK(errno == 0 && end != s && *end == '\0' && v >= 1 && v <= kMaxWorkers, kInvalidArgument)
      << "environment variable " << name << "='" << s
      << "' is not a worker count (an integer from 1 to " << kMaxWorkers << ")";
  return static_cast<int>(v);
}

EngineType EnvEngineType() {
  const char* s = std::getenv("MX_ENGINE_TYPE");
  if (s == nullptr || *s == '\0') return EngineType::kThreaded;
  // MXNet's names are accepted too, so existing scripts keep working.
  if (std::strcmp(s, "naive") == 0 || std::strcmp(s, "NaiveEngine") == 0) return EngineType::kNaive;
  if (std::strcmp(s, "threaded") == 0 || std::strcmp(s, "ThreadedEngine") == 0 ||
      std::strcmp(s, "ThreadedEnginePerDevice") == 0)
    return EngineType::kThreaded;
  MX_THROW(kInvalidArgument) << "environment variable MX_ENGINE_TYPE='" << s
                             << "' is not an engine type: expected 'naive' or 'threaded'";
}

int Resolve(int given, const char* field, const char* env, int fallback) {
  MX_CHECK(given >= 0 && given <= kMaxWorkers, kInvalidArgument)
      << "engine option " << field << " = " << given
      << ": expected 0 (default) or a count from 1 to " << kMaxWorkers;
  return given > 0 ? given : EnvCount(env, fallback);
}

void ForkPrepare() {
  g_mu.lock();
  if (Engine* e = g_engine.load(std::memory_order_acquire)) e->StopForFork();
}
void ForkParent() {
  if (Engine* e = g_engine.load(std::memory_order_acquire)) e->ResumeAfterFork(false);
  g_mu.unlock();
}
void ForkChild() {
  // The forking thread held g_mu in the parent, and is the only thread in the child.
  if (Engine* e = g_engine.load(std::memory_order_acquire)) e->ResumeAfterFork(true);
  g_mu.unlock();
}

// Called with g_mu held.
Engine* CreateLocked(const EngineOptions& resolved) {
  if (!g_atfork_registered) {
    MX_CHECK(pthread_atfork(ForkPrepare, ForkParent, ForkChild) == 0, kInternal)
        << "pthread_atfork failed";
    g_atfork_registered = true;
  }
  Engine* e = nullptr;
  if (resolved.type == EngineType::kNaive) {
    e = new NaiveEngine(resolved);
  } else {
    e = new ThreadedEngine(resolved);
  }
  g_engine.store(e, std::memory_order_release);
  return e;
}

}  // namespace

EngineOptions EngineOptions::Resolved() const {
  MX_CHECK(
      type == EngineType::kDefault || type == EngineType::kNaive || type == EngineType::kThreaded,
      kInvalidArgument)
      << "unknown engine type " << static_cast<int>(type)
      << ": expected 0 (default), 1 (naive) or 2 (threaded)";
  EngineOptions r;
  r.type = type != EngineType::kDefault ? type : EnvEngineType();
  // One CPU worker running OpenMP/BLAS across all cores is best for training on small machines.
  r.cpu_workers = Resolve(cpu_workers, "cpu_workers", "MX_CPU_WORKER_NTHREADS", 1);
  r.cpu_priority_workers =
      Resolve(cpu_priority_workers, "cpu_priority_workers", "MX_CPU_PRIORITY_NTHREADS", 1);
  r.gpu_compute_workers =
      Resolve(gpu_compute_workers, "gpu_compute_workers", "MX_GPU_WORKER_NTHREADS", 2);
  r.gpu_copy_workers = Resolve(gpu_copy_workers, "gpu_copy_workers", "MX_GPU_COPY_NTHREADS", 1);
  return r;
}

bool EngineOptions::operator==(const EngineOptions& o) const {
  return type == o.type && cpu_workers == o.cpu_workers &&
         cpu_priority_workers == o.cpu_priority_workers &&
         gpu_compute_workers == o.gpu_compute_workers && gpu_copy_workers == o.gpu_copy_workers;
}

std::string EngineOptions::ToString() const {
  std::ostringstream os;
  os << "{type="
     << (type == EngineType::kNaive      ? "naive"
         : type == EngineType::kThreaded ? "threaded"
                                         : "default")
     << ", cpu_workers=" << cpu_workers << ", cpu_priority_workers=" << cpu_priority_workers
     << ", gpu_compute_workers=" << gpu_compute_workers << ", gpu_copy_workers=" << gpu_copy_workers
     << "}";
  return os.str();
}

Engine* Engine::Get() {
  Engine* e = g_engine.load(std::memory_order_acquire);
  if (e != nullptr) return e;
  const EngineOptions resolved = EngineOptions().Resolved();
  std::lock_guard<std::mutex> lock(g_mu);
  e = g_engine.load(std::memory_order_relaxed);
  return e != nullptr ? e : CreateLocked(resolved);
}

Engine* Engine::Start(const EngineOptions& options) {
  const EngineOptions resolved = options.Resolved();
  std::lock_guard<std::mutex> lock(g_mu);
  Engine* e = g_engine.load(std::memory_order_relaxed);
  if (e == nullptr) return CreateLocked(resolved);
  MX_CHECK(e->Options() == resolved, kInvalidArgument)
      << "the engine is already running with options " << e->Options().ToString()
      << " and cannot be restarted with " << resolved.ToString()
      << " (shut it down first, or pass the same options)";
  return e;
}

Engine* Engine::Peek() { return g_engine.load(std::memory_order_acquire); }

void Engine::Shutdown() {
  Engine* e = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    e = g_engine.exchange(nullptr, std::memory_order_acq_rel);
  }
  delete e;  // waits for pending work and joins the workers
}

}  // namespace engine
}  // namespace mx
