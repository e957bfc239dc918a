// Partial shapes, as in MXNet: a 0 dim given by a user is unknown, and every op that relates its
// inputs and outputs unifies what is known across them, forward and backward, until nothing
// changes. Each case gives some shapes (0 = unknown, () = nothing known) and checks every shape
// the inference fills in.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph_test_util.h"

namespace mx {
namespace {

using test::Apply;
using test::Var;

using Dims = std::vector<int64_t>;

// Shape::FromUser for a test's literal: {12, 0} is (12,?), {} is unknown.
Shape User(const Dims& d) { return Shape::FromUser(d.data(), static_cast<int>(d.size())); }

struct Inferred {
  Graph g;
  size_t unknown;
  Shape Of(const NodeEntry& e) const {
    const IndexedGraph& idx = g.indexed();
    return g.shapes[idx.entry_id(idx.node_id(e.node.get()), e.index)];
  }
};

Inferred Infer(const std::vector<NodeEntry>& outputs,
               const std::vector<std::pair<NodeEntry, Dims>>& given) {
  Inferred r{Graph::FromOutputs(outputs), 0};
  const IndexedGraph& idx = r.g.indexed();
  for (const auto& [e, dims] : given) {
    r.g.shapes[idx.entry_id(idx.node_id(e.node.get()), e.index)] = User(dims);
  }
  r.unknown = InferShape(&r.g);
  return r;
}

TEST(PartialShape, ZeroDimsAndEmptyShapesFromUsersAreUnknown) {
  EXPECT_EQ(User({12, 0}), (Shape{12, -1}));
  EXPECT_EQ(User({}).ndim(), -1);
  const int64_t d[] = {3, -1};
  EXPECT_EQ(Shape::FromUser(d, -1).ndim(), -1);
  EXPECT_EQ(Shape::FromUser(d, 2), (Shape{3, -1}));
  EXPECT_THROW(Shape::FromUser(d, -2), Error);
}

TEST(PartialShape, ElementwiseUnifiesBothInputs) {
  NodeEntry a = Var("a"), b = Var("b");
  NodeEntry c = Apply("elemwise_add", "add", {a, b});
  Inferred r = Infer({c}, {{a, {12, 0}}, {b, {0, 10}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(a), (Shape{12, 10}));
  EXPECT_EQ(r.Of(b), (Shape{12, 10}));
  EXPECT_EQ(r.Of(c), (Shape{12, 10}));
}

TEST(PartialShape, BroadcastKeepsWhatIsKnown) {
  NodeEntry a = Var("a"), b = Var("b");
  NodeEntry c = Apply("broadcast_add", "add", {a, b});
  Inferred r = Infer({c}, {{a, {0, 1, 5}}, {b, {4, 0}}});
  // Aligned at the right: axis 0 is a's unknown against b's implicit 1: unknown. Axis 1: a's 1
  // broadcasts to b's 4. Axis 2: b's unknown is 1 or 5, so the output has 5.
  EXPECT_EQ(r.Of(c), (Shape{-1, 4, 5}));
  Inferred ones = Infer({c}, {{a, {0, 1, 1}}, {b, {0, 1}}});
  EXPECT_EQ(ones.Of(c), (Shape{-1, -1, 1}));
  Inferred full = Infer({c}, {{a, {7, 1, 5}}, {b, {4, 0}}});
  EXPECT_EQ(full.Of(c), (Shape{7, 4, 5}));
}

TEST(PartialShape, FullyConnectedFromDataAndBackFromOutput) {
  NodeEntry data = Var("data"), w = Var("fc_weight"), bias = Var("fc_bias");
  NodeEntry fc = Apply("FullyConnected", "fc", {data, w, bias}, {{"num_hidden", "10"}});
  Inferred r = Infer({fc}, {{data, {0, 784}}, {fc, {32, 0}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(data), (Shape{32, 784}));
  EXPECT_EQ(r.Of(w), (Shape{10, 784}));
  EXPECT_EQ(r.Of(bias), (Shape{10}));
  // The input dimension may come from the weight.
  Inferred r2 = Infer({fc}, {{data, {32, 0}}, {w, {0, 20}}});
  EXPECT_EQ(r2.unknown, 0u);
  EXPECT_EQ(r2.Of(data), (Shape{32, 20}));
}

TEST(PartialShape, ConvolutionFromChannelsAndBatchFromOutput) {
  NodeEntry data = Var("data"), w = Var("conv_weight"), b = Var("conv_bias");
  NodeEntry conv = Apply("Convolution", "conv", {data, w, b},
                         {{"kernel", "(3,3)"}, {"num_filter", "8"}, {"pad", "(1,1)"}});
  Inferred r = Infer({conv}, {{data, {0, 3, 28, 28}}, {conv, {16, 0, 0, 0}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(data), (Shape{16, 3, 28, 28}));
  EXPECT_EQ(r.Of(w), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(r.Of(b), (Shape{8}));
  EXPECT_EQ(r.Of(conv), (Shape{16, 8, 28, 28}));
  // Channels from the weight, spatial extents unknown: the rest still flows.
  Inferred r2 = Infer({conv}, {{data, {4, 0, 0, 0}}, {w, {0, 5, 0, 0}}});
  EXPECT_EQ(r2.Of(data), (Shape{4, 5, -1, -1}));
  EXPECT_EQ(r2.Of(conv), (Shape{4, 8, -1, -1}));
}

TEST(PartialShape, DeconvolutionFromChannelsAndBatchFromOutput) {
  NodeEntry data = Var("data"), w = Var("deconv_weight");
  NodeEntry deconv =
      Apply("Deconvolution", "deconv", {data, w},
            {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"num_filter", "4"}, {"no_bias", "true"}});
  Inferred r = Infer({deconv}, {{data, {0, 6, 7, 7}}, {deconv, {3, 0, 0, 0}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(data), (Shape{3, 6, 7, 7}));
  EXPECT_EQ(r.Of(w), (Shape{6, 4, 2, 2}));
  EXPECT_EQ(r.Of(deconv), (Shape{3, 4, 14, 14}));
}

TEST(PartialShape, ConcatFillsTheOneUnknownExtentFromTheOutput) {
  NodeEntry a = Var("a"), b = Var("b"), c = Var("c");
  NodeEntry cat = Apply("Concat", "cat", {a, b, c}, {{"num_args", "3"}, {"dim", "1"}});
  Inferred r = Infer({cat}, {{a, {2, 3}}, {b, {0, 0}}, {c, {0, 4}}, {cat, {0, 10}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(b), (Shape{2, 3}));
  EXPECT_EQ(r.Of(c), (Shape{2, 4}));
  EXPECT_EQ(r.Of(cat), (Shape{2, 10}));
}

TEST(PartialShape, SliceChannelForwardAndBackward) {
  NodeEntry data = Var("data");
  NodeEntry s0 = Apply("SliceChannel", "split", {data}, {{"num_outputs", "3"}, {"axis", "1"}}, 0);
  NodeEntry s1{s0.node, 1}, s2{s0.node, 2};
  Inferred r = Infer({s0, s1, s2}, {{data, {0, 6}}, {s2, {5, 0}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(data), (Shape{5, 6}));
  EXPECT_EQ(r.Of(s0), (Shape{5, 2}));
  // Backward only: every output known gives the input.
  Inferred back = Infer({s0, s1, s2}, {{s0, {4, 3}}});
  EXPECT_EQ(back.unknown, 0u);
  EXPECT_EQ(back.Of(data), (Shape{4, 9}));
  // A known input extent that does not split is still an error.
  EXPECT_THROW(Infer({s0, s1, s2}, {{data, {0, 7}}}), Error);
}

TEST(PartialShape, ReshapeForwardWithUnknownBatchAndBackFromOutput) {
  NodeEntry data = Var("data");
  NodeEntry img = Apply("Reshape", "img", {data}, {{"shape", "(-1,1,28,28)"}});
  Inferred r = Infer({img}, {{data, {0, 784}}});
  EXPECT_EQ(r.Of(img), (Shape{-1, 1, 28, 28}));
  NodeEntry keep = Apply("Reshape", "keep", {data}, {{"shape", "(0,-3,-2)"}});
  Inferred r2 = Infer({keep}, {{data, {0, 2, 3, 4}}});
  EXPECT_EQ(r2.Of(keep), (Shape{-1, 6, 4}));
  // The one unknown input dim follows from a known output.
  Inferred back = Infer({img}, {{data, {0, 784}}, {img, {32, 1, 28, 28}}});
  EXPECT_EQ(back.unknown, 0u);
  EXPECT_EQ(back.Of(data), (Shape{32, 784}));
  NodeEntry flat = Apply("Flatten", "flat", {data});
  Inferred f = Infer({flat}, {{data, {0, 3, 4}}});
  EXPECT_EQ(f.Of(flat), (Shape{-1, 12}));
  Inferred fb = Infer({flat}, {{data, {0, 3, 0}}, {flat, {2, 12}}});
  EXPECT_EQ(fb.Of(data), (Shape{2, 3, 4}));
}

TEST(PartialShape, BatchNormStatisticsFromChannelsAndBatchFromOutput) {
  NodeEntry data = Var("data"), gamma = Var("bn_gamma"), beta = Var("bn_beta");
  NodeEntry mean = Var("bn_moving_mean"), var = Var("bn_moving_var");
  NodeEntry bn = Apply("BatchNorm", "bn", {data, gamma, beta, mean, var});
  Inferred r = Infer({bn}, {{data, {0, 3, 0, 0}}, {bn, {8, 0, 5, 5}}});
  EXPECT_EQ(r.Of(data), (Shape{8, 3, 5, 5}));
  EXPECT_EQ(r.Of(gamma), (Shape{3}));
  EXPECT_EQ(r.Of(var), (Shape{3}));
  // The channel count may come from a statistic.
  Inferred r2 = Infer({bn}, {{data, {8, 0, 5, 5}}, {mean, {4}}});
  EXPECT_EQ(r2.unknown, 0u);
  EXPECT_EQ(r2.Of(data), (Shape{8, 4, 5, 5}));
}

// Knowledge that must travel forward, then backward, then forward again: the label's batch size
// comes from the data through the net's output, and the second branch's input from the label.
TEST(PartialShape, InferenceIteratesUntilNothingChanges) {
  NodeEntry data = Var("data"), label = Var("label"), other = Var("other");
  NodeEntry fc = Apply("FullyConnected", "fc", {data, Var("fc_weight"), Var("fc_bias")},
                       {{"num_hidden", "10"}});
  NodeEntry out = Apply("SoftmaxOutput", "softmax", {fc, label});
  NodeEntry side = Apply("elemwise_mul", "mul", {Apply("exp", "e", {other}), label});
  Inferred r = Infer({out, side}, {{data, {64, 100}}});
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.Of(label), (Shape{64}));
  EXPECT_EQ(r.Of(other), (Shape{64}));
}

TEST(PartialShape, UnknownsAreDescribedByTheirUse) {
  NodeEntry data = Var("data"), w = Var("fc_weight");
  NodeEntry fc = Apply("FullyConnected", "fc", {data, w, Var("fc_bias")}, {{"num_hidden", "10"}});
  Inferred r = Infer({fc}, {{data, {0, 784}}});
  EXPECT_EQ(DescribeUnknownShapes(r.g),
            "argument 'data' (input 'data' of node 'fc' (FullyConnected)) is (?,784)");
  Inferred none = Infer({fc}, {});
  EXPECT_EQ(DescribeUnknownShapes(none.g, 1),
            "argument 'data' (input 'data' of node 'fc' (FullyConnected)) is ?; and 1 more");
}

}  // namespace
}  // namespace mx
