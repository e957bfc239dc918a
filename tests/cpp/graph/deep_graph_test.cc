// Graphs at their extremes: freeing a 200,000-node chain (Note [Freeing deep graphs] in
// src/graph/node.cc), nodes shared between graphs outliving the graph freed first, and a gradient
// that sums more contributions than one add_n may take (kMaxOpArity).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/symbol.h"
#include "graph_test_util.h"

namespace mx {
namespace {

using test::Apply;
using test::Evaluate;
using test::MakeArray;
using test::ToVector;
using test::Var;

// x -> relu -> relu -> ... (`depth` relus).
NodeEntry Chain(NodeEntry x, int depth, const std::string& prefix) {
  for (int i = 0; i < depth; ++i) x = Apply("relu", prefix + std::to_string(i), {x});
  return x;
}

size_t CountNodes(const NodeEntry& head) {
  size_t n = 0;
  DFSVisit({head}, [&n](const NodePtr&) { ++n; });
  return n;
}

// Releasing the head of a chain used to destroy it one stack frame per node (SIGSEGV).
TEST(DeepGraph, FreeingA200000NodeChainDoesNotRecurse) {
  NodeEntry head = Chain(Var("x"), 200000, "r");
  std::weak_ptr<Node> first = head.node;
  while (first.lock()->inputs[0].node->inputs.size() == 1) first = first.lock()->inputs[0].node;
  EXPECT_EQ(first.lock()->inputs[0].node->attrs.name, "x");
  head = NodeEntry{};
  EXPECT_TRUE(first.expired());
}

// The iterative free releases only what no one else holds: a graph sharing part of the chain
// keeps that part, whole.
TEST(DeepGraph, FreeingOneGraphKeepsNodesAnotherHolds) {
  NodeEntry a = Chain(Var("x"), 1000, "a");
  NodeEntry middle = a;
  for (int i = 0; i < 500; ++i) middle = middle.node->inputs[0];  // a499
  NodeEntry b = Chain(middle, 1000, "b");
  std::weak_ptr<Node> a_top = a.node, a_middle = middle.node;
  middle = NodeEntry{};
  a = NodeEntry{};
  EXPECT_TRUE(a_top.expired());
  EXPECT_FALSE(a_middle.expired());
  EXPECT_EQ(CountNodes(b), 1000u + 500u + 1u);
  Symbol s;
  s.outputs.push_back(b);
  EXPECT_EQ(s.ListArguments(), std::vector<std::string>{"x"});
  b = NodeEntry{};
  s = Symbol();
  EXPECT_TRUE(a_middle.expired());
}

// y = x + x + ... + x with more uses of x than add_n takes: its gradient sums them in groups.
TEST(DeepGraph, GradientSumsMoreContributionsThanOneAddNTakes) {
  const int uses = kMaxOpArity + 5;
  const NodeEntry x = Var("x");
  NodeEntry y = x;
  for (int i = 1; i < uses; ++i) y = Apply("elemwise_add", "add" + std::to_string(i), {y, x});
  const std::vector<NodeEntry> g = Gradient({y}, {NodeEntry{}}, {x});
  ASSERT_EQ(g.size(), 1u);
  ASSERT_NE(g[0].node, nullptr);
  EXPECT_EQ(g[0].node->attrs.op->name, "add_n");
  ASSERT_EQ(g[0].node->inputs.size(), 2u);  // the two groups
  EXPECT_EQ(g[0].node->inputs[0].node->inputs.size(), static_cast<size_t>(kMaxOpArity));
  EXPECT_EQ(g[0].node->inputs[1].node->inputs.size(), 5u);
  const std::vector<double> v = ToVector(Evaluate(g, {{"x", MakeArray({1}, {0.5})}})[0]);
  EXPECT_EQ(v, std::vector<double>{static_cast<double>(uses)});
}

}  // namespace
}  // namespace mx
