// The engine's profiler: per-thread event buffers, merged when dumped (Note [Profiler hot path] in
// profiler.h).
//
// Locks, always taken in this order and never the other way round:
//   dump_mu    one dump (snapshot, write, reset) at a time
//   buffer mu  a thread's buffer: its own thread per recorded op, a dump once per buffer
//   pool mu    the chunk pool: a thread once per kChunkEvents recorded ops, a reset
//   registry   the list of buffers and thread names: a thread's first op or its name, a dump
// A dump copies the buffer list under the registry lock and then locks one buffer at a time.
#include "engine/profiler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "base/error.h"

namespace mx {
namespace engine {
namespace profiler {

std::atomic<bool> g_on{false};

namespace {

// Longer names are cut here: enough for any op or node name, and it bounds what one name costs.
constexpr size_t kMaxNameLen = 256;
// Distinct names one thread keeps; ops with further new names count as dropped.
constexpr uint32_t kMaxNames = 1 << 16;
constexpr uint32_t kNoName = UINT32_MAX;

struct Event {
  int64_t push, start, end;
  uint32_t name;  // index into the recording buffer's NameTable
  int32_t tid;
  int32_t dev_id;
  int16_t dev_type;
  uint8_t failed;
};

uint64_t HashName(const char* s, size_t* len) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  size_t n = 0;
  for (; n < kMaxNameLen && s[n] != '\0'; ++n)
    h = (h ^ static_cast<unsigned char>(s[n])) * 1099511628211ull;
  *len = n;
  return h;
}

// Interns op names by content: the pointer an op carries may be freed and reused for another name
// by the time of the dump.
class NameTable {
 public:
  uint32_t Intern(const char* name) {
    if (name == nullptr) name = "(unnamed)";
    size_t len = 0;
    const uint64_t h = HashName(name, &len);
    if (slots_.empty()) slots_.assign(64, 0);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) break;
      const std::string& n = names_[s - 1];
      if (hashes_[s - 1] == h && n.size() == len && std::memcmp(n.data(), name, len) == 0)
        return s - 1;
    }
    if (names_.size() >= kMaxNames) return kNoName;
    names_.emplace_back(name, len);
    hashes_.push_back(h);
    const uint32_t id = static_cast<uint32_t>(names_.size() - 1);
    if (names_.size() * 2 > slots_.size()) {
      Rehash(slots_.size() * 2);
    } else {
      Insert(id);
    }
    return id;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  void Insert(uint32_t id) {
    const size_t mask = slots_.size() - 1;
    size_t i = hashes_[id] & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = id + 1;
  }
  void Rehash(size_t size) {
    slots_.assign(size, 0);
    for (uint32_t id = 0; id < names_.size(); ++id) Insert(id);
  }

