// The header-only C++ front end (include/mx/mx.hpp) as an application uses it: public headers
// only, linked to libmx.so. Exceptions carry the library's message; FeedForward trains, and a
// checkpoint (symbol JSON + params with arg: and aux: entries) reloads to identical predictions.
// DLPack tensors go out and come back without a copy.
#include <dlpack/dlpack.h>
#include <mx/mx.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bright_halves.h"

namespace {

TEST(Frontend, ErrorsAreExceptionsWithTheLibraryMessage) {
  mx::NDArray a = mx::NDArray::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  mx::NDArray b = mx::NDArray::FromVector<float>({1, 2}, {2});
  try {
    mx::NDArray c = a + b;
    FAIL() << "expected mx::Error";
  } catch (const mx::Error& e) {
    EXPECT_EQ(e.status(), MX_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("elemwise_add"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(2,3)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mx::Operator("no_such_op").Invoke({a}), mx::Error);
  EXPECT_THROW(mx::Operator("Convolution").Set("kernel", "(3,3)").Invoke({a}), mx::Error)
      << "missing num_filter";
  // The library keeps working.
  EXPECT_EQ((a * 2).ToVector<float>(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
}

TEST(Frontend, DLPackSharesMemoryAndFailuresLeaveTheTensorWithTheCaller) {
  mx::NDArray a = mx::NDArray::FromVector<float>({1, 2, 3, 4}, {2, 2});
  DLManagedTensor* t = a.ToDLPack();
  ASSERT_EQ(t->dl_tensor.ndim, 2);
  float* data = static_cast<float*>(t->dl_tensor.data);
  EXPECT_EQ(data[3], 4);
  // A producer's tensor (here: a copy of the export's fields with a counting deleter).
  struct Producer {
    DLManagedTensor managed;
    DLManagedTensor* inner;
    int* calls;
  };
  int calls = 0;
  auto* p = new Producer{*t, t, &calls};
  p->managed.manager_ctx = p;
  p->managed.deleter = [](DLManagedTensor* self) {
    auto* prod = static_cast<Producer*>(self->manager_ctx);
    ++*prod->calls;
    prod->inner->deleter(prod->inner);
    delete prod;
  };
  {
    mx::NDArray b = mx::NDArray::FromDLPack(&p->managed);
    mx::NDArray c = b * 10;
    EXPECT_EQ(c.ToVector<float>(), (std::vector<float>{10, 20, 30, 40}));
  }
  mx::NDArray::WaitAll();
  EXPECT_EQ(calls, 1);
  // A rejected tensor stays the caller's: no deleter call.
  DLManagedTensor* bad = a.ToDLPack();
  bad->dl_tensor.dtype.lanes = 2;
  EXPECT_THROW(mx::NDArray::FromDLPack(bad), mx::Error);
  bad->deleter(bad);
}

TEST(Frontend, InferShapeIsStrictAndInferShapePartialTakesZeroDims) {
  mx::Symbol net = mx::FullyConnected("fc1", mx::Symbol::Variable("data"), 128);
  // 0: unknown, as in MXNet.
  mx::Symbol::Shapes s = net.InferShapePartial({{"data", {0, 784}}});
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.args[1], (mx::Shape{128, 784}));
  EXPECT_EQ(s.outputs[0], (mx::Shape{-1, 128}));
  try {
    net.InferShape({{"data", {0, 784}}});
    FAIL() << "expected mx::Error";
  } catch (const mx::Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "argument 'data' (input 'data' of node 'fc1' (FullyConnected)) is (?,784)"),
              std::string::npos)
        << e.what();
  }
  try {
    net.InferShape({{"data", {2, 784}}, {"fc1_weight", {128, 785}}});
    FAIL() << "expected mx::Error";
  } catch (const mx::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "argument 'fc1_weight' (input 'weight' of node 'fc1' (FullyConnected)): given "
              "shape (128,785), inferred (128,784)");
  }
  EXPECT_TRUE(net.InferShape({{"data", {2, 784}}}).complete);
}

// The test images of bright_halves.h.
void MakeData(int n, uint64_t seed, std::vector<float>* x, std::vector<float>* y) {
  frontend_test::BrightHalves(n, seed, 0.5f, 0.5f, x, y);
}

mx::Symbol SmallConvNet() {
  mx::Symbol x = mx::Symbol::Variable("data");
  x = mx::BatchNorm("bn1", mx::Convolution("conv1", x, 3, 4, 1, 1));
  x = mx::Pooling("pool1", mx::Activation("relu1", x, "relu"), 2, 2);
  x = mx::Dropout("drop1", x, 0.1);
  return mx::SoftmaxOutput("softmax", mx::FullyConnected("fc1", mx::Flatten("flat", x), 2));
}

TEST(Frontend, FeedForwardTrainsAConvNetAndCheckpointsRoundTrip) {
  std::vector<float> x, y, tx, ty;
  MakeData(256, 1, &x, &y);
  MakeData(128, 2, &tx, &ty);
  mx::DataIter train = mx::DataIter::FromHost(x, {256, 1, 8, 8}, y, {256}, 32, true, 3);
  mx::DataIter test = mx::DataIter::FromHost(tx, {128, 1, 8, 8}, ty, {128}, 32);
  mx::FeedForward::Options o;
  o.num_epoch = 4;
  o.optimizer_params = {{"learning_rate", "0.1"}, {"momentum", "0.9"}};
  o.frequent = 0;
  o.verbose = false;
  mx::FeedForward model(SmallConvNet(), o);
  mx::Metric acc("acc");
  const auto t0 = std::chrono::steady_clock::now();
  model.Fit(train, &test, acc);
  const double fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The training passes alone: more than nothing, less than the whole Fit (which also binds,
  // initialises and scores the test set after every epoch).
  EXPECT_GT(model.train_seconds(), 0.0);
  EXPECT_LT(model.train_seconds(), fit_seconds);
  EXPECT_GT(model.Score(test, acc), 0.9);

  // The batch-norm statistics are auxiliary states: trained, saved and reloaded.
  ASSERT_EQ(model.aux_params().count("bn1_moving_mean"), 1u);
  const std::vector<float> mm = model.aux_params().at("bn1_moving_mean").ToVector<float>();
  EXPECT_NE(mm, std::vector<float>(4, 0.0f)) << "training moved the moving mean";

  const std::string prefix = testing::TempDir() + "mx_frontend_ckpt";
  model.Save(prefix, 4);
  std::set<std::string> keys;
  for (const auto& kv : mx::NDArray::Load(prefix + "-0004.params")) keys.insert(kv.first);
  EXPECT_TRUE(keys.count("arg:conv1_weight") && keys.count("arg:bn1_gamma") &&
              keys.count("aux:bn1_moving_mean") && keys.count("aux:bn1_moving_var"));
  EXPECT_FALSE(keys.count("arg:data") || keys.count("arg:softmax_label"));

  mx::FeedForward loaded = mx::FeedForward::Load(prefix, 4, o);
  EXPECT_EQ(loaded.Predict(test), model.Predict(test)) << "identical predictions";
  EXPECT_THROW(mx::FeedForward::Load(prefix, 5, o), mx::Error) << "no such epoch";
  std::remove((prefix + "-symbol.json").c_str());
  std::remove((prefix + "-0004.params").c_str());
}

// mx::profiler: record, dump the trace and the table, and errors as mx::Error with the status.
TEST(Frontend, ProfilerDumpsTraceAndTable) {
  const std::string trace = testing::TempDir() + "mx_frontend_profile.json";
  const std::string table = testing::TempDir() + "mx_frontend_profile.txt";
  mx::profiler::SetState(mx::profiler::State::kRun);
  mx::NDArray a = mx::NDArray::FromVector<float>({1, 2, 3, 4}, {2, 2});
  mx::NDArray b = a * 3;
  EXPECT_EQ(b.ToVector<float>(), (std::vector<float>{3, 6, 9, 12}));
  mx::NDArray::WaitAll();
  mx::profiler::SetState(mx::profiler::State::kStop);
  mx::profiler::Dump(trace);
  mx::profiler::Dump(table, mx::profiler::Format::kAuto, /*reset=*/true);
  auto read = [](const std::string& path) {
    std::string text;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    return text;
  };
  const std::string t = read(trace);
  EXPECT_EQ(t.rfind("{\"traceEvents\":[", 0), 0u) << t.substr(0, 100);
  EXPECT_NE(t.find("\"name\":\"_mul_scalar\",\"cat\":\"op\",\"ph\":\"X\""), std::string::npos);
  EXPECT_NE(read(table).find("_mul_scalar"), std::string::npos);
  std::remove(trace.c_str());
  std::remove(table.c_str());
  try {
    mx::profiler::Dump(trace);  // reset above: nothing recorded
    FAIL() << "expected mx::Error";
  } catch (const mx::Error& e) {
    EXPECT_EQ(e.status(), MX_ERR_FAILED);
    EXPECT_NE(std::string(e.what()).find("nothing recorded"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mx::profiler::SetState(static_cast<mx::profiler::State>(5)), mx::Error);
  EXPECT_THROW(mx::profiler::Dump("no_such_dir/p.json"), mx::Error);
}

}  // namespace
