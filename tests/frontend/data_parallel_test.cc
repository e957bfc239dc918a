// Data parallelism in the C++ front end: mx::KVStore over mx_kvstore_*, and FeedForward over
// several contexts, whose gradients a store sums. Two contexts, an uneven split and the "device"
// store must each train to the weights one context reaches on the whole batch (momentum and
// weight decay included, so the optimizer's state matters); auxiliary states are averaged over
// the executors; bad stores and bad splits are mx::Error with a message naming them.
#include <mx/mx.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bright_halves.h"

namespace {

constexpr int kSamples = 240;
constexpr int kBatch = 40;

// (bright_halves.h; the iterators here never shuffle, so every run sees the same batches)
void MakeData(int n, uint64_t seed, std::vector<float>* x, std::vector<float>* y) {
  frontend_test::BrightHalves(n, seed, 0.8f, 0.3f, x, y);
}

mx::Symbol Mlp() {
  mx::Symbol x = mx::Flatten("flat", mx::Symbol::Variable("data"));
  x = mx::Activation("relu1", mx::FullyConnected("fc1", x, 16), "relu");
  return mx::SoftmaxOutput("softmax", mx::FullyConnected("fc2", x, 2));
}

mx::FeedForward::Options BaseOptions() {
  mx::FeedForward::Options o;
  o.num_epoch = 2;
  o.optimizer_params = {{"learning_rate", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}};
  o.seed = 5;
  o.frequent = 0;
  o.verbose = false;
  return o;
}

class DataParallel : public testing::Test {
 protected:
  void SetUp() override { MakeData(kSamples, 1, &x_, &y_); }
  mx::DataIter Iter(int64_t batch = kBatch) const {
    return mx::DataIter::FromHost(x_, {kSamples, 1, 8, 8}, y_, {kSamples}, batch);
  }
  std::map<std::string, std::vector<float>> Train(const mx::Symbol& net,
                                                  const mx::FeedForward::Options& o,
                                                  mx::FeedForward* out = nullptr) const {
    mx::DataIter train = Iter();
    mx::Metric acc("acc");
    mx::FeedForward model(net, o);
    model.Fit(train, nullptr, acc);
    std::map<std::string, std::vector<float>> params;
    for (const auto& kv : model.arg_params()) params[kv.first] = kv.second.ToVector<float>();
    if (out != nullptr) *out = model;
    return params;
  }
  std::vector<float> x_, y_;
};

void ExpectClose(const std::map<std::string, std::vector<float>>& got,
                 const std::map<std::string, std::vector<float>>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& kv : want) {
    const std::vector<float>& g = got.at(kv.first);
    ASSERT_EQ(g.size(), kv.second.size()) << what << " " << kv.first;
    for (size_t i = 0; i < g.size(); ++i) {
      const float w = kv.second[i];
      ASSERT_NEAR(g[i], w, 1e-5 + 1e-4 * std::fabs(w))
          << what << " " << kv.first << "[" << i << "]";
    }
  }
}

std::string MessageOf(const std::function<void()>& f, mx_status_t* status = nullptr) {
  try {
    f();
  } catch (const mx::Error& e) {
    if (status != nullptr) *status = e.status();
    return e.what();
  }
  return "(no error)";
}

