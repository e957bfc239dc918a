// The differential test: thousands of random ops over a few dozen variables, each reading some and
// writing others with a deterministic hash of what it reads, must leave exactly the values of
// running the same ops serially in push order.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "engine/engine.h"
#include "engine_test_util.h"

namespace mx {
namespace engine {
namespace {

using testing::EngineConfig;

uint64_t Mix(uint64_t h, uint64_t x) {
  // splitmix64 finalizer over the running hash: any reordering changes the result.
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

struct RandomOp {
  std::vector<int> reads;
  std::vector<int> writes;
  FnProperty prop = FnProperty::kNormal;
  int priority = 0;
  bool cached = false;
};

// Applies `op` number `id` to `vals`: every write becomes a hash of the op id, all reads and its
// own old value.
void Apply(const RandomOp& op, int id, std::vector<uint64_t>* vals) {
  uint64_t h = Mix(0, static_cast<uint64_t>(id));
  for (int r : op.reads) h = Mix(h, (*vals)[r]);
  for (int w : op.writes) (*vals)[w] = Mix(h, (*vals)[w]);
}

std::vector<RandomOp> MakeOps(uint32_t seed, int n_ops, int n_vars) {
  std::mt19937 rng(seed);
  std::vector<RandomOp> ops(n_ops);
  for (auto& op : ops) {
    const int n_read = static_cast<int>(rng() % 4);
    const int n_write = static_cast<int>(rng() % 3);  // 0 writes: a pure reader
    for (int i = 0; i < n_read; ++i) op.reads.push_back(static_cast<int>(rng() % n_vars));
    for (int i = 0; i < n_write; ++i) op.writes.push_back(static_cast<int>(rng() % n_vars));
    // Occasionally list a written var among the reads too (it must count as a write).
    if (!op.writes.empty() && rng() % 8 == 0) op.reads.push_back(op.writes[0]);
    const uint32_t kind = rng() % 16;
    if (kind == 0) op.prop = FnProperty::kCPUPrioritized;
    if (kind == 1) op.prop = FnProperty::kAsync;
    // Cheap ops run on this (the pushing) thread whenever their variables are free at push time.
    if (kind >= 2 && kind < 6) op.prop = FnProperty::kCheap;
    op.priority = static_cast<int>(rng() % 5);
    op.cached = rng() % 10 == 0;
  }
  return ops;
}

class RandomDifferentialTest : public ::testing::TestWithParam<EngineConfig> {};

TEST_P(RandomDifferentialTest, MatchesSerialExecution) {
  const uint32_t seed = static_cast<uint32_t>(std::random_device{}());
  SCOPED_TRACE("seed=" + std::to_string(seed) + " engine=" + GetParam().Label());
  std::printf("[ random ] seed=%u engine=%s\n", seed, GetParam().Label().c_str());
  constexpr int kVars = 32;
  const int n_ops = testing::kUnderTsan ? 1500 : 5000;
  const std::vector<RandomOp> ops = MakeOps(seed, n_ops, kVars);

  std::vector<uint64_t> expected(kVars);
  for (int i = 0; i < kVars; ++i) expected[i] = static_cast<uint64_t>(i);
  for (int id = 0; id < n_ops; ++id) Apply(ops[id], id, &expected);

  Engine* engine = testing::Restart(GetParam().type, GetParam().cpu_workers);
  std::vector<VarHandle> vars(kVars);
  for (auto& v : vars) v = engine->NewVar();
  std::vector<uint64_t> vals(kVars);
  for (int i = 0; i < kVars; ++i) vals[i] = static_cast<uint64_t>(i);

  std::vector<VarHandle> rv, wv;
  for (int id = 0; id < n_ops; ++id) {
    const RandomOp& op = ops[id];
    rv.clear();
    wv.clear();
    for (int r : op.reads) rv.push_back(vars[r]);
    for (int w : op.writes) wv.push_back(vars[w]);
    const RandomOp* p = &op;
    std::vector<uint64_t>* out = &vals;
    if (op.cached) {
      OprHandle h = engine->NewOperator(
          [p, id, out](RunContext, CallbackOnComplete done) {
            Apply(*p, id, out);
            done();
          },
          rv.data(), static_cast<int>(rv.size()), wv.data(), static_cast<int>(wv.size()), op.prop);
      engine->PushOperator(h, Context::CPU(), op.priority);
      engine->DeleteOperator(h);
    } else {
      engine->PushSync([p, id, out](RunContext) { Apply(*p, id, out); }, Context::CPU(), rv.data(),
                       static_cast<int>(rv.size()), wv.data(), static_cast<int>(wv.size()), op.prop,
                       op.priority);
    }
    // Waits in the middle of the stream exercise the probe op under load.
    if (id % 997 == 0) engine->WaitForVar(vars[id % kVars]);
  }
  engine->WaitForAll();
  for (int i = 0; i < kVars; ++i) EXPECT_EQ(vals[i], expected[i]) << "var " << i;
  for (auto& v : vars) engine->DeleteVar(v);
  Engine::Shutdown();
}

INSTANTIATE_TEST_SUITE_P(Engines, RandomDifferentialTest,
                         ::testing::Values(EngineConfig{EngineType::kNaive, 1},
                                           EngineConfig{EngineType::kThreaded, 1},
                                           EngineConfig{EngineType::kThreaded, 2},
                                           EngineConfig{EngineType::kThreaded, 4}),
                         [](const auto& info) { return info.param.Label(); });

}  // namespace
}  // namespace engine
}  // namespace mx
