// The engine's profiler: what it records (names, devices, workers, times) on both engines, the
// Chrome trace (parsed back by a strict JSON reader) and the table, dumps and resets, the event
// limit, bad inputs, and recording from many threads while dumps run (the TSan build runs this).
#include "engine/profiler.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
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

// ---- A small strict JSON reader: enough to prove a trace is JSON and to look inside it ------

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;

  const Json& operator[](const std::string& key) const {
    static const Json missing;
    auto it = obj.find(key);
    return it == obj.end() ? missing : it->second;
  }
  bool Has(const std::string& key) const { return obj.count(key) != 0; }
};

// Parses RFC 8259 JSON; throws std::runtime_error with the offset of the first problem.
class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}
  Json Parse() {
    Json v = Value();
    Space();
    if (i_ != s_.size()) Fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(i_));
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  void Expect(char c) {
    Space();
    if (i_ >= s_.size() || s_[i_] != c) Fail(std::string("expected '") + c + "'");
    ++i_;
  }
  // Consumes a ',' between members or elements; false at anything else.
  bool Comma() {
    Space();
    if (i_ >= s_.size() || s_[i_] != ',') return false;
    ++i_;
    return true;
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (s_.compare(i_, w.size(), w) != 0) return false;
    i_ += w.size();
    return true;
  }
  Json Value() {
    Space();
    if (i_ >= s_.size()) Fail("unexpected end");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      v.kind = Json::kObject;
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return v;
      }
      while (true) {
        Space();
        const std::string key = String();
        Expect(':');
        if (!v.obj.emplace(key, Value()).second) Fail("duplicate key '" + key + "'");
        if (!Comma()) break;
      }
      Expect('}');
    } else if (c == '[') {
      v.kind = Json::kArray;
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return v;
      }
      while (true) {
        v.arr.push_back(Value());
        if (!Comma()) break;
      }
      Expect(']');
    } else if (c == '"') {
      v.kind = Json::kString;
      v.str = String();
    } else if (Literal("true")) {
      v.kind = Json::kBool;
      v.b = true;
    } else if (Literal("false")) {
      v.kind = Json::kBool;
    } else if (Literal("null")) {
      v.kind = Json::kNull;
    } else {
      v.kind = Json::kNumber;
      const size_t start = i_;
      if (s_[i_] == '-') ++i_;
      if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) Fail("bad value");
      if (s_[i_] == '0' && i_ + 1 < s_.size() &&
          std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))
        Fail("leading zero");
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                                s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      size_t used = 0;
      v.num = std::stod(s_.substr(start, i_ - start), &used);
      if (used != i_ - start) Fail("bad number");
    }
    return v;
  }
  std::string String() {
    if (i_ >= s_.size() || s_[i_] != '"') Fail("expected a string");
    ++i_;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) Fail("unterminated string");
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) Fail("control character in a string");
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (i_ >= s_.size()) Fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) Fail("short \\u escape");
          const unsigned cp = static_cast<unsigned>(std::stoul(s_.substr(i_, 4), nullptr, 16));
          i_ += 4;
          // Enough for what the profiler escapes: control characters and U+FFFD.
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          } else {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          }
          break;
        }
        default:
          Fail("bad escape");
      }
    }
  }

  const std::string& s_;
  size_t i_ = 0;
};

Json ParseJson(const std::string& text) { return JsonParser(text).Parse(); }

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh directory for dumps, removed with its files at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mx_profiler_test_XXXXXX";
    const char* d = mkdtemp(tmpl);
    path_ = d != nullptr ? d : "";
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

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

