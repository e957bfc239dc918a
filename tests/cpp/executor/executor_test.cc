#include "executor/executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "array_test_util.h"
#include "base/error.h"
#include "engine/engine.h"
#include "op/invoke.h"
#include "storage/storage.h"

#include <algorithm>

namespace mx {
namespace {

Symbol Op(const std::string& op, std::vector<Symbol> args,
          std::map<std::string, std::string> params = {}, const std::string& name = "") {
  Symbol s = Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

NDArray Array(const Shape& s, const std::vector<float>& v) {
  NDArray a(s, Context::CPU());
  a.SyncCopyFromCPU(v.data(), v.size());
  return a;
}

using test::Read;

// The seed document's first symbolic example: c = (a + b) / 10 + 1.
Symbol SeedSymbol() {
  Symbol a = Symbol::Variable("A"), b = Symbol::Variable("B");
  Symbol sum = Op("elemwise_add", {a, b});
  Symbol div = Op("_div_scalar", {sum}, {{"scalar", "10"}});
  return Op("_plus_scalar", {div}, {{"scalar", "1"}});
}

TEST(Executor, SeedForwardWithoutGradients) {
  Symbol c = SeedSymbol();
  EXPECT_EQ(c.ListArguments(), (std::vector<std::string>{"A", "B"}));
  NDArray a = Array(Shape{10}, std::vector<float>(10, 1.0f));
  NDArray b = Array(Shape{10}, std::vector<float>(10, 2.0f));
  auto exec = Executor::Bind(c, Context::CPU(), {a, b}, {}, {GradReq::kNull, GradReq::kNull}, {});
  exec->Forward(false);
  ASSERT_EQ(exec->outputs().size(), 1u);
  EXPECT_EQ(exec->outputs()[0].shape(), (Shape{10}));
  for (float v : Read(exec->outputs()[0])) EXPECT_FLOAT_EQ(v, 1.3f);
}

TEST(Executor, SeedBackwardOfOnesGivesOneTenth) {
  Symbol c = SeedSymbol();
  NDArray a = Array(Shape{10}, std::vector<float>(10, 1.0f));
  NDArray b = Array(Shape{10}, std::vector<float>(10, 2.0f));
  NDArray ga(Shape{10}, Context::CPU()), gb(Shape{10}, Context::CPU());
  auto exec = Executor::Bind(c, Context::CPU(), {a, b}, {ga, gb}, {}, {});
  exec->Forward(true);
  exec->Backward({Array(Shape{10}, std::vector<float>(10, 1.0f))});
  for (float v : Read(ga)) EXPECT_FLOAT_EQ(v, 0.1f);
  for (float v : Read(gb)) EXPECT_FLOAT_EQ(v, 0.1f);
}

TEST(Executor, GradAddAccumulates) {
  Symbol c = SeedSymbol();
  NDArray a = Array(Shape{3}, {1, 2, 3}), b = Array(Shape{3}, {4, 5, 6});
  NDArray ga = Array(Shape{3}, {0, 0, 0}), gb = Array(Shape{3}, {1, 1, 1});
  auto exec =
      Executor::Bind(c, Context::CPU(), {a, b}, {ga, gb}, {GradReq::kAdd, GradReq::kWrite}, {});
  for (int i = 0; i < 3; ++i) {
    exec->Forward(true);
    exec->Backward({});
  }
  for (float v : Read(ga)) EXPECT_NEAR(v, 0.3f, 1e-6);
  for (float v : Read(gb)) EXPECT_NEAR(v, 0.1f, 1e-6);
}

TEST(Executor, VariableUsedTwiceSumsItsGradients) {
  // y = a * a + a  =>  dy/da = 2a + 1
  Symbol a = Symbol::Variable("a");
  Symbol y = Op("elemwise_add", {Op("elemwise_mul", {a, a}), a});
  auto exec = Executor::SimpleBind(y, Context::CPU(), {{"a", Shape{4}}}, {}, GradReq::kWrite, {});
  exec->arg_arrays()[0].SyncCopyFromCPU(std::vector<float>{1, 2, -3, 0.5f}.data(), 4);
  exec->Forward(true);
  exec->Backward({});
  EXPECT_EQ(Read(exec->outputs()[0]), (std::vector<float>{2, 6, 6, 0.75f}));
  EXPECT_EQ(Read(exec->grad_arrays()[0]), (std::vector<float>{3, 5, -5, 2}));
}

TEST(Executor, SimpleBindInfersAndAllocates) {
  Symbol c = SeedSymbol();
  auto exec =
      Executor::SimpleBind(c, Context::CPU(), {{"A", Shape{2, 5}}}, {}, GradReq::kWrite, {});
  ASSERT_EQ(exec->arg_arrays().size(), 2u);
  EXPECT_EQ(exec->arg_arrays()[1].shape(), (Shape{2, 5}));
  EXPECT_EQ(exec->grad_arrays()[1].shape(), (Shape{2, 5}));
  exec->Forward(false);
  for (float v : Read(exec->outputs()[0])) EXPECT_FLOAT_EQ(v, 1.0f);
}

TEST(Executor, BindErrorsNameTheArgument) {
  Symbol c = SeedSymbol();
  NDArray a = Array(Shape{3}, {1, 2, 3}), b = Array(Shape{4}, {1, 2, 3, 4});
  try {
    Executor::Bind(c, Context::CPU(), {a, b}, {}, {}, {});
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(4)"), std::string::npos) << msg;
  }
  EXPECT_THROW(Executor::Bind(c, Context::CPU(), {a}, {}, {}, {}), Error);
  try {
    Executor::SimpleBind(c, Context::CPU(), {{"C", Shape{3}}}, {}, GradReq::kNull, {});
    FAIL() << "expected an error for an unknown input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'C'"), std::string::npos) << e.what();
  }
  try {
    Executor::SimpleBind(c, Context::CPU(), {}, {}, GradReq::kNull, {});
    FAIL() << "expected an error for unknown shapes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'A'"), std::string::npos) << e.what();
  }
  // The library keeps working.
  auto exec = Executor::SimpleBind(c, Context::CPU(), {{"A", Shape{1}}}, {}, GradReq::kNull, {});
  exec->Forward(false);
  EXPECT_FLOAT_EQ(Read(exec->outputs()[0])[0], 1.0f);
}

