// Blocked activations in executors (op/layout.h, src/graph/pass/plan_layout.cc): which entries the
// layout pass keeps blocked, that training and inference compute what plain execution computes
// (every output, gradient and auxiliary state), that interior layers reorder nothing, and that
// the paths that decline a blocked call (accumulated gradients, frozen parameters) still compute
// right on plain copies.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <mutex>
#include <random>

#include "array_test_util.h"
#include "engine/engine.h"
#include "executor/executor.h"
#include "op/layout.h"
#if MX_USE_ONEDNN
#include "op/onednn/onednn.h"
#endif

namespace mx {
namespace {

#if MX_USE_ONEDNN

Symbol Op(const std::string& op, std::vector<Symbol> args,
          std::map<std::string, std::string> params, const std::string& name) {
  Symbol s = Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

Symbol Conv(const Symbol& x, int filters, int kernel, const std::string& name) {
  const std::string k = std::to_string(kernel), p = std::to_string(kernel / 2);
  return Op("Convolution", {x},
            {{"kernel", "(" + k + "," + k + ")"},
             {"pad", "(" + p + "," + p + ")"},
             {"num_filter", std::to_string(filters)}},
            name);
}

Symbol Relu(const Symbol& x, const std::string& name) {
  return Op("Activation", {x}, {{"act_type", "relu"}}, name);
}

Symbol BN(const Symbol& x, const std::string& name) {
  return Op("BatchNorm", {x}, {{"fix_gamma", "false"}}, name);
}

// A ResNet-style net: a residual block of 32 channels between a 16-channel convolution and max
// pooling, a 1x1 convolution, global average pooling (blocked data, plain output: Flatten reads
// it), then a classifier (with its loss, or the logits alone).
Symbol ResidualNet(bool loss = true) {
  Symbol x = Relu(BN(Conv(Symbol::Variable("data"), 32, 3, "conv1"), "bn1"), "relu1");
  Symbol y = Relu(BN(Conv(x, 32, 3, "conv2"), "bn2"), "relu2");
  y = BN(Conv(y, 32, 3, "conv3"), "bn3");
  Symbol sum = Op("elemwise_add", {x, y}, {}, "add");
  Symbol pool = Op("Pooling", {Relu(sum, "relu3")},
                   {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"pool_type", "max"}}, "pool");
  Symbol conv4 = Relu(Conv(pool, 32, 1, "conv4"), "relu4");
  Symbol gpool = Op("Pooling", {conv4},
                    {{"kernel", "(1,1)"}, {"global_pool", "true"}, {"pool_type", "avg"}}, "gpool");
  Symbol fc =
      Op("FullyConnected", {Op("Flatten", {gpool}, {}, "flat")}, {{"num_hidden", "10"}}, "fc");
  return loss ? Op("SoftmaxOutput", {fc}, {}, "softmax") : fc;
}

using test::ExpectNear;
using test::Fill;
using test::Read;

// Switches blocked layouts for the scope of a test.
class LayoutScope {
 public:
  explicit LayoutScope(bool on) : was_(BlockedLayouts()) { SetBlockedLayouts(on); }
  ~LayoutScope() { SetBlockedLayouts(was_); }