// A trace parsed, with its "X" events and the names given to (pid, tid) lanes.
struct TraceView {
  std::shared_ptr<const Json> root;  // what `ops` point into
  std::vector<const Json*> ops;
  std::map<std::pair<int, int>, std::string> thread_names;
  std::map<int, std::string> process_names;
};
TraceView View(const std::string& text) {
  TraceView v;
  v.root = std::make_shared<const Json>(ParseJson(text));
  const Json& trace = *v.root;
  EXPECT_EQ(trace.kind, Json::kObject);
  EXPECT_EQ(trace["traceEvents"].kind, Json::kArray);
  for (const Json& e : trace["traceEvents"].arr) {
    const int pid = static_cast<int>(e["pid"].num), tid = static_cast<int>(e["tid"].num);
    if (e["ph"].str == "X") {
      v.ops.push_back(&e);
    } else if (e["ph"].str == "M" && e["name"].str == "thread_name") {
      v.thread_names[{pid, tid}] = e["args"]["name"].str;
    } else if (e["ph"].str == "M" && e["name"].str == "process_name") {
      v.process_names[pid] = e["args"]["name"].str;
    }
  }
  return v;
}

// Every test starts from an empty, stopped profiler and leaves it so: it is process-wide.
class ProfilerTest : public ::testing::TestWithParam<EngineConfig> {
 protected:
  void SetUp() override {
    profiler::SetState(false);
    profiler::SetMaxEventsForTesting(0);
    profiler::Clear();
    engine_ = Restart(GetParam().type, GetParam().cpu_workers);
  }
  void TearDown() override {
    Engine::Shutdown();
    profiler::SetState(false);
    profiler::SetMaxEventsForTesting(0);
    profiler::Clear();
  }
  bool threaded() const { return GetParam().type == EngineType::kThreaded; }
  Engine* engine_ = nullptr;
};

TEST_P(ProfilerTest, RecordsNamesDevicesWorkersAndTimes) {
  VarHandle a = engine_->NewVar(), b = engine_->NewVar();
  profiler::SetState(true);
  EXPECT_TRUE(profiler::State());
  for (int i = 0; i < 3; ++i)
    engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                      "fc1_forward");
  for (int i = 0; i < 2; ++i)
    engine_->PushSync([](RunContext) {}, Context::CPU(), &a, 1, &b, 1, FnProperty::kNormal, 0,
                      "relu1");
  engine_->WaitForAll();
  profiler::SetState(false);
  EXPECT_FALSE(profiler::State());

  const profiler::Snapshot s = profiler::Take();
  ASSERT_EQ(s.events.size(), 5u);
  EXPECT_EQ(s.dropped, 0u);
  std::map<std::string, int> counts;
  std::set<int32_t> tids;
  for (const auto& e : s.events) {
    ++counts[e.name];
    tids.insert(e.tid);
    EXPECT_EQ(e.ctx, Context::CPU());
    EXPECT_LE(0, e.push);
    EXPECT_LE(e.push, e.start);
    EXPECT_LE(e.start, e.end);
    EXPECT_FALSE(e.failed);
  }
  EXPECT_EQ(counts["fc1_forward"], 3);
  EXPECT_EQ(counts["relu1"], 2);
  for (size_t i = 1; i < s.events.size(); ++i)
    EXPECT_LE(s.events[i - 1].start, s.events[i].start) << "sorted by start";
  // Who ran them: the engine's workers, or (naive) the thread that pushed.
  std::map<int32_t, std::string> names(s.threads.begin(), s.threads.end());
  for (int32_t tid : tids) {
    ASSERT_TRUE(names.count(tid)) << tid;
    if (threaded()) {
      EXPECT_EQ(names[tid].rfind("cpu worker ", 0), 0u) << names[tid];
    } else {
      EXPECT_EQ(tid, profiler::ThreadId());
      EXPECT_EQ(names[tid], "main thread");
    }
  }

  // The Chrome trace: JSON, with complete events named, placed and timed.
  const TraceView v = View(profiler::ChromeTrace(s));
  const Json& trace = *v.root;
  ASSERT_EQ(v.ops.size(), 5u);
  std::map<std::string, int> trace_counts;
  for (const Json* e : v.ops) {
    ++trace_counts[(*e)["name"].str];
    EXPECT_EQ((*e)["pid"].num, 0);
    EXPECT_GE((*e)["ts"].num, 0);
    EXPECT_GE((*e)["dur"].num, 0);
    EXPECT_EQ((*e)["args"]["device"].str, "cpu(0)");
    EXPECT_GE((*e)["args"]["queue_wait_us"].num, 0);
    const std::pair<int, int> lane{0, static_cast<int>((*e)["tid"].num)};
    ASSERT_TRUE(v.thread_names.count(lane)) << "every lane is named";
    EXPECT_EQ(v.thread_names.at(lane), names[lane.second]);
  }
  EXPECT_EQ(trace_counts["fc1_forward"], 3);
  EXPECT_EQ(trace_counts["relu1"], 2);
  EXPECT_EQ(v.process_names.at(0), "cpu");
  EXPECT_EQ(trace["otherData"]["ops"].num, 5);
  EXPECT_EQ(trace["otherData"]["dropped_ops"].num, 0);

  // The table: one row per name, with its count, most total time first.
  const std::string table = profiler::Table(s);
  EXPECT_NE(table.find("5 ops"), std::string::npos) << table;
  for (const char* h : {"count", "total (ms)", "mean (us)", "min (us)", "max (us)", "wait"})
    EXPECT_NE(table.find(h), std::string::npos) << h << "\n" << table;
  std::istringstream rows(table);
  std::string line;
  std::map<std::string, long> table_counts;  // NOLINT(runtime/int): istream's type
  while (std::getline(rows, line)) {
    std::istringstream row(line);
    std::string name;
    long count = 0;  // NOLINT(runtime/int)
    if (row >> name >> count) table_counts[name] = count;
  }
  EXPECT_EQ(table_counts["fc1_forward"], 3) << table;
  EXPECT_EQ(table_counts["relu1"], 2) << table;
  EXPECT_EQ(table_counts["total"], 5) << table;

  engine_->DeleteVar(a);
  engine_->DeleteVar(b);
  engine_->WaitForAll();
}