TEST(Executor, SharedArgumentsSeeUpdates) {
  Symbol c = SeedSymbol();
  auto train = Executor::SimpleBind(c, Context::CPU(), {{"A", Shape{2}}}, {}, GradReq::kWrite, {});
  auto eval = Executor::Bind(c, Context::CPU(), train->arg_arrays(), {}, {}, {}, train.get());
  train->arg_arrays()[0].Fill(9.0);
  eval->Forward(false);
  EXPECT_FLOAT_EQ(Read(eval->outputs()[0])[0], 1.9f);
}

TEST(Executor, PlansLessMemoryThanNaive) {
  Symbol x = Symbol::Variable("x");
  Symbol y = x;
  for (int i = 0; i < 8; ++i) y = Op(i % 2 ? "tanh" : "sigmoid", {y});
  auto exec =
      Executor::SimpleBind(y, Context::CPU(), {{"x", Shape{64, 64}}}, {}, GradReq::kNull, {});
  EXPECT_GT(exec->naive_bytes(), 0u);
  EXPECT_LE(exec->planned_bytes() * 3, exec->naive_bytes()) << exec->DebugPlan();
}

TEST(Executor, SteadyStateAllocatesNothing) {
  Symbol a = Symbol::Variable("a");
  Symbol y = Op("elemwise_mul", {Op("tanh", {a}), Op("exp", {a})});
  auto exec =
      Executor::SimpleBind(y, Context::CPU(), {{"a", Shape{32, 32}}}, {}, GradReq::kWrite, {});
  exec->Forward(true);
  exec->Backward({});
  engine::Engine::Get()->WaitForAll();
  const uint64_t before = Storage::Get()->Stats(Context::CPU()).num_allocs;
  for (int i = 0; i < 20; ++i) {
    exec->Forward(true);
    exec->Backward({});
  }
  engine::Engine::Get()->WaitForAll();
  EXPECT_EQ(Storage::Get()->Stats(Context::CPU()).num_allocs, before);
}

TEST(Executor, MonitorSeesEveryOutput) {
  Symbol c = SeedSymbol();
  auto exec = Executor::SimpleBind(c, Context::CPU(), {{"A", Shape{2}}}, {}, GradReq::kNull, {});
  std::mutex mu;
  std::vector<std::string> seen;
  exec->SetMonitor([&](const std::string& name, const NDArray&) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(name);
  });
  exec->Forward(false);
  engine::Engine::Get()->WaitForAll();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(seen.back().find("_plusscalar"), std::string::npos) << seen.back();
}