  std::vector<std::string> names_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;  // id + 1; 0 is empty
};

// One thread's events. Owned by the registry forever (a dump may come after the thread ended); a
// new thread adopts the buffer of one that ended.
struct ThreadBuffer {
  std::mutex mu;
  std::vector<Event*> chunks;  // kChunkEvents each; event i is chunks[i / k][i % k]
  int64_t size = 0;
  uint64_t dropped = 0;
  NameTable names;
  bool owned = false;  // registry lock
};

struct ThreadInfo {
  int32_t tid;
  std::string name;
};

// Leaked on purpose, like the engine's pools: no work in static destructors, and a thread may
// record (or end) while the process exits.
struct Registry {
  std::mutex mu;
  std::vector<ThreadBuffer*> buffers;
  std::vector<ThreadInfo> threads;  // index == tid
};
Registry* Reg() {
  static Registry* const r = new Registry();
  return r;
}

struct ChunkPool {
  std::mutex mu;
  std::vector<Event*> free;
  int64_t in_use = 0;
};
ChunkPool* Pool() {
  static ChunkPool* const p = new ChunkPool();
  return p;
}
// Set when an op found the pool empty, so later ops drop without taking the pool lock; cleared
// when chunks come back or the limit changes.
std::atomic<bool> g_exhausted{false};
std::atomic<int64_t> g_max_chunks{0};  // 0: not read from the environment yet
std::atomic<int64_t> g_test_max_events{0};
std::atomic<int64_t> g_epoch{0};
std::mutex g_state_mu;
std::mutex g_dump_mu;

int64_t ChunksFor(int64_t events) { return (events + kChunkEvents - 1) / kChunkEvents; }

int64_t MaxChunks() {
  const int64_t n = g_max_chunks.load(std::memory_order_relaxed);
  return n > 0 ? n : ChunksFor(kDefaultMaxEvents);
}

int64_t MaxEventsFromEnv() {
  const char* s = std::getenv("MX_PROFILER_MAX_EVENTS");
  if (s == nullptr || *s == '\0') return kDefaultMaxEvents;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);  // NOLINT(runtime/int): strtoll's type
  MX_CHECK(errno == 0 && end != s && *end == '\0' && v >= 1 && v <= kMaxMaxEvents, kInvalidArgument)
      << "environment variable MX_PROFILER_MAX_EVENTS='" << s
      << "' is not an event count (an integer from 1 to " << kMaxMaxEvents << ")";
  return v;
}

Event* TakeChunk() {
  ChunkPool* p = Pool();
  std::lock_guard<std::mutex> lock(p->mu);
  if (p->in_use >= MaxChunks()) {
    g_exhausted.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  Event* c = nullptr;
  if (!p->free.empty()) {
    c = p->free.back();
    p->free.pop_back();
  } else {
    c = new (std::nothrow) Event[kChunkEvents];
    if (c == nullptr) return nullptr;
  }
  ++p->in_use;
  return c;
}

void ReturnChunks(std::vector<Event*>* chunks) {
  if (chunks->empty()) return;
  ChunkPool* p = Pool();
  std::lock_guard<std::mutex> lock(p->mu);
  for (Event* c : *chunks) {
    --p->in_use;
    // Keep what the limit allows for reuse (fresh pages are slow here); give back the rest.
    if (p->in_use + static_cast<int64_t>(p->free.size()) < MaxChunks()) {
      p->free.push_back(c);
    } else {
      delete[] c;
    }
  }
  chunks->clear();
  g_exhausted.store(false, std::memory_order_relaxed);
}

bool IsMainThread() { return syscall(SYS_gettid) == getpid(); }

// Called with the registry lock held.
int32_t NewThreadLocked(Registry* r, std::string name) {
  const auto tid = static_cast<int32_t>(r->threads.size());
  if (name.empty()) name = IsMainThread() ? "main thread" : "thread " + std::to_string(tid);
  r->threads.push_back({tid, std::move(name)});
  return tid;
}

struct ThreadState {
  ThreadBuffer* buffer = nullptr;
  int32_t tid = -1;
  ~ThreadState() {
    if (buffer == nullptr) return;
    // The events stay for the next dump; the next new thread appends to this buffer.
    Registry* r = Reg();
    std::lock_guard<std::mutex> lock(r->mu);
    buffer->owned = false;
  }
};
thread_local ThreadState tls;

ThreadBuffer* AttachBuffer() {
  Registry* r = Reg();
  std::lock_guard<std::mutex> lock(r->mu);
  ThreadBuffer* b = nullptr;
  for (ThreadBuffer* c : r->buffers) {
    if (!c->owned) {
      b = c;
      break;
    }
  }
  if (b == nullptr) {
    r->buffers.reserve(r->buffers.size() + 1);  // may throw before the buffer is made
    b = new ThreadBuffer();
    r->buffers.push_back(b);
  }
  b->owned = true;
  tls.buffer = b;
  return b;
}

std::string DeviceName(Context ctx) {
  switch (ctx.dev_type) {
    case DeviceType::kCPU:
      return "cpu(" + std::to_string(ctx.dev_id) + ")";
    case DeviceType::kGPU:
      return "gpu(" + std::to_string(ctx.dev_id) + ")";
    case DeviceType::kCPUPinned:
      return "cpu_pinned(" + std::to_string(ctx.dev_id) + ")";
  }
  return "device(" + std::to_string(static_cast<int>(ctx.dev_type)) + ")";
}

// The trace's process for a device: host memory is one process, each GPU another.
int TracePid(Context ctx) { return ctx.is_gpu() ? 1 + ctx.dev_id : 0; }

// What a snapshot took from each buffer, so a reset discards exactly that and no op recorded
// while the file was written.
struct Taken {
  ThreadBuffer* buffer;
  int64_t events;
  uint64_t dropped;
};

Snapshot TakeInternal(std::vector<Taken>* taken) {
  Snapshot s;
  Registry* r = Reg();
  std::vector<ThreadBuffer*> buffers;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    buffers = r->buffers;
    for (const ThreadInfo& t : r->threads) s.threads.emplace_back(t.tid, t.name);
  }
  const int64_t epoch = g_epoch.load(std::memory_order_acquire);
  std::vector<Event> events;
  std::vector<std::string> names;
  for (ThreadBuffer* b : buffers) {
    events.clear();
    uint64_t dropped = 0;
    {
      std::lock_guard<std::mutex> lock(b->mu);
      events.reserve(static_cast<size_t>(b->size));
      for (int64_t i = 0; i < b->size; i += kChunkEvents) {
        const Event* c = b->chunks[static_cast<size_t>(i / kChunkEvents)];
        events.insert(events.end(), c, c + std::min(kChunkEvents, b->size - i));
      }
      names = b->names.names();
      dropped = b->dropped;
    }
    s.dropped += dropped;
    if (taken != nullptr) taken->push_back({b, static_cast<int64_t>(events.size()), dropped});
    for (const Event& e : events) {
      EventView v;
      v.name = names[e.name];
      v.ctx = Context{static_cast<DeviceType>(e.dev_type), e.dev_id};
      v.tid = e.tid;
      v.push = std::max<int64_t>(0, e.push - epoch);
      v.start = std::max<int64_t>(0, e.start - epoch);
      v.end = std::max<int64_t>(0, e.end - epoch);
      v.failed = e.failed != 0;
      s.events.push_back(std::move(v));
    }
  }
  std::stable_sort(s.events.begin(), s.events.end(),
                   [](const EventView& a, const EventView& b) { return a.start < b.start; });
  return s;
}

// Drops the first `events` events and `dropped` drops of the buffer (what a snapshot took),
// keeping whatever was recorded since.
void Discard(const Taken& t) {
  std::vector<Event*> spare;
  {
    ThreadBuffer* b = t.buffer;
    std::lock_guard<std::mutex> lock(b->mu);
    b->dropped -= std::min(b->dropped, t.dropped);
    const int64_t keep = b->size - t.events;
    if (keep > 0) {
      // Ops completed during the dump: move them to the front (rare, and few).
      for (int64_t i = 0; i < keep; ++i) {
        const int64_t from = t.events + i;
        b->chunks[static_cast<size_t>(i / kChunkEvents)][i % kChunkEvents] =
            b->chunks[static_cast<size_t>(from / kChunkEvents)][from % kChunkEvents];
      }
    }
    b->size = std::max<int64_t>(0, keep);
    const auto needed = static_cast<size_t>(ChunksFor(b->size));
    spare.assign(b->chunks.begin() + static_cast<std::ptrdiff_t>(needed), b->chunks.end());
    b->chunks.resize(needed);
  }
  ReturnChunks(&spare);
}

// ---- Formats -------------------------------------------------------------------------------

void AppendJsonString(std::string* out, const std::string& s) {
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
      ++i;
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else {
      // JSON text is UTF-8: copy a well-formed sequence, replace any other byte with U+FFFD.
      const int len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
      bool ok = len > 0 && i + len <= n;
      for (int k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xc0) == 0x80;
      // Overlong three- and four-byte forms, surrogates and code points past U+10FFFF.
      if (ok && len == 3) ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
      if (ok && len == 4) ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
      if (ok) {
        out->append(s, i, static_cast<size_t>(len));
        i += static_cast<size_t>(len);
      } else {
        out->append("\\ufffd");
        ++i;
      }
    }
  }
  out->push_back('"');
}

