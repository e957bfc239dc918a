// InferShape / InferType: forward and backward propagation, partial results, seeds from
// __shape__ / __dtype__, and the conflict messages users see.
#include <gtest/gtest.h>

#include "graph/graph.h"
#include "graph_test_util.h"

namespace mx {
namespace {

using test::Apply;
using test::HasOp;
using test::Var;

Shape ShapeOf(const Graph& g, const NodeEntry& e) {
  const IndexedGraph& idx = g.indexed();
  return g.shapes[idx.entry_id(idx.node_id(e.node.get()), e.index)];
}
int TypeOf(const Graph& g, const NodeEntry& e) {
  const IndexedGraph& idx = g.indexed();
  return g.dtypes[idx.entry_id(idx.node_id(e.node.get()), e.index)];
}
void SetShape(Graph* g, const NodeEntry& e, const Shape& s) {
  const IndexedGraph& idx = g->indexed();
  g->shapes[idx.entry_id(idx.node_id(e.node.get()), e.index)] = s;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(InferShape, ForwardFromShapeAttributes) {
  NodeEntry a = Var("a", "(2,3)");
  NodeEntry b = Var("b");
  NodeEntry c = Apply("elemwise_add", "add", {a, b});
  NodeEntry d = Apply("exp", "exp", {c});
  Graph g = Graph::FromOutputs({d});
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(ShapeOf(g, b), (Shape{2, 3}));
  EXPECT_EQ(ShapeOf(g, d), (Shape{2, 3}));
}

TEST(InferShape, BackwardFromAnOutput) {
  NodeEntry a = Var("a");
  NodeEntry b = Var("b");
  NodeEntry d = Apply("relu", "relu", {Apply("elemwise_mul", "mul", {a, b})});
  Graph g = Graph::FromOutputs({d});
  SetShape(&g, d, Shape{4});
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(ShapeOf(g, a), (Shape{4}));
  EXPECT_EQ(ShapeOf(g, b), (Shape{4}));
}

TEST(InferShape, PartialCountsUnknownEntries) {
  NodeEntry a = Var("a", "(5,)");
  NodeEntry x = Var("x");
  NodeEntry y = Apply("exp", "e1", {x});
  Graph g = Graph::FromOutputs({Apply("sin", "s", {a}), y});
  EXPECT_EQ(InferShape(&g), 2u);  // x and exp(x)
  EXPECT_EQ(ShapeOf(g, a), (Shape{5}));
  EXPECT_FALSE(ShapeOf(g, y).IsKnown());
}

TEST(InferShape, UnknownDimsMergeAcrossArguments) {
  NodeEntry a = Var("a", "(-1,3)");
  NodeEntry b = Var("b", "(7,-1)");
  NodeEntry c = Apply("elemwise_add", "add", {a, b});
  Graph g = Graph::FromOutputs({c});
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(ShapeOf(g, c), (Shape{7, 3}));
}

TEST(InferShape, ConflictNamesNodeOpArgumentAndShapes) {
  NodeEntry a = Var("a", "(2,3)");
  NodeEntry b = Var("b", "(2,4)");
  Graph g = Graph::FromOutputs({Apply("elemwise_add", "add1", {a, b})});
  EXPECT_EQ(ErrorOf([&] { InferShape(&g); }),
            "argument 'b' (input 'rhs' of node 'add1' (elemwise_add)): shape (2,4) from its "
            "__shape__, inferred (2,3)");
}

TEST(InferShape, ConflictBetweenGivenShapesSaysGiven) {
  NodeEntry a = Var("a");
  NodeEntry b = Var("b");
  Graph g = Graph::FromOutputs({Apply("elemwise_add", "add1", {a, b})});
  SetShape(&g, a, Shape{2, 3});
  SetShape(&g, b, Shape{2, 4});
  EXPECT_EQ(ErrorOf([&] { InferShape(&g); }),
            "argument 'b' (input 'rhs' of node 'add1' (elemwise_add)): given shape (2,4), "
            "inferred (2,3)");
}

TEST(InferShape, ConflictAtAnInternalEntryNamesBothNodes) {
  NodeEntry a = Var("a");
  NodeEntry e = Apply("exp", "e", {a});
  NodeEntry b = Var("b");
  Graph g = Graph::FromOutputs({Apply("elemwise_add", "add1", {b, e})});
  SetShape(&g, a, Shape{2, 4});
  SetShape(&g, b, Shape{2, 3});
  EXPECT_EQ(ErrorOf([&] { InferShape(&g); }),
            "input 'rhs' of node 'add1' (elemwise_add), output 'output' of node 'e' (exp): shape "
            "(2,4) from the rest of the graph, inferred (2,3)");
}

TEST(InferShape, ConflictWithAGivenOutputShape) {
  NodeEntry a = Var("a");
  NodeEntry y = Apply("exp", "e", {a});
  Graph g = Graph::FromOutputs({y});
  SetShape(&g, a, Shape{2, 3});
  SetShape(&g, y, Shape{3, 2});
  EXPECT_EQ(ErrorOf([&] { InferShape(&g); }),
            "argument 'a' (input 'data' of node 'e' (exp)): given shape (2,3), inferred (3,2)");
}

// A variable's __shape__ is a hint: what the caller gives (or what follows from it) wins, and the
// hint fills in only what is still unknown.
TEST(InferShape, GivenShapesWinOverShapeHints) {
  NodeEntry a = Var("a", "(2,3)");
  NodeEntry y = Apply("exp", "e", {a});
  Graph g = Graph::FromOutputs({y});
  SetShape(&g, y, Shape{3, 2});
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(ShapeOf(g, a), (Shape{3, 2}));

  NodeEntry b = Var("b", "(5,0)");  // 0: unknown, as in MXNet
  Graph g2 = Graph::FromOutputs({Apply("exp", "e", {b})});
  EXPECT_EQ(InferShape(&g2), 2u);
  EXPECT_EQ(ShapeOf(g2, b), (Shape{5, -1}));
  SetShape(&g2, b, Shape{-1, 7});  // the hint completes a partly given shape
  EXPECT_EQ(InferShape(&g2), 0u);
  EXPECT_EQ(ShapeOf(g2, b), (Shape{5, 7}));
}

TEST(InferShape, BadShapeAttribute) {
  NodeEntry a = Var("a", "(2,x)");
  Graph g = Graph::FromOutputs({Apply("exp", "e", {a})});
  EXPECT_NE(ErrorOf([&] { InferShape(&g); }).find("variable 'a': __shape__ '(2,x)'"),
            std::string::npos);
}

TEST(InferShape, FullyConnectedWeightConflict) {
  if (!HasOp("FullyConnected")) GTEST_SKIP() << "FullyConnected not registered yet";
  NodeEntry data = Var("data", "(128,784)");
  NodeEntry w = Var("fc1_weight", "(128,785)");
  NodeEntry b = Var("fc1_bias");
  Graph g =
      Graph::FromOutputs({Apply("FullyConnected", "fc1", {data, w, b}, {{"num_hidden", "128"}})});
  EXPECT_EQ(ErrorOf([&] { InferShape(&g); }),
            "argument 'fc1_weight' (input 'weight' of node 'fc1' (FullyConnected)): shape "
            "(128,785) from its __shape__, inferred (128,784)");
  Graph given = Graph::FromOutputs(
      {Apply("FullyConnected", "fc1", {Var("data"), Var("fc1_weight"), Var("fc1_bias")},
             {{"num_hidden", "128"}})});
  const IndexedGraph& idx = given.indexed();
  given.shapes[idx.entry_id(idx.input_nodes()[0], 0)] = Shape{128, 784};
  given.shapes[idx.entry_id(idx.input_nodes()[1], 0)] = Shape{128, 785};
  EXPECT_EQ(ErrorOf([&] { InferShape(&given); }),
            "argument 'fc1_weight' (input 'weight' of node 'fc1' (FullyConnected)): given shape "
            "(128,785), inferred (128,784)");
}

TEST(InferShape, MlpWeightsFromData) {
  if (!HasOp("FullyConnected") || !HasOp("Activation") || !HasOp("SoftmaxOutput")) {
    GTEST_SKIP() << "MLP ops not registered yet";
  }
  NodeEntry data = Var("data", "(128,784)");
  NodeEntry fc1 = Apply("FullyConnected", "fc1", {data, Var("fc1_weight"), Var("fc1_bias")},
                        {{"num_hidden", "128"}});
  NodeEntry act = Apply("Activation", "relu1", {fc1}, {{"act_type", "relu"}});
  NodeEntry fc2 = Apply("FullyConnected", "fc2", {act, Var("fc2_weight"), Var("fc2_bias")},
                        {{"num_hidden", "10"}});
  NodeEntry label = Var("softmax_label");
  NodeEntry out = Apply("SoftmaxOutput", "softmax", {fc2, label});
  Graph g = Graph::FromOutputs({out});
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(ShapeOf(g, fc1.node->inputs[1]), (Shape{128, 784}));
  EXPECT_EQ(ShapeOf(g, fc1.node->inputs[2]), (Shape{128}));
  EXPECT_EQ(ShapeOf(g, fc2.node->inputs[1]), (Shape{10, 128}));
  EXPECT_EQ(ShapeOf(g, label), (Shape{128}));
  EXPECT_EQ(ShapeOf(g, out), (Shape{128, 10}));

  g.dtypes[g.indexed().entry_id(g.indexed().node_id(data.node.get()), 0)] =
      static_cast<int>(DType::kFloat32);
  EXPECT_EQ(InferType(&g), 0u);
  EXPECT_EQ(TypeOf(g, fc2.node->inputs[1]), static_cast<int>(DType::kFloat32));
}

// Depth is modest: destroying a long chain of nodes recurses (shared_ptr inputs), which
// overflows the stack in sanitizer builds long before the passes would.
TEST(InferShape, DeepChainDoesNotRecurse) {
  NodeEntry x = Var("x", "(3,)");
  NodeEntry y = x;
  for (int i = 0; i < 3000; ++i) y = Apply("negative", "n" + std::to_string(i), {y});
  Graph g = Graph::FromOutputs({y});
  EXPECT_EQ(InferShape(&g), 0u);
  EXPECT_EQ(ShapeOf(g, y), (Shape{3}));
}

TEST(InferType, SeedsFromDTypeAttributeForwardAndBackward) {
  NodeEntry a = Var("a");
  a.node->user_attrs["__dtype__"] = "float64";
  NodeEntry b = Var("b");
  NodeEntry c = Var("c");
  c.node->user_attrs["__dtype__"] = "1";  // the C ABI's number for float64
  NodeEntry y = Apply("elemwise_mul", "mul", {Apply("exp", "e", {a}), b});
  Graph g = Graph::FromOutputs({y, Apply("sin", "s", {c})});
  EXPECT_EQ(InferType(&g), 0u);
  EXPECT_EQ(TypeOf(g, b), static_cast<int>(DType::kFloat64));
  EXPECT_EQ(TypeOf(g, y), static_cast<int>(DType::kFloat64));
}

TEST(InferType, PartialAndBackward) {
  NodeEntry a = Var("a");
  NodeEntry y = Apply("exp", "e", {a});
  NodeEntry z = Apply("exp", "e2", {Var("other")});
  Graph g = Graph::FromOutputs({y, z});
  g.dtypes[g.indexed().entry_id(g.indexed().node_id(y.node.get()), 0)] =
      static_cast<int>(DType::kFloat32);
  EXPECT_EQ(InferType(&g), 2u);
  EXPECT_EQ(TypeOf(g, a), static_cast<int>(DType::kFloat32));
}

TEST(InferType, ConflictNamesTheArgument) {
  NodeEntry a = Var("a");
  a.node->user_attrs["__dtype__"] = "float32";
  NodeEntry b = Var("b");
  b.node->user_attrs["__dtype__"] = "float64";
  Graph g = Graph::FromOutputs({Apply("elemwise_add", "add2", {a, b})});
  EXPECT_EQ(ErrorOf([&] { InferType(&g); }),
            "argument 'b' (input 'rhs' of node 'add2' (elemwise_add)): type float64 from its "
            "__dtype__, inferred float32");
}

TEST(InferType, BadDTypeAttribute) {
  NodeEntry a = Var("a");
  a.node->user_attrs["__dtype__"] = "float33";
  Graph g = Graph::FromOutputs({Apply("exp", "e", {a})});
  EXPECT_NE(ErrorOf([&] { InferType(&g); }).find("variable 'a': __dtype__ 'float33'"),
            std::string::npos);
}

}  // namespace
}  // namespace mx