TEST(Executor, ErrorsInsideForwardSurfaceAtReadAndRecover) {
  Symbol a = Symbol::Variable("a");
  Symbol y = Op("exp", {a});
  auto bad = Executor::SimpleBind(y, Context::CPU(), {{"a", Shape{2}}}, {{"a", 4 /*int32*/}},
                                  GradReq::kNull, {});
  bad->Forward(false);
  EXPECT_THROW(bad->outputs()[0].WaitToRead(), Error);
  auto good = Executor::SimpleBind(y, Context::CPU(), {{"a", Shape{2}}}, {}, GradReq::kNull, {});
  good->Forward(false);
  EXPECT_FLOAT_EQ(Read(good->outputs()[0])[0], 1.0f);
}

// A whole graph's gradient against central finite differences (float64).
TEST(Executor, GraphGradientMatchesFiniteDifferences) {
  Symbol x = Symbol::Variable("x"), w = Symbol::Variable("w");
  Symbol h = Op("tanh", {Op("elemwise_mul", {x, w})});
  Symbol y = Op("elemwise_add", {Op("sigmoid", {h}), Op("elemwise_mul", {h, x})});
  const Shape s{6};
  std::map<std::string, int> f64{{"x", 1}, {"w", 1}};
  auto exec =
      Executor::SimpleBind(y, Context::CPU(), {{"x", s}, {"w", s}}, f64, GradReq::kWrite, {});
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<double> xv(6), wv(6), head(6);
  for (auto* v : {&xv, &wv, &head}) {
    for (auto& e : *v) e = dist(rng);
  }
  auto loss = [&](const std::vector<double>& xs, const std::vector<double>& ws) {
    exec->arg_arrays()[0].SyncCopyFromCPU(xs.data(), 6);
    exec->arg_arrays()[1].SyncCopyFromCPU(ws.data(), 6);
    exec->Forward(false);
    std::vector<double> out(6);
    exec->outputs()[0].SyncCopyToCPU(out.data(), 6);
    double l = 0;
    for (int i = 0; i < 6; ++i) l += out[i] * head[i];
    return l;
  };
  loss(xv, wv);
  NDArray hg(s, Context::CPU(), DType::kFloat64);
  hg.SyncCopyFromCPU(head.data(), 6);
  exec->Forward(true);
  exec->Backward({hg});
  std::vector<double> gx(6), gw(6);
  exec->grad_arrays()[0].SyncCopyToCPU(gx.data(), 6);
  exec->grad_arrays()[1].SyncCopyToCPU(gw.data(), 6);
  for (int i = 0; i < 6; ++i) {
    const double eps = 1e-6;
    auto xp = xv, xm = xv, wp = wv, wm = wv;
    xp[i] += eps;
    xm[i] -= eps;
    wp[i] += eps;
    wm[i] -= eps;
    EXPECT_NEAR(gx[i], (loss(xp, wv) - loss(xm, wv)) / (2 * eps), 1e-6);
    EXPECT_NEAR(gw[i], (loss(xv, wp) - loss(xv, wm)) / (2 * eps), 1e-6);
  }
}

}  // namespace
}  // namespace mx