TEST_P(ProfilerTest, RecordsNothingWhenOffAndKeepsRecordsWhenStopped) {
  VarHandle a = engine_->NewVar();
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "before");
  engine_->WaitForAll();
  EXPECT_TRUE(profiler::Take().events.empty());
  profiler::SetState(true);
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "during");
  engine_->WaitForAll();
  profiler::SetState(false);
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "after");
  engine_->WaitForAll();
  const profiler::Snapshot s = profiler::Take();
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "during");
  // Recording again appends.
  profiler::SetState(true);
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "again");
  engine_->WaitForAll();
  profiler::SetState(false);
  EXPECT_EQ(profiler::Take().events.size(), 2u);
  engine_->DeleteVar(a);
  engine_->WaitForAll();
}

// An op pushed while recording is recorded even if it completes after recording stopped. (Only
// the threaded engine: the naive one runs an op before its push returns.)
class ProfilerThreadedTest : public ProfilerTest {};
TEST_P(ProfilerThreadedTest, OpPushedWhileRecordingIsRecordedWhenItCompletesLater) {
  VarHandle a = engine_->NewVar();
  std::atomic<bool> started{false}, release{false};
  profiler::SetState(true);
  engine_->PushSync(
      [&](RunContext) {
        started = true;
        SpinUntil([&] { return release.load(); });
      },
      Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0, "long_op");
  ASSERT_TRUE(SpinUntil([&] { return started.load(); }));
  profiler::SetState(false);
  release = true;
  engine_->WaitForAll();
  const profiler::Snapshot s = profiler::Take();
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "long_op");
  engine_->DeleteVar(a);
  engine_->WaitForAll();
}

// A failing op is recorded and marked; the dependents it makes the engine skip never ran.
TEST_P(ProfilerTest, FailedOpIsMarkedAndSkippedOpsAreNotRecorded) {
  VarHandle a = engine_->NewVar(), b = engine_->NewVar();
  profiler::SetState(true);
  engine_->PushSync([](RunContext) { MX_THROW(kInvalidArgument) << "bad weight"; }, Context::CPU(),
                    nullptr, 0, &a, 1, FnProperty::kNormal, 0, "bad_op");
  engine_->PushSync([](RunContext) {}, Context::CPU(), &a, 1, &b, 1, FnProperty::kNormal, 0,
                    "skipped_op");
  EXPECT_THROW(engine_->WaitForAll(), Error);
  profiler::SetState(false);
  const profiler::Snapshot s = profiler::Take();
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "bad_op");
  EXPECT_TRUE(s.events[0].failed);
  const TraceView v = View(profiler::ChromeTrace(s));
  ASSERT_EQ(v.ops.size(), 1u);
  EXPECT_TRUE((*v.ops[0])["args"]["failed"].b);
  EXPECT_NE(profiler::Table(s).find("failed ops: 1"), std::string::npos);
  engine_->DeleteVar(a);
  engine_->DeleteVar(b);
  engine_->WaitForAll();
}

