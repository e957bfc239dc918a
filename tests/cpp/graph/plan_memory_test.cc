// PlanMemory: in place, sharing by liveness, external entries, real dtype sizes, and a generic
// check of any plan by simulating execution over fake addresses (random DAGs, printed seed).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <set>

#include "graph/graph.h"
#include "graph_test_util.h"

namespace mx {
namespace {

using test::Apply;
using test::HasOp;
using test::Var;

uint32_t EntryOf(const Graph& g, const NodeEntry& e) {
  return g.indexed().entry_id(g.indexed().node_id(e.node.get()), e.index);
}

size_t Bytes(const Graph& g, uint32_t eid) {
  return static_cast<size_t>(g.shapes[eid].Size()) * DTypeSize(static_cast<DType>(g.dtypes[eid]));
}

// Infers shapes and types (variables carry __shape__ / __dtype__) and makes every variable and
// every output external, as an executor does.
Graph Prepare(const std::vector<NodeEntry>& outputs, PlanOptions* options) {
  Graph g = Graph::FromOutputs(outputs);
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(InferType(&g), 0u);
  const IndexedGraph& idx = g.indexed();
  for (uint32_t nid : idx.input_nodes()) options->external_entries.push_back(idx.entry_id(nid, 0));
  for (const auto& e : idx.outputs()) options->external_entries.push_back(idx.entry_id(e));
  return g;
}

NodeEntry TypedVar(const std::string& name, const std::string& shape,
                   const std::string& dtype = "float32") {
  NodeEntry v = Var(name, shape);
  v.node->user_attrs["__dtype__"] = dtype;
  return v;
}

bool DeclaresInplace(const Node& n, int input, int output) {
  if (!n.attrs.op->inplace) return false;
  for (const auto& [i, o] : n.attrs.op->inplace(n.attrs)) {
    if (i == input && o == output) return true;
  }
  return false;
}

// Runs the graph on fake memory: each storage id remembers which entry was written to it last.
// Every read must find its own entry still there (nothing overwrote a live value); outputs may
// share an input's storage only as a declared in-place pair; sizes fit; totals add up.
void CheckPlan(const Graph& g, const PlanOptions& options) {
  const IndexedGraph& idx = g.indexed();
  std::set<uint32_t> external(options.external_entries.begin(), options.external_entries.end());
  std::set<uint32_t> null(options.null_entries.begin(), options.null_entries.end());
  size_t naive = 0;
  for (uint32_t eid = 0; eid < idx.num_entries(); ++eid) {
    const int sid = g.storage_id[eid];
    if (external.count(eid)) {
      ASSERT_EQ(sid, kExternalStorage) << "entry " << eid;
    } else if (null.count(eid)) {
      ASSERT_EQ(sid, kNullStorage) << "entry " << eid;
    } else {
      ASSERT_GE(sid, 0) << "entry " << eid;
      ASSERT_LT(static_cast<size_t>(sid), g.storage_bytes.size());
      ASSERT_GE(g.storage_bytes[sid], Bytes(g, eid)) << "entry " << eid << " does not fit";
      naive += Bytes(g, eid);
    }
  }
  size_t planned = 0;
  for (size_t b : g.storage_bytes) planned += b;
  EXPECT_EQ(g.planned_bytes, planned);
  EXPECT_EQ(g.naive_bytes, naive);

  std::vector<int64_t> owner(g.storage_bytes.size(), -1);
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const IndexedGraph::INode& inode = idx[nid];
    for (const auto& e : inode.inputs) {
      const uint32_t in = idx.entry_id(e);
      if (g.storage_id[in] < 0) continue;
      ASSERT_EQ(owner[g.storage_id[in]], in)
          << "node '" << inode.node->attrs.name << "' reads entry " << in
          << " after its storage was overwritten";
    }
    std::set<int> written;
    for (uint32_t o = 0; o < static_cast<uint32_t>(inode.node->num_outputs()); ++o) {
      const uint32_t out = idx.entry_id(nid, o);
      const int sid = g.storage_id[out];
      if (sid < 0) continue;
      ASSERT_TRUE(written.insert(sid).second) << "two outputs of one node share storage";
      for (size_t i = 0; i < inode.inputs.size(); ++i) {
        const uint32_t in = idx.entry_id(inode.inputs[i]);
        if (g.storage_id[in] != sid) continue;
        ASSERT_EQ(g.inplace_of[out], static_cast<int>(in)) << "undeclared sharing with an input";
        ASSERT_TRUE(DeclaresInplace(*inode.node, static_cast<int>(i), static_cast<int>(o)));
      }
      owner[sid] = out;
    }
  }
}

TEST(PlanMemory, ChainRunsInPlace) {
  NodeEntry y = TypedVar("x", "(64,32)");
  for (const char* op : {"exp", "relu", "sin", "negative", "tanh", "sigmoid"}) {
    y = Apply(op, std::string(op) + "0", {y});
  }
  PlanOptions opt;
  Graph g = Prepare({y}, &opt);
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_LE(g.storage_bytes.size(), 2u);
  EXPECT_EQ(g.planned_bytes, 64u * 32 * 4);
  EXPECT_EQ(g.naive_bytes, 5u * 64 * 32 * 4);  // the last output is the caller's
  const NodeEntry relu = y.node->inputs[0].node->inputs[0].node->inputs[0].node->inputs[0];
  EXPECT_EQ(g.inplace_of[EntryOf(g, relu)], static_cast<int>(EntryOf(g, relu.node->inputs[0])));
}

TEST(PlanMemory, ValueReadTwiceIsNotOverwrittenInPlace) {
  NodeEntry x = TypedVar("x", "(10,)");
  NodeEntry a = Apply("exp", "a", {x});
  NodeEntry b = Apply("sin", "b", {a});  // a is still read by c
  NodeEntry c = Apply("elemwise_mul", "c", {a, b});
  NodeEntry d = Apply("negative", "d", {c});
  PlanOptions opt;
  Graph g = Prepare({d}, &opt);
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_NE(g.storage_id[EntryOf(g, b)], g.storage_id[EntryOf(g, a)]);
  EXPECT_EQ(g.inplace_of[EntryOf(g, b)], -1);
  // c is the last reader of both a and b: it takes one of them over.
  EXPECT_GE(g.inplace_of[EntryOf(g, c)], 0);
}

TEST(PlanMemory, SameInputTwiceIsNotOverwrittenInPlace) {
  NodeEntry a = Apply("exp", "a", {TypedVar("x", "(10,)")});
  NodeEntry c = Apply("elemwise_add", "c", {a, a});
  PlanOptions opt;
  Graph g = Prepare({Apply("negative", "d", {c})}, &opt);
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_EQ(g.inplace_of[EntryOf(g, c)], -1);
}

TEST(PlanMemory, ExternalEntriesAreNeverShared) {
  NodeEntry x = TypedVar("x", "(8,)");
  NodeEntry a = Apply("exp", "a", {x});
  NodeEntry b = Apply("sin", "b", {a});
  NodeEntry c = Apply("cos", "c", {b});
  NodeEntry d = Apply("negative", "d", {c});
  PlanOptions opt;
  Graph g = Prepare({d}, &opt);
  opt.external_entries.push_back(EntryOf(g, b));  // e.g. a monitored or grad-req'd value
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_EQ(g.storage_id[EntryOf(g, x)], kExternalStorage);
  EXPECT_EQ(g.storage_id[EntryOf(g, b)], kExternalStorage);
  EXPECT_EQ(g.inplace_of[EntryOf(g, a)], -1);  // x is the caller's: never overwritten
  EXPECT_EQ(g.inplace_of[EntryOf(g, c)], -1);  // nor is b
  EXPECT_EQ(g.inplace_of[EntryOf(g, b)], -1);
}

TEST(PlanMemory, RealDTypeSizes) {
  NodeEntry a = Apply("exp", "a", {TypedVar("x64", "(2,3)", "float64")});
  NodeEntry b = Apply("exp", "b", {TypedVar("x8", "(2,3)", "int8")});
  // a is read again after b is made, so both are live together.
  std::vector<NodeEntry> outputs = {Apply("negative", "a2", {a}), Apply("negative", "b2", {b}),
                                    Apply("sin", "a3", {a})};
  PlanOptions opt;
  Graph g = Prepare(outputs, &opt);
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_EQ(g.storage_bytes[g.storage_id[EntryOf(g, a)]], 48u);
  EXPECT_EQ(g.storage_bytes[g.storage_id[EntryOf(g, b)]], 6u);
  EXPECT_EQ(g.naive_bytes, 54u);
  EXPECT_EQ(g.planned_bytes, 54u);

  // Once a is dead, its 48 bytes serve the 6-byte int8 value.
  PlanOptions opt2;
  Graph g2 = Prepare({outputs[0], outputs[1]}, &opt2);
  PlanMemory(&g2, opt2);
  CheckPlan(g2, opt2);
  EXPECT_EQ(g2.storage_id[EntryOf(g2, a)], g2.storage_id[EntryOf(g2, b)]);
  EXPECT_EQ(g2.planned_bytes, 48u);
}

TEST(PlanMemory, FreedStorageIsReused) {
  // Two long chains after each other: the second reuses the first's storage once it is dead.
  NodeEntry a = TypedVar("x", "(100,)");
  for (int i = 0; i < 4; ++i) a = Apply("sin", "s" + std::to_string(i), {a});
  NodeEntry keep = Apply("elemwise_add", "k", {a, a});  // not in place: a is read twice
  NodeEntry b = Apply("exp", "e", {keep});
  PlanOptions opt;
  Graph g = Prepare({b}, &opt);
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_EQ(g.storage_bytes.size(), 2u);
  EXPECT_EQ(g.planned_bytes, 800u);
}

TEST(PlanMemory, NullEntriesGetNoStorage) {
  NodeEntry x = TypedVar("x", "(4,)");
  NodeEntry unread = Apply("exp", "unread", {x});
  NodeEntry y = Apply("sin", "y", {x});
  PlanOptions opt;
  Graph g = Prepare({y, unread}, &opt);
  // Drop `unread` from the outputs' externals, then call it null (a skipped output).
  opt.external_entries.pop_back();
  opt.null_entries.push_back(EntryOf(g, unread));
  EXPECT_THROW(PlanMemory(&g, opt), Error);  // a graph output must be the caller's
  PlanOptions opt2;
  Graph g2 = Prepare({y}, &opt2);
  PlanMemory(&g2, opt2);
  CheckPlan(g2, opt2);
}

TEST(PlanMemory, UnknownShapesAreAnError) {
  Graph g = Graph::FromOutputs({Apply("exp", "e", {Apply("exp", "i", {Var("x")})})});
  PlanOptions opt;
  opt.external_entries = {0, 2};
  try {
    PlanMemory(&g, opt);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node 'i'"), std::string::npos) << e.what();
  }
}

TEST(PlanMemory, DumpListsEntriesAndTotals) {
  NodeEntry a = Apply("exp", "a", {TypedVar("x", "(2,3)")});
  PlanOptions opt;
  Graph g = Prepare({Apply("sin", "b", {a})}, &opt);
  PlanMemory(&g, opt);
  const std::string dump = DumpMemoryPlan(g);
  EXPECT_NE(dump.find("a[0]"), std::string::npos) << dump;
  EXPECT_NE(dump.find("(2,3)"), std::string::npos) << dump;
  EXPECT_NE(dump.find("storage 0 24 bytes"), std::string::npos) << dump;
  EXPECT_NE(dump.find("external"), std::string::npos) << dump;
  EXPECT_NE(dump.find("planned 24 bytes in 1 storage blocks, naive 24 bytes"), std::string::npos)
      << dump;
}

TEST(PlanMemory, TrainingGraphKeepsOnlyWhatBackwardReads) {
  if (!HasOp("FullyConnected") || !HasOp("Activation") || !HasOp("SoftmaxOutput")) {
    GTEST_SKIP() << "MLP ops not registered yet";
  }
  NodeEntry x = TypedVar("data", "(8,64)");
  std::vector<NodeEntry> params;
  for (int i = 0; i < 6; ++i) {
    const std::string fc = "fc" + std::to_string(i);
    params.push_back(Var(fc + "_weight"));
    params.push_back(Var(fc + "_bias"));
    x = Apply("FullyConnected", fc, {x, params[params.size() - 2], params.back()},
              {{"num_hidden", "64"}});
    x = Apply("Activation", "relu" + std::to_string(i), {x}, {{"act_type", "relu"}});
  }
  NodeEntry loss = Apply("SoftmaxOutput", "softmax", {x, Var("label")});
  std::vector<NodeEntry> outputs = {loss};
  for (const NodeEntry& g : Gradient({loss}, {NodeEntry{}}, params)) outputs.push_back(g);
  PlanOptions opt;
  Graph g = Prepare(outputs, &opt);
  const IndexedGraph& idx = g.indexed();
  std::vector<int> readers(idx.num_entries(), 0);
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    for (const auto& e : idx[nid].inputs) ++readers[idx.entry_id(e)];
  }
  std::set<uint32_t> ext(opt.external_entries.begin(), opt.external_entries.end());
  for (uint32_t eid = 0; eid < idx.num_entries(); ++eid) {
    if (readers[eid] == 0 && !ext.count(eid)) opt.null_entries.push_back(eid);
  }
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  // relu runs in place on its FullyConnected output, which backward never reads; the relu
  // outputs live on for backward, the backward chain alternates between two more buffers.
  EXPECT_EQ(g.inplace_of[EntryOf(g, x)], static_cast<int>(EntryOf(g, x.node->inputs[0])));
  EXPECT_LE(g.storage_bytes.size(), 6u + 3u);
  EXPECT_LE(g.planned_bytes * 2, g.naive_bytes) << DumpMemoryPlan(g);
}