namespace mx {
namespace {

// The seed's MLP (784-128-relu-10-SoftmaxOutput) trained with forward, backward and sgd_update on
// learnable synthetic data (noisy class prototypes); a second executor shares its weights for
// evaluation, like the seed's train/test pair.
TEST(Executor, TrainsAnMlpAndEvaluatesWithASharedExecutor) {
  const int kClasses = 10, kDim = 784, kBatch = 128, kTrain = 1280, kTest = 512;
  std::mt19937 rng(42);
  std::normal_distribution<float> noise(0.f, 1.f);
  std::vector<float> protos(kClasses * kDim);
  for (auto& p : protos) p = noise(rng);
  auto make = [&](int n, std::vector<float>* x, std::vector<float>* y) {
    x->resize(size_t(n) * kDim);
    y->resize(n);
    for (int i = 0; i < n; ++i) {
      const int c = static_cast<int>(rng() % kClasses);
      (*y)[i] = static_cast<float>(c);
      for (int d = 0; d < kDim; ++d)
        (*x)[size_t(i) * kDim + d] = protos[c * kDim + d] + 2.f * noise(rng);
    }
  };
  std::vector<float> xtr, ytr, xte, yte;
  make(kTrain, &xtr, &ytr);
  make(kTest, &xte, &yte);

  Symbol data = Symbol::Variable("data");
  Symbol fc1 = Op("FullyConnected", {data}, {{"num_hidden", "128"}}, "fc1");
  Symbol act = Op("Activation", {fc1}, {{"act_type", "relu"}}, "relu1");
  Symbol fc2 = Op("FullyConnected", {act}, {{"num_hidden", "10"}}, "fc2");
  Symbol net = Op("SoftmaxOutput", {fc2}, {}, "softmax");
  EXPECT_EQ(net.ListArguments(),
            (std::vector<std::string>{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias",
                                      "softmax_label"}));
  auto train = Executor::SimpleBind(net, Context::CPU(), {{"data", Shape{kBatch, kDim}}}, {},
                                    GradReq::kWrite,
                                    {{"data", GradReq::kNull}, {"softmax_label", GradReq::kNull}});
  std::uniform_real_distribution<float> init(-0.07f, 0.07f);
  for (size_t i = 1; i <= 4; ++i) {
    const NDArray& w = train->arg_arrays()[i];
    std::vector<float> v(w.Size());
    for (auto& e : v) e = (i % 2 == 1) ? init(rng) : 0.f;
    w.SyncCopyFromCPU(v.data(), v.size());
  }
  auto eval = Executor::Bind(net, Context::CPU(), train->arg_arrays(), {}, {}, {}, train.get());
  const NodeAttrs sgd = MakeAttrs(OpRegistry::Get()->Get("sgd_update"),
                                  {{"lr", "0.1"}, {"rescale_grad", std::to_string(1.0 / kBatch)}});
  for (int epoch = 0; epoch < 4; ++epoch) {
    for (int b = 0; b + kBatch <= kTrain; b += kBatch) {
      train->arg_arrays()[0].SyncCopyFromCPU(&xtr[size_t(b) * kDim], size_t(kBatch) * kDim);
      train->arg_arrays()[5].SyncCopyFromCPU(&ytr[b], kBatch);
      train->Forward(true);
      train->Backward({});
      for (size_t i = 1; i <= 4; ++i) {
        std::vector<NDArray> out{train->arg_arrays()[i]};
        Invoke(sgd, {train->arg_arrays()[i], train->grad_arrays()[i]}, &out);
      }
    }
  }
  int correct = 0, total = 0;
  for (int b = 0; b + kBatch <= kTest; b += kBatch) {
    eval->arg_arrays()[0].SyncCopyFromCPU(&xte[size_t(b) * kDim], size_t(kBatch) * kDim);
    eval->Forward(false);
    std::vector<float> prob(kBatch * kClasses);
    eval->outputs()[0].SyncCopyToCPU(prob.data(), prob.size());
    for (int i = 0; i < kBatch; ++i) {
      const float* row = &prob[i * kClasses];
      const int pred = static_cast<int>(std::max_element(row, row + kClasses) - row);
      correct += pred == static_cast<int>(yte[b + i]);
      ++total;
    }
  }
  EXPECT_GT(double(correct) / total, 0.9) << correct << " of " << total;
}

}  // namespace
}  // namespace mx