// The name an op carries may die with the op; the profile keeps a copy.
TEST_P(ProfilerTest, KeepsNamesAfterTheOpsStringsAreGone) {
  VarHandle a = engine_->NewVar();
  profiler::SetState(true);
  {
    auto name = std::make_unique<std::string>("layer7_conv_forward");
    engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                      name->c_str());
    engine_->WaitForAll();
    name->assign(name->size(), 'x');  // a stale pointer would now read "xxx..."
  }
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1);  // no name
  // Names a JSON string must escape, and bytes that are not UTF-8.
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "quote\" back\\ tab\t \xff end");
  engine_->WaitForAll();
  profiler::SetState(false);
  const profiler::Snapshot s = profiler::Take();
  ASSERT_EQ(s.events.size(), 3u);
  EXPECT_EQ(s.events[0].name, "layer7_conv_forward");
  EXPECT_EQ(s.events[1].name, "(unnamed)");
  const TraceView v = View(profiler::ChromeTrace(s));
  ASSERT_EQ(v.ops.size(), 3u);
  EXPECT_EQ((*v.ops[2])["name"].str, "quote\" back\\ tab\t \xef\xbf\xbd end");
  EXPECT_NE(profiler::Table(s).find("quote\" back\\ tab? "), std::string::npos)
      << "control characters in a name do not break the table's lines";
  engine_->DeleteVar(a);
  engine_->WaitForAll();
}

TEST_P(ProfilerTest, DumpsByExtensionAndResets) {
  TempDir dir;
  VarHandle a = engine_->NewVar();
  profiler::SetState(true);
  for (int i = 0; i < 4; ++i)
    engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                      "step");
  engine_->WaitForAll();
  profiler::Dump(dir.File("p.json"), profiler::Format::kAuto, false);
  profiler::Dump(dir.File("p.TXT"), profiler::Format::kAuto, false);
  profiler::Dump(dir.File("trace.out"), profiler::Format::kChromeTrace, false);
  const TraceView v = View(ReadFile(dir.File("p.json")));
  EXPECT_EQ(v.ops.size(), 4u);
  EXPECT_EQ(View(ReadFile(dir.File("trace.out"))).ops.size(), 4u);
  EXPECT_NE(ReadFile(dir.File("p.TXT")).find("step"), std::string::npos);
  EXPECT_NE(access(dir.File("p.json.tmp").c_str(), F_OK), 0) << "the temporary file is gone";

  // A dump with reset writes everything, then starts afresh; a dump with nothing is an error.
  profiler::Dump(dir.File("r.json"), profiler::Format::kAuto, true);
  EXPECT_EQ(View(ReadFile(dir.File("r.json"))).ops.size(), 4u);
  EXPECT_TRUE(profiler::Take().events.empty());
  const Error e =
      Catch([&] { profiler::Dump(dir.File("empty.json"), profiler::Format::kAuto, false); });
  EXPECT_EQ(e.code(), ErrorCode::kFailed);
  EXPECT_NE(std::string(e.what()).find("nothing recorded"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("empty.json"), std::string::npos) << e.what();
  EXPECT_NE(access(dir.File("empty.json").c_str(), F_OK), 0) << "no file for an empty profile";
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "next");
  engine_->WaitForAll();
  profiler::SetState(false);
  profiler::Dump(dir.File("next.json"), profiler::Format::kAuto, false);
  const TraceView n = View(ReadFile(dir.File("next.json")));
  ASSERT_EQ(n.ops.size(), 1u);
  EXPECT_EQ((*n.ops[0])["name"].str, "next");
  engine_->DeleteVar(a);
  engine_->WaitForAll();
}

