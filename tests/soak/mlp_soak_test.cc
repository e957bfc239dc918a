// Soak: training the MNIST-sized MLP (784-128-64-10, batch 100, random data) for 10,000
// iterations through the C++ front end holds its memory flat. After warm-up, steady-state
// training allocates nothing: the storage pool's bytes (in use and pooled) and its count of
// system allocations are exactly those of iteration 1,000 at iteration 10,000, and the process's
// resident memory has moved by less than a few MiB.
//
// Label `soak`: the release gate's plain ctest runs it (16 s in a Release build on two busy
// cores); the sanitizer gates, which run the `unit` and `concurrency` labels, do not.
#include <gtest/gtest.h>
#include <unistd.h>
#include <mx/mx.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

// Resident set size in bytes (/proc/self/statm, second field, in pages).
uint64_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;  // NOLINT(runtime/int): fscanf's type
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

mx_storage_stats_t PoolStats() {
  mx_storage_stats_t s;
  s.struct_size = sizeof s;
  mx::Check(mx_storage_get_stats(mx_context_t{MX_CPU, 0}, &s));
  return s;
}

struct Snapshot {
  uint64_t rss, in_use, pooled, system_allocs;
};

Snapshot Take() {
  mx::NDArray::WaitAll();
  const mx_storage_stats_t s = PoolStats();
  return Snapshot{ResidentBytes(), s.bytes_in_use, s.bytes_pooled, s.num_system_allocs};
}

mx::Symbol Mlp() {
  mx::Symbol data = mx::Symbol::Variable("data");
  mx::Symbol fc1 = mx::FullyConnected("fc1", data, 128);
  mx::Symbol act1 = mx::Activation("relu1", fc1, "relu");
  mx::Symbol fc2 = mx::FullyConnected("fc2", act1, 64);
  mx::Symbol act2 = mx::Activation("relu2", fc2, "relu");
  mx::Symbol fc3 = mx::FullyConnected("fc3", act2, 10);
  return mx::SoftmaxOutput("softmax", fc3);
}

TEST(Soak, MlpTrainingMemoryStaysFlat) {
  constexpr int64_t kBatch = 100, kSamples = 1000;
  constexpr int kIterations = 10000, kWarmUp = 1000;
  constexpr uint64_t kRssMargin = 4 << 20;
  mx::Check(mx_random_seed(7));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  std::vector<float> images(kSamples * 784), labels(kSamples);
  for (float& p : images) p = pixel(rng);
  for (int64_t i = 0; i < kSamples; ++i) labels[i] = static_cast<float>(i % 10);
  mx::DataIter train =
      mx::DataIter::FromHost(images, {kSamples, 784}, labels, {kSamples}, kBatch, true, 7);

  // Gradients for the weights only, as a training loop binds (mnist_mlp.cpp).
  mx::Symbol net = Mlp();
  mx_simple_bind_options_t o;
  mx::Check(mx_simple_bind_options_default(&o));
  const char* inputs[] = {"data", "softmax_label"};
  int32_t ndims[] = {2, 1}, no_grad[] = {MX_GRAD_NULL, MX_GRAD_NULL};
  const int64_t data_shape[] = {kBatch, 784}, label_shape[] = {kBatch};
  const int64_t* shapes[] = {data_shape, label_shape};
  o.num_shapes = o.num_grad_reqs = 2;
  o.shape_names = o.grad_req_names = inputs;
  o.shape_ndims = ndims;
  o.shapes = shapes;
  o.grad_reqs = no_grad;
  mx_executor_t h = nullptr;
  mx::Check(mx_executor_simple_bind(net.get(), &o, &h));
  mx::Executor exec(h);
  std::vector<mx::NDArray> args = exec.ArgArrays(), grads = exec.GradArrays();
  const std::vector<std::string> names = net.ListArguments();
  mx::Initializer init("xavier");
  for (size_t i = 1; i + 1 < args.size(); ++i) init.Apply(names[i], args[i]);
  mx::Optimizer sgd("sgd", {{"learning_rate", "0.1"},
                            {"momentum", "0.9"},
                            {"rescale_grad", std::to_string(1.0 / kBatch)}});
  mx::Metric acc("acc");

  Snapshot warm{};
  for (int it = 1; it <= kIterations; ++it) {
    if (!train.Next()) {
      train.Reset();
      acc.Reset();
      ASSERT_TRUE(train.Next());
    }
    train.Data().CopyTo(args[0]);
    train.Label().CopyTo(args.back());
    exec.Forward(true);
    exec.Backward();
    for (size_t i = 1; i + 1 < args.size(); ++i) sgd.Update(static_cast<int>(i), args[i], grads[i]);
    acc.Update(args.back(), exec.Outputs()[0]);  // blocks on this batch, as a training loop does
    if (it == kWarmUp) warm = Take();
  }
  const Snapshot end = Take();
  std::printf(
      "iteration %d: rss %.1f MiB, pool %llu in use + %llu pooled bytes, %llu system "
      "allocations\niteration %d: rss %.1f MiB, pool %llu in use + %llu pooled bytes, "
      "%llu system allocations; training accuracy %.3f\n",
      kWarmUp, warm.rss / 1048576.0, static_cast<unsigned long long>(warm.in_use),
      static_cast<unsigned long long>(warm.pooled),
      static_cast<unsigned long long>(warm.system_allocs), kIterations, end.rss / 1048576.0,
      static_cast<unsigned long long>(end.in_use), static_cast<unsigned long long>(end.pooled),
      static_cast<unsigned long long>(end.system_allocs), acc.Get().second);
  ASSERT_GT(warm.rss, 0u) << "/proc/self/statm unreadable";
  EXPECT_EQ(end.in_use, warm.in_use);
  EXPECT_EQ(end.pooled, warm.pooled);
  EXPECT_EQ(end.system_allocs, warm.system_allocs);
  EXPECT_LT(end.rss, warm.rss + kRssMargin) << "resident memory grew";
  // The labels are arbitrary, but the network memorises 1,000 samples: it really trained.
  EXPECT_GT(acc.Get().second, 0.9);
}

}  // namespace