namespace mx {
namespace {

// Freeing an executor right after pushing work must be safe: the pushed ops keep what they read.
// A forward-only executor gives hidden outputs nobody reads (Dropout's mask, BatchNorm's batch
// statistics) no memory; a training-mode forward pass must still run and leave them alone.
TEST(Executor, UnreadHiddenOutputsAreSkipped) {
  Symbol x = Symbol::Variable("data");
  Symbol net = Op("Dropout", {Op("BatchNorm", {x}, {}, "bn")}, {{"p", "0.5"}}, "drop");
  auto exec = Executor::SimpleBind(net, Context::CPU(), {{"data", {8, 4}}}, {}, GradReq::kNull, {});
  std::vector<float> v(32);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7);
  exec->arg_arrays()[0].SyncCopyFromCPU(v.data(), v.size());
  exec->aux_arrays()[0].SyncCopyFromCPU(std::vector<float>(4, 0).data(), 4);
  exec->aux_arrays()[1].SyncCopyFromCPU(std::vector<float>(4, 1).data(), 4);
  exec->Forward(true);
  const std::vector<float> y = Read(exec->outputs()[0]);
  int zeros = 0;
  for (float f : y) zeros += f == 0;
  EXPECT_GT(zeros, 4);
  EXPECT_LT(zeros, 28);
  exec->Forward(false);
  EXPECT_EQ(Read(exec->outputs()[0]).size(), 32u);
}

TEST(Executor, FreeWhileWorkIsPending) {
  Symbol c = SeedSymbol();
  NDArray grad;
  {
    auto exec =
        Executor::SimpleBind(c, Context::CPU(), {{"A", Shape{1 << 16}}}, {}, GradReq::kWrite, {});
    grad = exec->grad_arrays()[0];
    exec->Forward(true);
    exec->Backward({});
  }
  std::vector<float> g(1 << 16);
  grad.SyncCopyToCPU(g.data(), g.size());
  EXPECT_FLOAT_EQ(g[12345], 0.1f);
}

// A convolutional net with batch norm: the moving statistics are auxiliary states the executor
// owns, updated by training passes only, and never given storage shared with anything else.
TEST(Executor, BatchNormAuxiliaryStatesEndToEnd) {
  Symbol x = Symbol::Variable("data");
  Symbol c = Op("Convolution", {x}, {{"kernel", "(3,3)"}, {"num_filter", "3"}}, "conv");
  Symbol bn = Op("BatchNorm", {c}, {{"momentum", "0.5"}}, "bn");
  Symbol p = Op("Pooling", {Op("Activation", {bn}, {{"act_type", "relu"}})},
                {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"pool_type", "max"}});
  Symbol net =
      Op("SoftmaxOutput", {Op("FullyConnected", {p}, {{"num_hidden", "2"}}, "fc")}, {}, "softmax");
  EXPECT_EQ(net.ListAuxiliaryStates(),
            (std::vector<std::string>{"bn_moving_mean", "bn_moving_var"}));
  auto exec = Executor::SimpleBind(net, Context::CPU(), {{"data", {4, 1, 6, 6}}}, {},
                                   GradReq::kWrite, {{"data", GradReq::kNull}});
  ASSERT_EQ(exec->aux_arrays().size(), 2u);
  EXPECT_EQ(exec->aux_arrays()[0].shape(), (Shape{3}));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const NDArray& a : exec->arg_arrays()) {
    std::vector<float> v(a.Size());
    for (float& f : v) f = u(rng);
    a.SyncCopyFromCPU(v.data(), v.size());
  }
  exec->arg_arrays().back().SyncCopyFromCPU(std::vector<float>{0, 1, 1, 0}.data(), 4);
  exec->aux_arrays()[0].SyncCopyFromCPU(std::vector<float>{0, 0, 0}.data(), 3);
  exec->aux_arrays()[1].SyncCopyFromCPU(std::vector<float>{1, 1, 1}.data(), 3);

  // Inference reads the statistics and leaves them alone.
  exec->Forward(false);
  EXPECT_EQ(Read(exec->aux_arrays()[0]), (std::vector<float>{0, 0, 0}));
  // Training moves them halfway (momentum 0.5) toward the batch statistics of the convolution.
  exec->Forward(true);
  exec->Backward({});
  auto probe =
      Executor::SimpleBind(c, Context::CPU(), {{"data", {4, 1, 6, 6}}}, {}, GradReq::kNull, {});
  for (size_t i = 0; i < 3; ++i) NDArray::CopyFromTo(exec->arg_arrays()[i], probe->arg_arrays()[i]);
  probe->Forward(false);
  const std::vector<float> conv = Read(probe->outputs()[0]);
  const std::vector<float> mm = Read(exec->aux_arrays()[0]), mv = Read(exec->aux_arrays()[1]);
  for (int ch = 0; ch < 3; ++ch) {
    double s = 0, ss = 0;
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 16; ++i) s += conv[(n * 3 + ch) * 16 + i];
    const double mean = s / 64;
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 16; ++i) ss += std::pow(conv[(n * 3 + ch) * 16 + i] - mean, 2);
    EXPECT_NEAR(mm[ch], 0.5 * mean, 1e-5);
    EXPECT_NEAR(mv[ch], 0.5 + 0.5 * ss / 64, 1e-5);
  }
  // The plan gives the aux states no planned storage (they are the caller's).
  const std::string plan = exec->DebugPlan();
  for (const char* name : {"bn_moving_mean", "bn_moving_var"}) {
    const size_t at = plan.find(name);
    ASSERT_NE(at, std::string::npos) << plan;
    const std::string line = plan.substr(at, plan.find('\n', at) - at);
    EXPECT_NE(line.find("external"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace mx