TEST_P(ProfilerTest, BadDumpsAreErrorsThatLoseNothing) {
  TempDir dir;
  VarHandle a = engine_->NewVar();
  profiler::SetState(true);
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "kept");
  engine_->WaitForAll();
  profiler::SetState(false);

  Error e = Catch([&] { profiler::Dump("", profiler::Format::kAuto, true); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("path is empty"), std::string::npos) << e.what();
  e = Catch([&] { profiler::Dump(dir.File("p.csv"), profiler::Format::kAuto, true); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("p.csv"), std::string::npos) << e.what();
  e = Catch([&] { profiler::Dump(dir.File("p.json"), static_cast<profiler::Format>(7), true); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("unknown format 7"), std::string::npos) << e.what();
  e = Catch([&] { profiler::Dump(dir.File("no/such/dir/p.json"), profiler::Format::kAuto, true); });
  EXPECT_EQ(e.code(), ErrorCode::kIO);
  EXPECT_NE(std::string(e.what()).find("no/such/dir/p.json"), std::string::npos) << e.what();
  // A directory in the way: the rename fails, and the temporary file is removed.
  ASSERT_EQ(mkdir(dir.File("d.json").c_str(), 0755), 0);
  e = Catch([&] { profiler::Dump(dir.File("d.json"), profiler::Format::kAuto, true); });
  EXPECT_EQ(e.code(), ErrorCode::kIO);
  EXPECT_NE(std::string(e.what()).find("d.json"), std::string::npos) << e.what();
  EXPECT_NE(access(dir.File("d.json.tmp").c_str(), F_OK), 0);

  // Nothing was lost by the failed dumps.
  const profiler::Snapshot s = profiler::Take();
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "kept");
  engine_->DeleteVar(a);
  engine_->WaitForAll();
}

// Past the limit ops are counted, not kept, and every dump says how many. Threads take room in
// whole chunks, so with several workers some ops may drop while another worker's chunk still has
// room: the limit bounds what is kept, and every op is either kept or counted.
TEST_P(ProfilerTest, OpsPastTheLimitAreCountedAsDropped) {
  profiler::SetMaxEventsForTesting(1);  // one chunk
  EXPECT_EQ(profiler::MaxEvents(), profiler::kChunkEvents);
  VarHandle a = engine_->NewVar();
  profiler::SetState(true);
  const int n = static_cast<int>(profiler::kChunkEvents) + 10;
  for (int i = 0; i < n; ++i)
    engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                      "op");
  engine_->WaitForAll();
  profiler::SetState(false);
  const profiler::Snapshot s = profiler::Take();
  EXPECT_LE(static_cast<int64_t>(s.events.size()), profiler::kChunkEvents);
  EXPECT_GE(s.dropped, 10u);
  EXPECT_EQ(s.events.size() + s.dropped, static_cast<uint64_t>(n));
  if (GetParam().cpu_workers <= 1) {  // one recording thread: exactly the limit is kept
    EXPECT_EQ(static_cast<int64_t>(s.events.size()), profiler::kChunkEvents);
  }
  const std::string dropped = std::to_string(s.dropped);
  EXPECT_EQ(ParseJson(profiler::ChromeTrace(s))["otherData"]["dropped_ops"].num,
            static_cast<double>(s.dropped));
  EXPECT_NE(profiler::Table(s).find(dropped + " dropped"), std::string::npos);
  // Clearing frees the room again.
  profiler::Clear();
  profiler::SetState(true);
  engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &a, 1, FnProperty::kNormal, 0,
                    "op");
  engine_->WaitForAll();
  profiler::SetState(false);
  const profiler::Snapshot t = profiler::Take();
  EXPECT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.dropped, 0u);
  engine_->DeleteVar(a);
  engine_->WaitForAll();
}