void AppendMicros(std::string* out, int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%03d", ns / 1000, static_cast<int>(ns % 1000));
  out->append(buf);
}

std::string ThreadName(const Snapshot& s, int32_t tid) {
  for (const auto& t : s.threads)
    if (t.first == tid) return t.second;
  return "thread " + std::to_string(tid);
}

}  // namespace

// ---- Recording -------------------------------------------------------------------------------

int32_t ThreadId() {
  if (tls.tid >= 0) return tls.tid;
  Registry* r = Reg();
  std::lock_guard<std::mutex> lock(r->mu);
  tls.tid = NewThreadLocked(r, std::string());
  return tls.tid;
}

void NameThisThread(const std::string& name) {
  Registry* r = Reg();
  std::lock_guard<std::mutex> lock(r->mu);
  for (const ThreadInfo& t : r->threads) {
    if (t.name == name) {
      tls.tid = t.tid;
      return;
    }
  }
  if (tls.tid >= 0) {
    r->threads[static_cast<size_t>(tls.tid)].name = name;
  } else {
    tls.tid = NewThreadLocked(r, name);
  }
}

void Record(const char* name, Context ctx, int32_t tid, int64_t push, int64_t start, int64_t end,
            bool failed) noexcept {
  try {
    ThreadBuffer* b = tls.buffer != nullptr ? tls.buffer : AttachBuffer();
    std::lock_guard<std::mutex> lock(b->mu);
    if (b->size == static_cast<int64_t>(b->chunks.size()) * kChunkEvents) {
      b->chunks.reserve(b->chunks.size() + 1);  // before taking a chunk: push_back cannot throw
      Event* c = g_exhausted.load(std::memory_order_relaxed) ? nullptr : TakeChunk();
      if (c == nullptr) {
        ++b->dropped;
        return;
      }
      b->chunks.push_back(c);
    }
    const uint32_t id = b->names.Intern(name);
    if (id == kNoName) {
      ++b->dropped;
      return;
    }
    Event& e = b->chunks[static_cast<size_t>(b->size / kChunkEvents)][b->size % kChunkEvents];
    e.push = push;
    e.start = start;
    e.end = end;
    e.name = id;
    e.tid = tid;
    e.dev_id = ctx.dev_id;
    e.dev_type = static_cast<int16_t>(ctx.dev_type);
    e.failed = failed ? 1 : 0;
    ++b->size;
  } catch (...) {
    // Out of memory for a buffer or a name: this op is not recorded, and nothing else changes.
    // (The count of drops lives in the buffer, which may be what failed to exist.)
  }
}

