// Predictors: one loaded model shared by many threads, each with its own predictor, computing
// exactly what one thread computes; reshape keeps the weights; bad models and inputs are errors.
#include "predict/predictor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "array_test_util.h"
#include "base/error.h"

namespace mx {
namespace {

Symbol Op(const std::string& op, std::vector<Symbol> args,
          std::map<std::string, std::string> params = {}, const std::string& name = "") {
  Symbol s = Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

Symbol Mlp() {
  Symbol x = Symbol::Variable("data");
  x = Op("FullyConnected", {x}, {{"num_hidden", "64"}}, "fc1");
  x = Op("Activation", {x}, {{"act_type", "relu"}}, "relu1");
  x = Op("FullyConnected", {x}, {{"num_hidden", "10"}}, "fc2");
  return Op("SoftmaxOutput", {x}, {}, "softmax");
}

// LeNet with a batch norm, so the auxiliary states are shared too.
Symbol LeNet() {
  Symbol x = Symbol::Variable("data");
  x = Op("Convolution", {x}, {{"kernel", "(5,5)"}, {"num_filter", "8"}}, "conv1");
  x = Op("BatchNorm", {x}, {}, "bn1");
  x = Op("Activation", {x}, {{"act_type", "tanh"}}, "tanh1");
  x = Op("Pooling", {x}, {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"pool_type", "max"}}, "pool1");
  x = Op("Convolution", {x}, {{"kernel", "(5,5)"}, {"num_filter", "16"}}, "conv2");
  x = Op("Activation", {x}, {{"act_type", "tanh"}}, "tanh2");
  x = Op("Pooling", {x}, {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"pool_type", "max"}}, "pool2");
  x = Op("Flatten", {x}, {}, "flat");
  x = Op("FullyConnected", {x}, {{"num_hidden", "32"}}, "fc1");
  x = Op("Activation", {x}, {{"act_type", "tanh"}}, "tanh3");
  x = Op("FullyConnected", {x}, {{"num_hidden", "10"}}, "fc2");
  return Op("SoftmaxOutput", {x}, {}, "softmax");
}

std::vector<float> Random(size_t n, uint32_t seed, float lo = -0.5f, float hi = 0.5f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// A parameter file's bytes for `net` with data of `data_shape`: random weights, as "arg:" and
// "aux:" entries (moving variances positive).
std::string Params(const Symbol& net, const Shape& data_shape) {
  Graph g = Graph::FromOutputs(net.outputs);
  const IndexedGraph& idx = g.indexed();
  for (uint32_t nid : idx.input_nodes()) {
    if (idx[nid].node->attrs.name == "data") g.shapes[idx.entry_id(nid, 0)] = data_shape;
  }
  InferShape(&g);
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  uint32_t seed = 1;
  for (uint32_t nid : idx.input_nodes()) {
    const std::string& name = idx[nid].node->attrs.name;
    if (name == "data" || name == "softmax_label") continue;
    const bool aux = name.find("moving") != std::string::npos;
    const Shape& s = g.shapes[idx.entry_id(nid, 0)];
    NDArray a(s, Context::CPU());
    const bool var = name.find("moving_var") != std::string::npos;
    const std::vector<float> v = Random(s.Size(), seed++, var ? 0.5f : -0.5f, var ? 1.5f : 0.5f);
    a.SyncCopyFromCPU(v.data(), v.size());
    arrays.push_back(a);
    names.push_back((aux ? "aux:" : "arg:") + name);
  }
  return NDArray::SaveToBuffer(arrays, names);
}

using test::Read;

struct Case {
  const char* name;
  Symbol (*net)();
  Shape sample;  // one input's shape (batch 1)
};

class PredictorThreads : public ::testing::TestWithParam<Case> {};

// Note [shared model]: 8 threads x 1,000 forwards, each thread with its own predictor over one
// model, each output checked against what a single predictor computed for the same input.
TEST_P(PredictorThreads, EveryThreadComputesWhatOneThreadComputes) {
  const Case& c = GetParam();
  const Symbol net = c.net();
  auto model = Model::Load(net.ToJSON(), Params(net, c.sample), Context::CPU());
  constexpr int kInputs = 16, kThreads = 8, kForwards = 1000;
  const size_t n = static_cast<size_t>(c.sample.Size());
  std::vector<std::vector<float>> inputs, expected;
  {
    Predictor one(model, {{"data", c.sample}});
    for (int i = 0; i < kInputs; ++i) {
      inputs.push_back(Random(n, 100 + i, 0.0f, 1.0f));
      one.SetInput("data", inputs.back().data(), n);
      one.Forward();
      expected.push_back(Read(one.Output(0)));
    }
  }
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Predictor p(model, {{"data", c.sample}});
        for (int k = 0; k < kForwards; ++k) {
          const int i = (k * 7 + t) % kInputs;
          p.SetInput("data", inputs[i].data(), n);
          p.Forward();
          if (Read(p.Output(0)) != expected[i]) mismatches.fetch_add(1);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
        errors.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0) << "of " << kThreads * kForwards << " forwards";
}

INSTANTIATE_TEST_SUITE_P(Nets, PredictorThreads,
                         ::testing::Values(Case{"Mlp", Mlp, Shape{1, 784}},
                                           Case{"LeNet", LeNet, Shape{1, 1, 28, 28}}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Predictor, ReshapeKeepsTheWeightsAndSharesThem) {
  const Symbol net = Mlp();
  auto model = Model::Load(net.ToJSON(), Params(net, Shape{1, 784}), Context::CPU());
  Predictor one(model, {{"data", Shape{1, 784}}});
  const std::vector<float> x = Random(4 * 784, 7, 0.0f, 1.0f);
  std::vector<float> rows;
  for (int r = 0; r < 4; ++r) {
    one.SetInput("data", x.data() + r * 784, 784);
    one.Forward();
    const std::vector<float> y = Read(one.Output(0));
    rows.insert(rows.end(), y.begin(), y.end());
  }
  one.Reshape({{"data", Shape{4, 784}}});
  EXPECT_EQ(one.Output(0).shape(), (Shape{4, 10}));
  one.SetInput("data", x.data(), x.size());
  one.Forward();
  const std::vector<float> batch = Read(one.Output(0));
  ASSERT_EQ(batch.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_NEAR(batch[i], rows[i], 1e-5f) << i;
  // No copy of the weights: the model's arrays are the ones bound.
  EXPECT_EQ(model.use_count(), 2);
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Predictor, BadModelsAndInputsAreErrorsNamingWhatIsWrong) {
  const Symbol net = Mlp();
  const std::string json = net.ToJSON();
  const std::string params = Params(net, Shape{1, 784});
  auto model = Model::Load(json, params, Context::CPU());
  EXPECT_NE(ErrorOf([&] {
              Predictor(model, {{"data", Shape{1, 785}}});
            })
                .find("argument 'fc1_weight' (input 'weight' of node 'fc1' (FullyConnected)): "
                      "given shape (64,784), inferred (64,785)"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              Predictor(model, {{"image", Shape{1, 784}}});
            }).find("'image' is not an input of the model; its inputs are: data, softmax_label"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              Predictor(model, {{"fc1_weight", Shape{64, 784}}});
            }).find("(it is one of its weights)"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { Predictor(model, {}); }).find("argument 'data' is neither"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              Predictor(model, {{"data", Shape{0, 784}}});
            }).find("complete shape"),
            std::string::npos);
  Predictor p(model, {{"data", Shape{2, 784}}});
  std::vector<float> x(784);
  EXPECT_NE(ErrorOf([&] {
              p.SetInput("data", x.data(), x.size());
            }).find("input 'data' has shape (2,784) (1568 values), got 784 values"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { Model::Load(json, "not a parameter file", Context::CPU()); }), "");
  EXPECT_NE(
      ErrorOf([&] { Model::Load(json, params.substr(0, params.size() / 2), Context::CPU()); }), "");
  EXPECT_NE(ErrorOf([&] { Model::Load("{\"nodes\": 3}", params, Context::CPU()); }), "");
  // A parameter of another net, and a missing auxiliary state.
  const Symbol lenet = LeNet();
  EXPECT_NE(ErrorOf([&] {
              Model::Load(json, Params(lenet, Shape{1, 1, 28, 28}), Context::CPU());
            }).find("is not an argument of the symbol"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              Model::Load(lenet.ToJSON(), params, Context::CPU());
            }).find("lack the auxiliary state 'bn1_moving_mean'"),
            std::string::npos);
  // Still working.
  p.Reshape({{"data", Shape{1, 784}}});
  p.SetInput("data", x.data(), x.size());
  p.Forward();
  EXPECT_EQ(Read(p.Output(0)).size(), 10u);
}

}  // namespace
}  // namespace mx