TEST(KVStore, PushSumsTheValuesOfAKeyAndPullFillsEveryOutput) {
  mx::KVStore kv("local");
  EXPECT_EQ(kv.type(), "local");
  EXPECT_EQ(kv.rank(), 0);
  EXPECT_EQ(kv.num_workers(), 1);
  kv.Init("w", mx::NDArray::FromVector<float>({0, 0, 0}, {3}));
  // Without an optimizer, the sum replaces the stored value.
  kv.Push("w", {mx::NDArray::FromVector<float>({1, 2, 3}, {3}),
                mx::NDArray::FromVector<float>({10, 20, 30}, {3}, mx::Context::CPU(1))});
  mx::NDArray out0({3}), out1({3}, mx::Context::CPU(1));
  kv.Pull("w", {out0, out1});
  EXPECT_EQ(out0.ToVector<float>(), (std::vector<float>{11, 22, 33}));
  EXPECT_EQ(out1.ToVector<float>(), (std::vector<float>{11, 22, 33}));

  // Several keys in one call, each key once per value; with an optimizer each key takes one
  // step with the sum of its values: w - lr * sum. The optimizer is a temporary: the store
  // shares it. Keys come as braced lists or as vectors.
  kv.Init({"a", "b"},
          {mx::NDArray::FromVector<float>({1, 1}, {2}), mx::NDArray::FromVector<float>({5}, {1})});
  kv.SetOptimizer(mx::Optimizer("sgd", {{"learning_rate", "0.5"}}));
  kv.Push({"a", "b", "a", "b"},
          {mx::NDArray::FromVector<float>({1, 2}, {2}), mx::NDArray::FromVector<float>({2}, {1}),
           mx::NDArray::FromVector<float>({3, 4}, {2}), mx::NDArray::FromVector<float>({4}, {1})});
  mx::NDArray a({2}), b({1});
  const std::vector<std::string> keys{"a", "b"};
  kv.Pull(keys, {a, b});
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{-1, -2}));  // 1 - 0.5 * (1 + 3), ...
  EXPECT_EQ(b.ToVector<float>(), (std::vector<float>{2}));       // 5 - 0.5 * (2 + 4)

  // The library's errors, and the wrapper's own check of the two lists.
  mx_status_t status = MX_OK;
  EXPECT_NE(MessageOf([&] { kv.Init("w", out0); }, &status).find("key 'w' is already initialised"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(MessageOf([&] { kv.Pull("nope", {out0}); }, &status).find("key 'nope'"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_NOT_FOUND);
  EXPECT_EQ(MessageOf([&] { kv.Push(keys, {a}); }), "KVStore: 2 keys but 1 arrays");
  EXPECT_NE(MessageOf([] { mx::KVStore("bogus"); }, &status).find("unknown kvstore type 'bogus'"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_INVALID_ARGUMENT);
  // The store still works.
  kv.Pull("w", {out0});
  EXPECT_EQ(out0.ToVector<float>(), (std::vector<float>{11, 22, 33}));
}

TEST(KVStore, DeviceStoreKeepsTheKeyWhereItWasInitialised) {
  mx::KVStore kv("device");
  EXPECT_EQ(kv.type(), "device");
  kv.Init("w", mx::NDArray::FromVector<float>({1, 2}, {2}, mx::Context::CPU(1)));
  kv.Push("w", {mx::NDArray::FromVector<float>({1, 1}, {2}),
                mx::NDArray::FromVector<float>({2, 2}, {2}, mx::Context::CPU(1))});
  mx::NDArray out({2});
  kv.Pull("w", {out});
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{3, 3}));
}

TEST_F(DataParallel, SeveralContextsTrainExactlyAsOne) {
  const auto one = Train(Mlp(), BaseOptions());
  mx::FeedForward::Options o = BaseOptions();
  o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1)};
  ExpectClose(Train(Mlp(), o), one, "two contexts");
  o.work_load = {3, 1};
  ExpectClose(Train(Mlp(), o), one, "work load {3,1}");
  o.work_load = {};
  o.kvstore = "device";
  ExpectClose(Train(Mlp(), o), one, "device store");
  o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1), mx::Context::CPU(2)};
  o.work_load = {1, 2, 5};  // 5, 10 and 25 samples of each batch
  ExpectClose(Train(Mlp(), o), one, "three contexts");
}

// Auxiliary states are per executor (each sees its share of every batch) and the model keeps
// their mean. A batch norm right on the data has statistics that training cannot change, so the
// expectation is computed here: each context's moving mean and variance over its slices, then
// averaged. The moving variance also shows where the batch was split (the mean of the slices'
// variances is not the batch's), so the bounds are checked: proportional, rounded to nearest
// with ties to even, as the Python binding's _split rounds them.
TEST_F(DataParallel, AuxiliaryStatesAreAveragedOverTheContextsOfTheSplit) {
  mx::Symbol bn = mx::BatchNorm("bn", mx::Symbol::Variable("data"));
  mx::Symbol net =
      mx::SoftmaxOutput("softmax", mx::FullyConnected("fc", mx::Flatten("flat", bn), 2));
  auto expect_split = [&](const std::vector<int>& work_load, const std::vector<int>& bounds) {
    mx::FeedForward::Options o = BaseOptions();
    for (size_t k = 0; k < work_load.size(); ++k)
      o.contexts.push_back(mx::Context::CPU(static_cast<int>(k)));
    o.work_load = work_load;
    mx::FeedForward model(net, o);
    Train(net, o, &model);
    double mean_sum = 0, var_sum = 0;
    for (size_t k = 0; k + 1 < bounds.size(); ++k) {
      double mm = 0, mv = 1;  // the initializer's moving_mean and moving_var
      for (int epoch = 0; epoch < o.num_epoch; ++epoch) {
        for (int b = 0; b < kSamples / kBatch; ++b) {
          const int begin = (b * kBatch + bounds[k]) * 64, end = (b * kBatch + bounds[k + 1]) * 64;
          double s = 0, ss = 0;
          for (int i = begin; i < end; ++i) s += x_[i];
          const double mean = s / (end - begin);
          for (int i = begin; i < end; ++i) ss += (x_[i] - mean) * (x_[i] - mean);
          mm = 0.9 * mm + 0.1 * mean;
          mv = 0.9 * mv + 0.1 * ss / (end - begin);
        }
      }
      mean_sum += mm;
      var_sum += mv;
    }
    const double n = static_cast<double>(work_load.size());
    const float mean = model.aux_params().at("bn_moving_mean").ToVector<float>()[0];
    const float var = model.aux_params().at("bn_moving_var").ToVector<float>()[0];
    EXPECT_NEAR(mean, mean_sum / n, 1e-5) << "work load " << testing::PrintToString(work_load);
    EXPECT_NEAR(var, var_sum / n, 1e-5) << "work load " << testing::PrintToString(work_load);
    return var;
  };
  const float var = expect_split({3, 1}, {0, 30, 40});
  expect_split({1, 1, 1}, {0, 13, 27, 40});  // 13.33 and 26.67 rounded
  expect_split({1, 15}, {0, 2, 40});         // 2.5 rounded to even, as Python's round does

  // One context on the whole batch: a different variance, so the split above was real.
  mx::FeedForward::Options one = BaseOptions();
  mx::FeedForward single(net, one);
  Train(net, one, &single);
  EXPECT_GT(std::fabs(single.aux_params().at("bn_moving_var").ToVector<float>()[0] - var), 1e-4);
}