void SetState(bool run) {
  std::lock_guard<std::mutex> lock(g_state_mu);
  if (run) {
    const int64_t test_max = g_test_max_events.load(std::memory_order_relaxed);
    const int64_t max_events = test_max > 0 ? test_max : MaxEventsFromEnv();
    g_max_chunks.store(ChunksFor(max_events), std::memory_order_relaxed);
    g_exhausted.store(false, std::memory_order_relaxed);
    int64_t expected = 0;
    g_epoch.compare_exchange_strong(expected, Now(), std::memory_order_acq_rel);
  }
  g_on.store(run, std::memory_order_release);
}

bool State() { return g_on.load(std::memory_order_acquire); }

int64_t MaxEvents() {
  const int64_t chunks = g_max_chunks.load(std::memory_order_relaxed);
  if (chunks > 0) return chunks * kChunkEvents;
  const int64_t test_max = g_test_max_events.load(std::memory_order_relaxed);
  return ChunksFor(test_max > 0 ? test_max : kDefaultMaxEvents) * kChunkEvents;
}

void SetMaxEventsForTesting(int64_t max_events) {
  std::lock_guard<std::mutex> lock(g_state_mu);
  g_test_max_events.store(max_events, std::memory_order_relaxed);
  const int64_t max = max_events > 0 ? max_events : MaxEventsFromEnv();
  g_max_chunks.store(ChunksFor(max), std::memory_order_relaxed);
  g_exhausted.store(false, std::memory_order_relaxed);
}

// ---- Snapshots and dumps ---------------------------------------------------------------------

Snapshot Take() {
  std::lock_guard<std::mutex> lock(g_dump_mu);
  return TakeInternal(nullptr);
}

void Clear() {
  std::lock_guard<std::mutex> lock(g_dump_mu);
  std::vector<Taken> taken;
  TakeInternal(&taken);
  for (const Taken& t : taken) Discard(t);
}

