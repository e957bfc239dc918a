// Gradient: whole graphs checked against central finite differences in float64, plus the shape
// of the backward graph (sums with add_n, pruned zeros, no ones for loss heads).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "graph/graph.h"
#include "graph_test_util.h"

namespace mx {
namespace {

using test::Apply;
using test::Evaluate;
using test::HasOp;
using test::MakeArray;
using test::OpNames;
using test::ToVector;
using test::Var;

struct Value {
  Shape shape;
  std::vector<double> data;
};
using Values = std::map<std::string, Value>;

std::map<std::string, NDArray> Arrays(const Values& vals) {
  std::map<std::string, NDArray> out;
  for (const auto& [name, v] : vals) out[name] = MakeArray(v.shape, v.data);
  return out;
}

Value Random(const Shape& s, std::mt19937_64* rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> u(lo, hi);
  Value v{s, std::vector<double>(static_cast<size_t>(s.Size()))};
  for (double& d : v.data) d = u(*rng);
  return v;
}

// sum_k <ys[k], heads[k]> with a missing head meaning ones.
double Objective(const std::vector<NodeEntry>& ys, const std::vector<std::string>& heads,
                 const Values& vals) {
  const std::vector<NDArray> out = Evaluate(ys, Arrays(vals));
  double f = 0;
  for (size_t k = 0; k < ys.size(); ++k) {
    const std::vector<double> y = ToVector(out[k]);
    for (size_t i = 0; i < y.size(); ++i) {
      f += y[i] * (heads[k].empty() ? 1.0 : vals.at(heads[k]).data[i]);
    }
  }
  return f;
}

// Checks Gradient(ys, heads, xs) against central differences. `heads[k]` names a variable in
// `vals` holding the head gradient of ys[k], or is empty for a null head gradient.
void CheckGradient(const std::vector<NodeEntry>& ys, const std::vector<std::string>& heads,
                   const std::vector<NodeEntry>& xs, Values vals) {
  std::vector<NodeEntry> head_entries;
  for (const std::string& h : heads) head_entries.push_back(h.empty() ? NodeEntry{} : Var(h));
  const std::vector<NodeEntry> grads = Gradient(ys, head_entries, xs);
  ASSERT_EQ(grads.size(), xs.size());
  std::vector<NodeEntry> nonzero;
  for (const NodeEntry& g : grads) {
    if (g.node) nonzero.push_back(g);
  }
  const std::vector<NDArray> analytic = Evaluate(nonzero, Arrays(vals));
  size_t next = 0;
  constexpr double kEps = 1e-6;
  for (size_t j = 0; j < xs.size(); ++j) {
    const std::string& name = xs[j].node->attrs.name;
    Value& x = vals.at(name);
    const std::vector<double> got =
        grads[j].node ? ToVector(analytic[next++]) : std::vector<double>(x.data.size(), 0.0);
    for (size_t i = 0; i < x.data.size(); ++i) {
      const double keep = x.data[i];
      x.data[i] = keep + kEps;
      const double fp = Objective(ys, heads, vals);
      x.data[i] = keep - kEps;
      const double fm = Objective(ys, heads, vals);
      x.data[i] = keep;
      const double numeric = (fp - fm) / (2 * kEps);
      EXPECT_NEAR(got[i], numeric, 1e-6 + 1e-5 * std::fabs(numeric))
          << "d/d" << name << "[" << i << "]";
    }
  }
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Gradient, ExpOfProductPlusInput) {
  std::mt19937_64 rng(1);
  NodeEntry a = Var("a"), b = Var("b");
  NodeEntry y =
      Apply("elemwise_add", "y", {Apply("exp", "e", {Apply("elemwise_mul", "m", {a, b})}), a});
  CheckGradient({y}, {""}, {a, b}, {{"a", Random({2, 3}, &rng)}, {"b", Random({2, 3}, &rng)}});
}

TEST(Gradient, VariableUsedTwiceIsSummedOnce) {
  std::mt19937_64 rng(2);
  NodeEntry a = Var("a");
  NodeEntry y = Apply("elemwise_mul", "sq", {a, a});
  CheckGradient({y}, {""}, {a}, {{"a", Random({5}, &rng)}});
  const std::vector<NodeEntry> g = Gradient({y}, {NodeEntry{}}, {a});
  const char* sum_op = HasOp("add_n") ? "add_n" : "elemwise_add";
  EXPECT_EQ(g[0].node->attrs.op->name, sum_op);
  EXPECT_EQ(g[0].node->attrs.name, "a_grad_sum");
}

TEST(Gradient, ChainOfUnaryAndScalarOps) {
  std::mt19937_64 rng(3);
  NodeEntry x = Var("x");
  NodeEntry y = Apply("_mul_scalar", "ms", {x}, {{"scalar", "3"}});
  y = Apply("sin", "s", {y});
  y = Apply("_plus_scalar", "ps", {y}, {{"scalar", "0.5"}});
  y = Apply("tanh", "t", {y});
  y = Apply("square", "sq", {y});
  y = Apply("sigmoid", "sg", {y});
  CheckGradient({y}, {""}, {x}, {{"x", Random({4, 2}, &rng)}});
}

TEST(Gradient, MultipleHeadsWithGivenHeadGradients) {
  std::mt19937_64 rng(4);
  NodeEntry a = Var("a"), b = Var("b");
  NodeEntry y1 = Apply("elemwise_mul", "y1", {Apply("exp", "ea", {a}), b});
  NodeEntry y2 = Apply("sin", "y2", {a});
  CheckGradient({y1, y2}, {"h1", "h2"}, {a, b},
                {{"a", Random({3}, &rng)},
                 {"b", Random({3}, &rng)},
                 {"h1", Random({3}, &rng)},
                 {"h2", Random({3}, &rng)}});
}

TEST(Gradient, HeadThatIsAlsoReadInside) {
  std::mt19937_64 rng(5);
  NodeEntry a = Var("a"), b = Var("b");
  NodeEntry y = Apply("exp", "e", {a});
  NodeEntry z = Apply("elemwise_mul", "z", {y, b});
  CheckGradient({y, z}, {"", "h"}, {a, b},
                {{"a", Random({4}, &rng)}, {"b", Random({4}, &rng)}, {"h", Random({4}, &rng)}});
}

TEST(Gradient, DivisionAndSubtraction) {
  std::mt19937_64 rng(6);
  NodeEntry a = Var("a"), b = Var("b"), c = Var("c");
  NodeEntry y = Apply("elemwise_div", "d", {Apply("elemwise_sub", "s", {a, c}), b});
  y = Apply("elemwise_add", "y", {y, Apply("elemwise_mul", "m", {c, c})});
  CheckGradient(
      {y}, {""}, {a, b, c},
      {{"a", Random({3}, &rng)}, {"b", Random({3}, &rng, 1, 2)}, {"c", Random({3}, &rng)}});
}

TEST(Gradient, ZeroGradientsArePruned) {
  NodeEntry a = Var("a"), b = Var("b"), c = Var("c"), unused = Var("unused");
  // BlockGrad stops a; _greater is not differentiable; `unused` is not in the graph.
  NodeEntry y = Apply("elemwise_mul", "m", {Apply("BlockGrad", "bg", {a}), b});
  y = Apply("elemwise_add", "y", {y, Apply("_greater", "gt", {b, c})});
  const std::vector<NodeEntry> g = Gradient({y}, {NodeEntry{}}, {a, b, c, unused});
  EXPECT_EQ(g[0].node, nullptr);
  EXPECT_NE(g[1].node, nullptr);
  EXPECT_EQ(g[2].node, nullptr);
  EXPECT_EQ(g[3].node, nullptr);
  // Nothing was built for the blocked branch: no node reads a's gradient path.
  for (const std::string& op : OpNames({g[1]})) EXPECT_NE(op, "zeros_like");
}

TEST(Gradient, GradientOfAnOutputItselfIsTheHead) {
  NodeEntry a = Var("a");
  NodeEntry y = Apply("exp", "e", {a});
  const std::vector<NodeEntry> g = Gradient({y}, {NodeEntry{}}, {y});
  ASSERT_NE(g[0].node, nullptr);
  const std::vector<double> v = ToVector(Evaluate(g, {{"a", MakeArray({3}, {1, 2, 3})}})[0]);
  EXPECT_EQ(v, (std::vector<double>{1, 1, 1}));
}

TEST(Gradient, DeterministicStructure) {
  NodeEntry a = Var("a"), b = Var("b");
  NodeEntry y = Apply("elemwise_mul", "m", {Apply("elemwise_add", "s", {a, b}), a});
  y = Apply("elemwise_add", "y", {y, Apply("exp", "e", {b})});
  const std::vector<NodeEntry> g1 = Gradient({y}, {NodeEntry{}}, {a, b});
  const std::vector<NodeEntry> g2 = Gradient({y}, {NodeEntry{}}, {a, b});
  EXPECT_EQ(OpNames(g1), OpNames(g2));
  IndexedGraph i1(g1), i2(g2);
  ASSERT_EQ(i1.num_nodes(), i2.num_nodes());
  for (uint32_t n = 0; n < i1.num_nodes(); ++n) {
    EXPECT_EQ(i1[n].node->attrs.name, i2[n].node->attrs.name);
  }
}

TEST(Gradient, DeepChainDoesNotRecurse) {
  NodeEntry x = Var("x");
  NodeEntry y = x;
  for (int i = 0; i < 3000; ++i) y = Apply("negative", "n" + std::to_string(i), {y});
  const std::vector<NodeEntry> g = Gradient({y}, {NodeEntry{}}, {x});
  const std::vector<double> v = ToVector(Evaluate(g, {{"x", MakeArray({2}, {1, 2})}})[0]);
  EXPECT_EQ(v, (std::vector<double>{1, 1}));
}

TEST(Gradient, MismatchedHeadCountIsAnError) {
  NodeEntry a = Var("a");
  EXPECT_THROW(Gradient({Apply("exp", "e", {a})}, {}, {a}), Error);
}

TEST(Gradient, LossHeadNeedsNoHeadGradient) {
  if (!HasOp("SoftmaxOutput")) GTEST_SKIP() << "SoftmaxOutput not registered yet";
  NodeEntry data = Var("data"), label = Var("label");
  NodeEntry w = Var("w");
  NodeEntry x = Apply("elemwise_mul", "scale", {data, w});
  NodeEntry out = Apply("SoftmaxOutput", "softmax", {x, label});
  const std::vector<NodeEntry> g = Gradient({out}, {NodeEntry{}}, {w, label});
  ASSERT_NE(g[0].node, nullptr);
  EXPECT_EQ(g[1].node, nullptr);  // labels get no gradient
  const std::vector<std::string> ops = OpNames({g[0]});
  EXPECT_TRUE(Contains(ops, "_backward_SoftmaxOutput"));
  EXPECT_FALSE(Contains(ops, "ones_like"));
  EXPECT_FALSE(Contains(ops, "_plus_scalar"));

  // d/dw = data * (softmax(data * w) - onehot(label)) per row (grad_scale 1, no normalizer).
  const std::vector<double> d = {0.5, -1, 2, 1, 0.25, -0.5};
  const std::vector<double> wv = {1, 2, -1, 0.5, 1, 3};
  const std::vector<double> lab = {2, 0};
  const std::vector<double> got = ToVector(Evaluate({g[0]}, {{"data", MakeArray({2, 3}, d)},
                                                             {"w", MakeArray({2, 3}, wv)},
                                                             {"label", MakeArray({2}, lab)}})[0]);
  for (int r = 0; r < 2; ++r) {
    double z[3], sum = 0;
    for (int c = 0; c < 3; ++c) sum += z[c] = std::exp(d[r * 3 + c] * wv[r * 3 + c]);
    for (int c = 0; c < 3; ++c) {
      const double p = z[c] / sum - (c == lab[r] ? 1.0 : 0.0);
      EXPECT_NEAR(got[r * 3 + c], d[r * 3 + c] * p, 1e-9) << r << "," << c;
    }
  }
}

TEST(Gradient, MlpAgainstFiniteDifferences) {
  if (!HasOp("FullyConnected") || !HasOp("Activation")) GTEST_SKIP() << "MLP ops not registered";
  std::mt19937_64 rng(7);
  NodeEntry data = Var("data"), w1 = Var("w1"), b1 = Var("b1"), w2 = Var("w2"), b2 = Var("b2");
  NodeEntry h = Apply("FullyConnected", "fc1", {data, w1, b1}, {{"num_hidden", "4"}});
  h = Apply("Activation", "act1", {h}, {{"act_type", "tanh"}});
  NodeEntry y = Apply("FullyConnected", "fc2", {h, w2, b2}, {{"num_hidden", "2"}});
  // data and b2 are each read by two layers, so their gradients are sums.
  NodeEntry w3 = Var("w3");
  NodeEntry y2 = Apply("FullyConnected", "fc3", {data, w3, b2}, {{"num_hidden", "2"}});
  CheckGradient({y, y2}, {"h", ""}, {data, w1, b1, w2, b2, w3},
                {{"data", Random({3, 5}, &rng)},
                 {"w1", Random({4, 5}, &rng)},
                 {"b1", Random({4}, &rng)},
                 {"w2", Random({2, 4}, &rng)},
                 {"b2", Random({2}, &rng)},
                 {"w3", Random({2, 5}, &rng)},
                 {"h", Random({3, 2}, &rng)}});
}

TEST(Gradient, ConvNetWithBatchNormAndShortcutAgainstFiniteDifferences) {
  std::mt19937_64 rng(11);
  NodeEntry data = Var("data"), w1 = Var("w1"), b1 = Var("b1"), gamma = Var("gamma"),
            beta = Var("beta"), mm = Var("mm"), mv = Var("mv"), w2 = Var("w2"), w3 = Var("w3");
  NodeEntry c = Apply("Convolution", "conv1", {data, w1, b1},
                      {{"kernel", "(3,3)"}, {"pad", "(1,1)"}, {"num_filter", "2"}});
  NodeEntry bn = Apply("BatchNorm", "bn1", {c, gamma, beta, mm, mv}, {{"fix_gamma", "false"}});
  // An identity shortcut: data is read by the convolution and by the sum.
  NodeEntry h = Apply("Activation", "act1", {Apply("elemwise_add", "res", {bn, data})},
                      {{"act_type", "tanh"}});
  h = Apply("Pooling", "pool1", {h}, {{"kernel", "(2,2)"}, {"stride", "(2,2)"}});
  h = Apply("Convolution", "conv2", {h, w2},
            {{"kernel", "(1,1)"}, {"num_filter", "3"}, {"no_bias", "true"}});
  NodeEntry y = Apply("FullyConnected", "fc", {h, w3}, {{"num_hidden", "2"}, {"no_bias", "true"}});
  Value var = Random({2}, &rng, 0.5, 1.5);
  CheckGradient({y}, {"h"}, {data, w1, b1, gamma, beta, w2, w3},
                {{"data", Random({3, 2, 4, 4}, &rng)},
                 {"w1", Random({2, 2, 3, 3}, &rng)},
                 {"b1", Random({2}, &rng)},
                 {"gamma", Random({2}, &rng, 0.5, 1.5)},
                 {"beta", Random({2}, &rng)},
                 {"mm", Random({2}, &rng)},
                 {"mv", var},
                 {"w2", Random({3, 2, 1, 1}, &rng)},
                 {"w3", Random({2, 12}, &rng)},
                 {"h", Random({3, 2}, &rng)}});
}

}  // namespace
}  // namespace mx