 private:
  bool was_;
};

std::unique_ptr<Executor> Bind(const Symbol& net, const Shape& data, GradReq req,
                               const std::map<std::string, GradReq>& reqs = {}) {
  auto exec = Executor::SimpleBind(net, Context::CPU(), {{"data", data}}, {}, req, reqs);
  for (size_t i = 0; i < exec->arg_arrays().size(); ++i) Fill(exec->arg_arrays()[i], 11 + i);
  for (size_t i = 0; i < exec->aux_arrays().size(); ++i) {
    exec->aux_arrays()[i].Fill(exec->aux_names()[i].find("var") != std::string::npos ? 1.0 : 0.0);
  }
  return exec;
}

// Two training steps (so accumulated gradients and moving statistics see a second pass), then
// every output, gradient and auxiliary state.
std::vector<std::vector<float>> Train(Executor* exec) {
  for (int step = 0; step < 2; ++step) {
    exec->Forward(true);
    exec->Backward({});
  }
  std::vector<std::vector<float>> r;
  for (const NDArray& o : exec->outputs()) r.push_back(Read(o));
  for (const NDArray& g : exec->grad_arrays()) {
    if (!g.is_none()) r.push_back(Read(g));
  }
  for (const NDArray& a : exec->aux_arrays()) r.push_back(Read(a));
  return r;
}

void ExpectSame(const std::vector<std::vector<float>>& blocked,
                const std::vector<std::vector<float>>& plain) {
  ASSERT_EQ(blocked.size(), plain.size());
  for (size_t i = 0; i < blocked.size(); ++i) {
    ExpectNear(blocked[i], plain[i], "array " + std::to_string(i), "blocked", "plain");
  }
}

const Shape kData{4, 16, 12, 12};

TEST(BlockedLayout, TrainingMatchesPlainExecution) {
  std::vector<std::vector<float>> blocked, plain;
  {
    LayoutScope on(true);
    auto exec = Bind(ResidualNet(), kData, GradReq::kWrite);
    // conv1..4, bn1..3, relu1..4, add, pool and their gradients; not gpool's output (Flatten
    // reads it) nor anything the caller owns.
    EXPECT_GE(exec->blocked_entries(), 20u) << exec->DebugPlan();
    const uint64_t fallbacks = PlainFallbacks();
    blocked = Train(exec.get());
    EXPECT_EQ(PlainFallbacks(), fallbacks);  // every op took its blocked arrays directly
  }
  {
    LayoutScope off(false);
    auto exec = Bind(ResidualNet(), kData, GradReq::kWrite);
    EXPECT_EQ(exec->blocked_entries(), 0u);
    plain = Train(exec.get());
  }
  ExpectSame(blocked, plain);
}

TEST(BlockedLayout, PlanKeepsBoundariesPlain) {
  LayoutScope on(true);
  auto exec = Bind(ResidualNet(), kData, GradReq::kWrite);
  const std::string plan = exec->DebugPlan();
  auto blocked = [&](const std::string& entry) {
    const size_t at = plan.find(entry + " ");
    EXPECT_NE(at, std::string::npos) << entry << " in\n" << plan;
    const size_t end = plan.find('\n', at);
    return plan.substr(at, end - at).find("nChw16c") != std::string::npos;
  };
  EXPECT_TRUE(blocked("conv1[0]"));
  EXPECT_TRUE(blocked("relu1[0]"));
  EXPECT_TRUE(blocked("add[0]"));
  EXPECT_TRUE(blocked("pool[0]"));
  EXPECT_TRUE(blocked("conv4[0]"));
  EXPECT_TRUE(blocked("relu4[0]"));
  EXPECT_FALSE(blocked("gpool[0]"));  // Flatten reads plain arrays
  EXPECT_FALSE(blocked("bn1[1]"));    // per-channel statistics
  EXPECT_FALSE(blocked("data[0]"));
  EXPECT_FALSE(blocked("softmax[0]"));
}

// A chain of 32-channel convolutions: with blocked activations only the first input and the last
// output are reordered; plain, every convolution reorders both.
TEST(BlockedLayout, InteriorLayersReorderNothing) {
  Symbol x = Symbol::Variable("data");
  for (int i = 0; i < 4; ++i)
    x = Relu(Conv(x, 32, 3, "c" + std::to_string(i)), "r" + std::to_string(i));
  const Shape data{2, 32, 14, 14};
  auto reorders = [&](bool on) {
    LayoutScope scope(on);
    auto exec = Bind(x, data, GradReq::kNull);
    exec->Forward(false);
    exec->outputs()[0].WaitToRead();  // the plans' weights are cached from here on
    const uint64_t before = onednn::OperandReorders();
    exec->Forward(false);
    exec->outputs()[0].WaitToRead();
    return std::make_pair(onednn::OperandReorders() - before, Read(exec->outputs()[0]));
  };
  const auto blocked = reorders(true), plain = reorders(false);
  EXPECT_EQ(blocked.first, 2u);
  EXPECT_EQ(plain.first, 8u);
  ExpectNear(blocked.second, plain.second, "output", "blocked", "plain");
}

// Calls the oneDNN paths decline on blocked arrays run on plain copies: a weight gradient to
// accumulate into (convolution backward), frozen batch-norm parameters, average pooling with the
// 'full' convention oneDNN counts differently.
TEST(BlockedLayout, DeclinedCallsComputeOnPlainCopies) {
  const std::map<std::string, GradReq> reqs{
      {"conv2_weight", GradReq::kAdd}, {"bn2_gamma", GradReq::kNull}, {"bn2_beta", GradReq::kNull}};
  std::vector<std::vector<float>> blocked, plain;
  {
    LayoutScope on(true);
    auto exec = Bind(ResidualNet(), kData, GradReq::kWrite, reqs);
    EXPECT_GE(exec->blocked_entries(), 20u);
    const uint64_t fallbacks = PlainFallbacks();
    blocked = Train(exec.get());
    EXPECT_GT(PlainFallbacks(), fallbacks);
  }
  {
    LayoutScope off(false);
    plain = Train(Bind(ResidualNet(), kData, GradReq::kWrite, reqs).get());
  }
  ExpectSame(blocked, plain);
}

// Pooling whose output a Flatten reads (plain) from blocked data, both ways: the primitive runs
// in the data's layout and the output (and its gradient) go through a conversion.
TEST(BlockedLayout, PoolingBetweenLayouts) {
  for (const char* pool_type : {"max", "avg"}) {
    Symbol pool = Op("Pooling", {Relu(Conv(Symbol::Variable("data"), 32, 3, "conv"), "relu")},
                     {{"kernel", "(3,3)"}, {"stride", "(2,2)"}, {"pool_type", pool_type}}, "pool");
    Symbol fc =
        Op("FullyConnected", {Op("Flatten", {pool}, {}, "flat")}, {{"num_hidden", "4"}}, "fc");
    Symbol net = Op("SoftmaxOutput", {fc}, {}, "softmax");
    std::vector<std::vector<float>> blocked, plain;
    {
      LayoutScope on(true);
      auto exec = Bind(net, Shape{2, 16, 9, 9}, GradReq::kWrite);
      const std::string plan = exec->DebugPlan();
      EXPECT_NE(plan.find("relu[0]"), std::string::npos);
      EXPECT_NE(plan.substr(plan.find("relu[0]")).find("nChw16c"), std::string::npos) << plan;
      EXPECT_EQ(plan.substr(plan.find("pool[0]"),
                            plan.find('\n', plan.find("pool[0]")) - plan.find("pool[0]"))
                    .find("nChw16c"),
                std::string::npos)
          << plan;
      const uint64_t fallbacks = PlainFallbacks();
      blocked = Train(exec.get());
      EXPECT_EQ(PlainFallbacks(), fallbacks);
    }
    {
      LayoutScope off(false);
      plain = Train(Bind(net, Shape{2, 16, 9, 9}, GradReq::kWrite).get());
    }
    ExpectSame(blocked, plain);
  }
}

TEST(BlockedLayout, InferenceMatchesPlainExecution) {
  std::vector<float> blocked, plain;
  for (bool on : {true, false}) {
    LayoutScope scope(on);
    auto exec = Bind(ResidualNet(false), kData, GradReq::kNull);
    EXPECT_EQ(exec->blocked_entries() > 0, on);
    const uint64_t fallbacks = PlainFallbacks();
    exec->Forward(false);
    exec->outputs()[0].WaitToRead();
    EXPECT_EQ(PlainFallbacks(), fallbacks);
    (on ? blocked : plain) = Read(exec->outputs()[0]);
  }
  ExpectNear(blocked, plain, "output", "blocked", "plain");
}

// A monitor sees every value as the plain array it stands for.
TEST(BlockedLayout, MonitorSeesPlainValues) {
  std::map<std::string, std::vector<float>> seen[2];
  for (bool on : {true, false}) {
    LayoutScope scope(on);
    auto exec = Bind(ResidualNet(), kData, GradReq::kNull);
    std::mutex mu;
    exec->SetMonitor([&](const std::string& name, const NDArray& value) {
      // The value is ready while the monitor runs; a synchronous read would wait on the next
      // write of its (shared) storage, which waits on this call.
      const float* p = value.data().data<float>();
      std::vector<float> v(p, p + value.Size());
      std::lock_guard<std::mutex> lock(mu);
      seen[on][name] = std::move(v);
    });
    exec->Forward(false);
    engine::Engine::Get()->WaitForAll();
  }
  ASSERT_TRUE(seen[1].count("relu1_output"));
  for (const auto& [name, values] : seen[0]) {
    ASSERT_TRUE(seen[1].count(name)) << name;
    ExpectNear(seen[1][name], values, name, "blocked", "plain");
  }
}

// Without oneDNN (MX_ONEDNN=0) nothing reads blocked arrays, so nothing is kept blocked.
TEST(BlockedLayout, NothingBlockedWithoutOneDNN) {
  LayoutScope on(true);
  onednn::SetEnabled(false);
  auto exec = Bind(ResidualNet(), kData, GradReq::kWrite);
  onednn::SetEnabled(true);
  EXPECT_EQ(exec->blocked_entries(), 0u);
}

#endif  // MX_USE_ONEDNN

// The conversions are each other's inverse and put element (n, c, h, w) where nChw16c says.
TEST(BlockedLayout, ConversionOrder) {
  const Shape s{2, 32, 3, 5};
  std::vector<float> plain(s.Size()), blocked(s.Size()), back(s.Size());
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<float>(i);
  TBlob b{blocked.data(), s, DType::kFloat32, Context::CPU(), Layout::kBlocked16};
  PlainToBlocked(plain.data(), b);
  const int64_t n = 1, c = 21, h = 2, w = 3;
  EXPECT_EQ(blocked[((n * 2 + c / 16) * 15 + h * 5 + w) * 16 + c % 16],
            plain[((n * 32 + c) * 3 + h) * 5 + w]);
  BlockedToPlain(b, back.data());
  EXPECT_EQ(back, plain);
  EXPECT_TRUE(Blockable(s, static_cast<int>(DType::kFloat32)));
  EXPECT_FALSE(Blockable(Shape{2, 20, 3, 5}, static_cast<int>(DType::kFloat32)));
  EXPECT_FALSE(Blockable(s, static_cast<int>(DType::kFloat64)));
  EXPECT_FALSE(Blockable(Shape{2, 32, 15}, static_cast<int>(DType::kFloat32)));
}

}  // namespace
}  // namespace mx