// Several threads push named ops while another dumps with reset over and over: every op lands in
// exactly one dump. Checks the per-thread buffers and the reset's bookkeeping; under TSan, that
// recording and dumping share no unguarded state.
TEST_P(ProfilerTest, ConcurrentRecordingAndDumpsLoseAndDuplicateNothing) {
  TempDir dir;
  constexpr int kThreads = 3;
  const int per_thread = testing::kUnderTsan ? 150 : 600;
  const char* const kNames[kThreads] = {"pusher0_op", "pusher1_op", "pusher2_op"};
  std::vector<VarHandle> vars;
  for (int t = 0; t < kThreads; ++t) vars.push_back(engine_->NewVar());
  profiler::SetState(true);
  std::atomic<int> done{0};
  std::vector<std::thread> pushers;
  for (int t = 0; t < kThreads; ++t) {
    pushers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        engine_->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &vars[t], 1,
                          FnProperty::kNormal, 0, kNames[t]);
      done.fetch_add(1);
    });
  }
  std::map<std::string, int> seen;
  int dumps = 0;
  auto dump_and_count = [&] {
    const std::string path = dir.File("c" + std::to_string(dumps++) + ".json");
    try {
      profiler::Dump(path, profiler::Format::kAuto, true);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kFailed) << e.what();  // nothing new since the last one
      return;
    }
    const TraceView v = View(ReadFile(path));
    for (const Json* e : v.ops) ++seen[(*e)["name"].str];
    std::remove(path.c_str());
  };
  // Dumps run while the pushers push, as far as the scheduler lets them overlap; the counts must
  // come out right however they interleave.
  do {
    dump_and_count();
  } while (done.load() < kThreads);
  for (auto& t : pushers) t.join();
  engine_->WaitForAll();
  profiler::SetState(false);
  dump_and_count();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(seen[kNames[t]], per_thread) << kNames[t];
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads));
  for (VarHandle v : vars) engine_->DeleteVar(v);
  engine_->WaitForAll();
}

INSTANTIATE_TEST_SUITE_P(Engines, ProfilerTest,
                         ::testing::Values(EngineConfig{EngineType::kNaive, 0},
                                           EngineConfig{EngineType::kThreaded, 1},
                                           EngineConfig{EngineType::kThreaded, 2}),
                         [](const ::testing::TestParamInfo<EngineConfig>& info) {
                           return info.param.Label();
                         });

INSTANTIATE_TEST_SUITE_P(Engines, ProfilerThreadedTest,
                         ::testing::Values(EngineConfig{EngineType::kThreaded, 1},
                                           EngineConfig{EngineType::kThreaded, 2}),
                         [](const ::testing::TestParamInfo<EngineConfig>& info) {
                           return info.param.Label();
                         });

// Not tied to an engine: the state and the environment's limit.
TEST(ProfilerStateTest, MalformedEventLimitIsAnErrorAndRecordingStaysOff) {
  Engine::Shutdown();  // no engine threads while the environment changes
  profiler::SetState(false);
  profiler::SetMaxEventsForTesting(0);
  for (const char* bad : {"abc", "0", "-5", "12x", "99999999999999999999"}) {
    ASSERT_EQ(setenv("MX_PROFILER_MAX_EVENTS", bad, 1), 0);
    const Error e = Catch([] { profiler::SetState(true); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(std::string(e.what()).find("MX_PROFILER_MAX_EVENTS"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    EXPECT_FALSE(profiler::State()) << bad;
  }
  ASSERT_EQ(setenv("MX_PROFILER_MAX_EVENTS", "5000", 1), 0);
  profiler::SetState(true);
  EXPECT_EQ(profiler::MaxEvents(), 5 * profiler::kChunkEvents);  // whole chunks
  profiler::SetState(false);
  ASSERT_EQ(unsetenv("MX_PROFILER_MAX_EVENTS"), 0);
  profiler::SetState(true);
  EXPECT_EQ(profiler::MaxEvents(), profiler::kDefaultMaxEvents);
  profiler::SetState(false);
}

}  // namespace
}  // namespace engine
}  // namespace mx