TEST_F(DataParallel, BadStoresAndBadSplitsAreErrorsNamingThem) {
  mx::FeedForward::Options o = BaseOptions();
  o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1)};
  o.kvstore = "bogus";
  mx_status_t status = MX_OK;
  EXPECT_NE(MessageOf([&] { Train(Mlp(), o); }, &status).find("unknown kvstore type 'bogus'"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_INVALID_ARGUMENT);
  o.contexts = {};  // one context checks the type too, though it trains without the store
  EXPECT_NE(MessageOf([&] { Train(Mlp(), o); }).find("unknown kvstore type 'bogus'"),
            std::string::npos);

  o.kvstore = "local";
  o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1), mx::Context::CPU(2)};
  auto fit_batch_of_2 = [&] {
    mx::DataIter train = Iter(2);
    mx::Metric acc("acc");
    mx::FeedForward(Mlp(), o).Fit(train, nullptr, acc);
  };
  EXPECT_EQ(MessageOf(fit_batch_of_2, &status),
            "FeedForward: a batch of 2 over 3 contexts (cpu(0), cpu(1), cpu(2)) with work loads "
            "[1,1,1] cannot be split: every context needs at least one sample");
  EXPECT_EQ(status, MX_ERR_INVALID_ARGUMENT);
  o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1)};
  o.work_load = {1, 0};
  EXPECT_EQ(MessageOf([&] { Train(Mlp(), o); }),
            "FeedForward: a batch of 40 over 2 contexts (cpu(0), cpu(1)) with work loads [1,0]: "
            "work loads must be positive");
  o.work_load = {1, 2, 3};
  EXPECT_EQ(MessageOf([&] { Train(Mlp(), o); }),
            "FeedForward: a batch of 40 over 2 contexts (cpu(0), cpu(1)) with work loads [1,2,3]: "
            "one work load per context is needed");
  // Nothing was left half-done: the same model trains.
  o.work_load = {};
  EXPECT_EQ(Train(Mlp(), o).size(), 4u);
}

// A distributed store synchronises processes. This libmx has no MPI, so creating one is
// MX_ERR_UNSUPPORTED and Fit must surface exactly that, with one context as with several; a
// build with MPI, run as a single process, is one worker and must train as one context does.
TEST_F(DataParallel, DistributedStoreErrorsSurfaceFromFit) {
  mx_status_t create_status = MX_OK;
  const std::string create_error = MessageOf([] { mx::KVStore("dist_sync"); }, &create_status);
  mx::FeedForward::Options o = BaseOptions();
  o.kvstore = "dist_sync";
  if (create_status != MX_OK) {
    EXPECT_EQ(create_status, MX_ERR_UNSUPPORTED);
    EXPECT_NE(create_error.find("MPI"), std::string::npos) << create_error;
    mx_status_t status = MX_OK;
    EXPECT_EQ(MessageOf([&] { Train(Mlp(), o); }, &status), create_error);
    EXPECT_EQ(status, create_status);
    o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1)};
    EXPECT_EQ(MessageOf([&] { Train(Mlp(), o); }, &status), create_error);
  } else {
    ASSERT_EQ(mx::KVStore("dist_sync").num_workers(), 1) << "run this test as one process";
    ExpectClose(Train(Mlp(), o), Train(Mlp(), BaseOptions()), "dist_sync, one worker");
  }
}

}  // namespace