Format ResolveFormat(const std::string& path, Format format) {
  if (format == Format::kChromeTrace || format == Format::kTable) return format;
  MX_CHECK(format == Format::kAuto, kInvalidArgument)
      << "profiler dump: unknown format " << static_cast<int>(format)
      << ": expected 0 (by the file extension), 1 (Chrome trace JSON) or 2 (table)";
  auto ends_with = [&](const char* ext) {
    const size_t n = std::strlen(ext);
    if (path.size() < n) return false;
    for (size_t i = 0; i < n; ++i) {
      const char c = path[path.size() - n + i];
      if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != ext[i]) return false;
    }
    return true;
  };
  if (ends_with(".json")) return Format::kChromeTrace;
  if (ends_with(".txt")) return Format::kTable;
  MX_THROW(kInvalidArgument) << "profiler dump: cannot tell the format of '" << path
                             << "' from its extension: name it .json (Chrome trace) or .txt "
                                "(table), or choose the format explicitly";
}

std::string ChromeTrace(const Snapshot& s) {
  std::string out;
  out.reserve(256 + s.events.size() * 160);
  out.append("{\"traceEvents\":[");
  bool first = true;
  auto sep = [&] {
    out.append(first ? "\n" : ",\n");
    first = false;
  };
  // Name each device's process and each (device, thread) pair that ran an op.
  std::map<int, Context> devices;
  std::set<std::pair<int, int32_t>> lanes;
  for (const EventView& e : s.events) {
    devices.emplace(TracePid(e.ctx), e.ctx);
    lanes.emplace(TracePid(e.ctx), e.tid);
  }
  for (const auto& d : devices) {
    sep();
    out.append("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(d.first) +
               ",\"tid\":0,\"args\":{\"name\":");
    AppendJsonString(&out, d.second.is_gpu() ? DeviceName(d.second) : std::string("cpu"));
    out.append("}}");
    sep();
    out.append("{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + std::to_string(d.first) +
               ",\"tid\":0,\"args\":{\"sort_index\":" + std::to_string(d.first) + "}}");
  }
  for (const auto& l : lanes) {
    sep();
    out.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + std::to_string(l.first) +
               ",\"tid\":" + std::to_string(l.second) + ",\"args\":{\"name\":");
    AppendJsonString(&out, ThreadName(s, l.second));
    out.append("}}");
  }
  for (const EventView& e : s.events) {
    sep();
    out.append("{\"name\":");
    AppendJsonString(&out, e.name);
    out.append(",\"cat\":\"op\",\"ph\":\"X\",\"pid\":" + std::to_string(TracePid(e.ctx)) +
               ",\"tid\":" + std::to_string(e.tid) + ",\"ts\":");
    AppendMicros(&out, e.start);
    out.append(",\"dur\":");
    AppendMicros(&out, std::max<int64_t>(0, e.end - e.start));
    out.append(",\"args\":{\"device\":");
    AppendJsonString(&out, DeviceName(e.ctx));
    out.append(",\"queue_wait_us\":");
    AppendMicros(&out, std::max<int64_t>(0, e.start - e.push));
    if (e.failed) out.append(",\"failed\":true");
    out.append("}}");
  }
  out.append("\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"producer\":\"libmx\",\"ops\":" +
             std::to_string(s.events.size()) + ",\"dropped_ops\":" + std::to_string(s.dropped) +
             ",\"max_events\":" + std::to_string(MaxEvents()) + "}}\n");
  return out;
}

