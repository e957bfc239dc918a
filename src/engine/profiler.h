// The engine's profiler: every op an engine runs, with its name, device, worker thread, queue wait
// and run time, dumped as a Chrome trace (Perfetto, chrome://tracing) or a table of ops by total
// time.
//
//   profiler::SetState(true);                 // from any thread, at any time
//   ... push work ...
//   Engine::Get()->WaitForAll();              // ops still running are recorded when they finish
//   profiler::SetState(false);
//   profiler::Dump("trace.json", profiler::Format::kAuto, /*reset=*/false);
//
// Note [Profiler hot path]: the engines ask On() once per push: one relaxed atomic load, and
// nothing else when it is off (no clock read, no allocation, no store beyond one pointer in the op
// block, which stays one cache line: see OprBlock::prof). When it is on, the pusher takes a pooled
// Span and reads the clock, the thread that starts the op reads it again, and the thread that
// completes it reads it a third time and appends one Event to its own thread's buffer under that
// buffer's mutex, which only a dump ever contends for. Buffers grow in
// chunks of kChunkEvents taken from a shared pool (a global lock once per chunk, not per op); the
// pool holds at most MaxEvents() events, and an op that finds it exhausted is counted as dropped
// (the dump reports how many). Op names are interned per thread buffer, because the name pointer an
// op carries dies with the op (a C ABI push copies its name into the op; an executor's node names
// die with the executor) while the dump happens later.
#ifndef MX_ENGINE_PROFILER_H_
#define MX_ENGINE_PROFILER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/context.h"

namespace mx {
namespace engine {
namespace profiler {

extern std::atomic<bool> g_on;

// Whether ops pushed now are recorded. The engines' only cost when profiling is off.
inline bool On() { return g_on.load(std::memory_order_relaxed); }

// Nanoseconds on the steady clock. Never 0 in practice, so the engines use 0 for "not profiled".
inline int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A profiled push of the threaded engine, from push to completion: the clock when it was pushed,
// when it started (0 until then: a skipped op is not recorded) and who started it. Pooled (the
// engine's ObjectPool), so recording allocates nothing per op.
struct Span {
  int64_t push = 0;
  int64_t start = 0;
  int32_t tid = 0;
  Span* pool_next = nullptr;
};

// The calling thread's small profiler id (the trace's tid), assigned on first use.
int32_t ThreadId();

// Names the calling thread in traces ("cpu worker 0"). A thread that takes a name an earlier
// thread had (an engine's workers after a restart or fork) takes that thread's id too, so traces
// of successive engines line up. Threads never named are "main thread" or "thread <id>".
void NameThisThread(const std::string& name);

// Appends one op: pushed at `push`, started by thread `tid` at `start`, completed (now, on the
// calling thread) at `end`, all Now() values. `failed`: the op threw. `name` may be nullptr, and
// is copied. Never throws: an op the profiler cannot keep counts as dropped.
void Record(const char* name, Context ctx, int32_t tid, int64_t push, int64_t start, int64_t end,
            bool failed) noexcept;

// Starts (true) or stops recording. Starting reads MX_PROFILER_MAX_EVENTS (throws on a malformed
// value). Stopping keeps what was recorded; ops pushed while recording are still recorded when
// they complete.
void SetState(bool run);
bool State();

// The most events kept at once (recorded and not yet reset): MX_PROFILER_MAX_EVENTS if set, else
// kDefaultMaxEvents, rounded up to whole chunks.
constexpr int64_t kChunkEvents = 1024;
constexpr int64_t kDefaultMaxEvents = 1 << 20;
constexpr int64_t kMaxMaxEvents = int64_t(1) << 32;
int64_t MaxEvents();
// Overrides the limit for tests (0 restores the environment's or the default). Takes effect for
// chunks taken from now on.
void SetMaxEventsForTesting(int64_t max_events);

// One recorded op, as a dump sees it. Times are nanoseconds since the profiler's epoch (the first
// time it was started in this process).
struct EventView {
  std::string name;
  Context ctx;
  int32_t tid = 0;
  int64_t push = 0, start = 0, end = 0;
  bool failed = false;
};
struct Snapshot {
  std::vector<EventView> events;                         // sorted by start time
  std::vector<std::pair<int32_t, std::string>> threads;  // (tid, name) of every thread seen
  uint64_t dropped = 0;
};

// Everything recorded so far (since the last reset), from every thread.
Snapshot Take();
// Discards everything recorded so far.
void Clear();

enum class Format : int { kAuto = 0, kChromeTrace = 1, kTable = 2 };

// kAuto picks by `path`'s extension (.json: trace, .txt: table); otherwise an error naming the
// path.
Format ResolveFormat(const std::string& path, Format format);
// The text of each format.
std::string ChromeTrace(const Snapshot& s);
std::string Table(const Snapshot& s);
// Takes a snapshot and writes it to `path` (through a temporary file renamed into place). Errors
// (kIO, kInvalidArgument) name the path or the format. `reset` then discards what was written
// (only after the file is written; an op completing meanwhile stays for the next dump).
void Dump(const std::string& path, Format format, bool reset);

}  // namespace profiler
}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_PROFILER_H_