// A random DAG of unary and binary elementwise ops over a few shape/dtype classes, with some
// entries made outputs (external) and some unread ones null.
void RandomGraphCase(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::pair<std::string, std::string>> classes = {{"(4,)", "float32"},
                                                                    {"(16,)", "float32"},
                                                                    {"(3,5)", "float64"},
                                                                    {"(4,)", "float64"},
                                                                    {"(300,)", "float32"}};
  const char* unary[] = {"exp", "relu", "sin", "negative", "tanh", "_plus_scalar"};
  const char* binary[] = {"elemwise_add", "elemwise_mul", "elemwise_sub"};
  std::vector<std::vector<NodeEntry>> pool(classes.size());
  std::vector<NodeEntry> all;
  for (size_t c = 0; c < classes.size(); ++c) {
    if (rng() % 3 == 0) continue;
    pool[c].push_back(TypedVar("v" + std::to_string(c), classes[c].first, classes[c].second));
  }
  if (pool[0].empty()) pool[0].push_back(TypedVar("v0", classes[0].first, classes[0].second));
  const int n_nodes = 1 + static_cast<int>(pick(40));
  for (int i = 0; i < n_nodes; ++i) {
    size_t c = pick(classes.size());
    while (pool[c].empty()) c = (c + 1) % classes.size();
    std::vector<NodeEntry>& p = pool[c];
    // Prefer recent values, as real networks do, but reach back sometimes.
    auto input = [&] { return p[p.size() - 1 - std::min(p.size() - 1, pick(4) * pick(4))]; };
    const std::string name = "n" + std::to_string(i);
    NodeEntry e;
    if (rng() % 2 == 0) {
      const std::string op = unary[pick(6)];
      std::map<std::string, std::string> params;
      if (op == "_plus_scalar") params["scalar"] = "0.5";
      e = Apply(op, name, {input()}, params);
    } else {
      e = Apply(binary[pick(3)], name, {input(), input()});
    }
    p.push_back(e);
    all.push_back(e);
  }
  std::vector<NodeEntry> outputs;
  for (const auto& p : pool) {
    if (!p.empty() && !p.back().node->is_variable()) outputs.push_back(p.back());
  }
  for (const NodeEntry& e : all) {
    if (rng() % 10 == 0) outputs.push_back(e);
  }
  if (outputs.empty()) outputs.push_back(all.back());
  PlanOptions opt;
  Graph g = Prepare(outputs, &opt);
  std::set<uint32_t> ext(opt.external_entries.begin(), opt.external_entries.end());
  std::vector<int> readers(g.indexed().num_entries(), 0);
  for (uint32_t nid = 0; nid < g.indexed().num_nodes(); ++nid) {
    for (const auto& e : g.indexed()[nid].inputs) ++readers[g.indexed().entry_id(e)];
  }
  for (uint32_t eid = 0; eid < readers.size(); ++eid) {
    if (readers[eid] == 0 && !ext.count(eid) && rng() % 2 == 0) opt.null_entries.push_back(eid);
  }
  PlanMemory(&g, opt);
  CheckPlan(g, opt);
  EXPECT_LE(g.planned_bytes, g.naive_bytes);
}

TEST(PlanMemory, RandomGraphsSimulateCorrectly) {
  uint64_t base = 20240611;
  if (const char* s = std::getenv("MX_TEST_SEED")) base = std::strtoull(s, nullptr, 10);
  std::cout << "PlanMemory random graphs: seed " << base << " (set MX_TEST_SEED to repeat)\n";
  for (uint64_t i = 0; i < 300; ++i) {
    SCOPED_TRACE("seed " + std::to_string(base + i));
    RandomGraphCase(base + i);
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace mx