std::string Table(const Snapshot& s) {
  struct Row {
    std::string name;
    int64_t count = 0, total = 0, min = INT64_MAX, max = 0, wait = 0;
  };
  std::map<std::string, Row> by_name;
  int64_t total = 0, wait = 0, first = INT64_MAX, last = 0, failed = 0;
  for (const EventView& e : s.events) {
    Row& r = by_name[e.name];
    const int64_t d = std::max<int64_t>(0, e.end - e.start);
    const int64_t w = std::max<int64_t>(0, e.start - e.push);
    r.name = e.name;
    ++r.count;
    r.total += d;
    r.min = std::min(r.min, d);
    r.max = std::max(r.max, d);
    r.wait += w;
    total += d;
    wait += w;
    first = std::min(first, e.start);
    last = std::max(last, e.end);
    failed += e.failed ? 1 : 0;
  }
  std::vector<Row> rows;
  for (auto& kv : by_name) rows.push_back(std::move(kv.second));
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.total > b.total; });
  // A name is one column: control characters (a user's name may hold any byte) become '?'.
  auto printable = [](std::string n) {
    for (char& c : n)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return n;
  };
  size_t width = 5;
  for (const Row& r : rows) width = std::max(width, r.name.size());
  const int w = static_cast<int>(width);
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line,
                "libmx profile: %zu ops, %.3f ms of run time over %.3f ms, %" PRIu64
                " dropped (limit %" PRId64 " kept)%s\n",
                s.events.size(), total / 1e6, s.events.empty() ? 0.0 : (last - first) / 1e6,
                s.dropped, MaxEvents(), failed > 0 ? ", some failed" : "");
  out.append(line);
  if (failed > 0) {
    std::snprintf(line, sizeof line, "failed ops: %" PRId64 "\n", failed);
    out.append(line);
  }
  out.append("ops by total run time (start to completion); wait: push to start\n\n");
  std::snprintf(line, sizeof line, "%-*s %10s %12s %11s %11s %11s %8s %14s\n", w, "name", "count",
                "total (ms)", "mean (us)", "min (us)", "max (us)", "share", "mean wait (us)");
  out.append(line);
  const std::string rule(width + 84, '-');
  out.append(rule + "\n");
  for (const Row& r : rows) {
    std::snprintf(
        line, sizeof line, "%-*s %10" PRId64 " %12.3f %11.3f %11.3f %11.3f %7.2f%% %14.3f\n", w,
        printable(r.name).c_str(), r.count, r.total / 1e6,
        r.total / 1e3 / static_cast<double>(r.count), r.min / 1e3, r.max / 1e3,
        total > 0 ? 100.0 * static_cast<double>(r.total) / static_cast<double>(total) : 0.0,
        r.wait / 1e3 / static_cast<double>(r.count));
    out.append(line);
  }
  out.append(rule + "\n");
  std::snprintf(line, sizeof line, "%-*s %10zu %12.3f %11s %11s %11s %7.2f%% %14.3f\n", w, "total",
                s.events.size(), total / 1e6, "", "", "", rows.empty() ? 0.0 : 100.0,
                s.events.empty() ? 0.0 : wait / 1e3 / static_cast<double>(s.events.size()));
  out.append(line);
  return out;
}

namespace {

// Writes `text` to a temporary file beside `path` and renames it into place, so a reader never
// sees half a profile.
void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  // O_NONBLOCK: a FIFO at that name fails at once instead of waiting for a reader.
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  MX_CHECK(fd >= 0, kIO) << "profiler dump: cannot open '" << path
                         << "' for writing: " << std::strerror(errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    MX_THROW(kIO) << "profiler dump: cannot write '" << path << "': '" << tmp
                  << "' exists and is not a regular file";
  }
  size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    MX_THROW(kIO) << "profiler dump: cannot write '" << path << "': " << std::strerror(err);
  }
}

}  // namespace

void Dump(const std::string& path, Format format, bool reset) {
  MX_CHECK(!path.empty(), kInvalidArgument) << "profiler dump: the path is empty";
  const Format f = ResolveFormat(path, format);
  std::lock_guard<std::mutex> lock(g_dump_mu);
  std::vector<Taken> taken;
  const Snapshot s = TakeInternal(reset ? &taken : nullptr);
  // An empty profile is almost always a mistake (recording never started, the ops ran before it
  // did, or an earlier dump reset them): say so instead of writing a file that looks like one.
  if (s.events.empty()) {
    MX_THROW(kFailed) << "profiler dump: nothing recorded to write to '" << path << "': "
                      << (s.dropped > 0
                              ? std::to_string(s.dropped) + " ops were dropped (more than " +
                                    std::to_string(MaxEvents()) +
                                    " kept; raise MX_PROFILER_MAX_EVENTS or dump with reset "
                                    "more often)"
                              : std::string(State() ? "recording is on, but no op has completed "
                                                      "since it started or since the last reset"
                                                    : "no op was recorded since recording "
                                                      "started or since the last reset: set the "
                                                      "profiler state to 'run', run some ops, "
                                                      "then dump"));
  }
  WriteFile(path, f == Format::kChromeTrace ? ChromeTrace(s) : Table(s));
  // Only once the file is written: a failed dump loses nothing.
  for (const Taken& t : taken) Discard(t);
}

}  // namespace profiler
}  // namespace engine
}  // namespace mx
