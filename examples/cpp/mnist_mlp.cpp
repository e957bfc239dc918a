// Trains the seed document's MLP on MNIST: 784 -> FullyConnected 128 -> ReLU -> FullyConnected 10
// -> SoftmaxOutput, batch 128, plain SGD. The training loop is written out (bind, forward,
// backward, update, and a second executor sharing the weights for evaluation); --feedforward
// runs the same through mx::FeedForward.
//
//   mnist_mlp --data data/mnist --epochs 10 --batch-size 128 --lr 0.1 --seed 0 [--feedforward]
//             [--profile profile.json] [--kv-store TYPE]
//
// --kv-store updates the weights through a key-value store instead. With dist_sync, launched by
// mpirun, every worker trains on its part of the training set and the batch is split between
// them (each takes batch-size / workers samples), so a step is the same as one process's; rank 0
// alone prints (docs/distributed.md):
//
//   mpirun -np 2 ./build/examples/mnist_mlp --kv-store dist_sync
#include <mx/mx.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "mnist_common.h"

namespace {

using example::Flags;

mx::Symbol Mlp() {
  mx::Symbol data = mx::Symbol::Variable("data");
  mx::Symbol fc1 = mx::FullyConnected("fc1", data, 128);
  mx::Symbol act1 = mx::Activation("relu1", fc1, "relu");
  mx::Symbol fc2 = mx::FullyConnected("fc2", act1, 10);
  return mx::SoftmaxOutput("softmax", fc2);
}

double Evaluate(mx::Executor& exec, mx::DataIter& test, mx::Metric& acc) {
  std::vector<mx::NDArray> args = exec.ArgArrays();
  acc.Reset();
  test.Reset();
  while (test.Next()) {
    test.Data().CopyTo(args[0]);
    exec.Forward(false);
    const int64_t keep = test.DataShape()[0] - test.Pad();
    acc.Update(test.Label().Slice(0, keep), exec.Outputs()[0].Slice(0, keep));
  }
  return acc.Get().second;
}

// `kv`: the store the weights are updated through (nullptr: updated here); this worker's share of
// the batch is b.
int TrainByHand(const Flags& f, mx::Context ctx, mx::DataIter& train, mx::DataIter& test,
                mx::KVStore* kv, int64_t b) {
  mx::Symbol net = Mlp();
  const bool chief = kv == nullptr || kv->rank() == 0;
  // Training executor: gradients for the weights only.
  mx_simple_bind_options_t o;
  mx::Check(mx_simple_bind_options_default(&o));
  const char* names[] = {"data", "softmax_label"};
  int32_t ndims[] = {2, 1};
  int64_t data_shape[] = {b, 784}, label_shape[] = {b};
  const int64_t* shapes[] = {data_shape, label_shape};
  int32_t null_reqs[] = {MX_GRAD_NULL, MX_GRAD_NULL};
  o.ctx = ctx.c;
  o.num_shapes = 2;
  o.shape_names = names;
  o.shape_ndims = ndims;
  o.shapes = shapes;
  o.num_grad_reqs = 2;
  o.grad_req_names = names;
  o.grad_reqs = null_reqs;
  mx_executor_t h = nullptr;
  mx::Check(mx_executor_simple_bind(net.get(), &o, &h));
  mx::Executor exec(h);
  std::vector<mx::NDArray> args = exec.ArgArrays(), grads = exec.GradArrays();
  const std::vector<std::string> arg_names = net.ListArguments();

  mx::Initializer init("xavier");
  for (size_t i = 1; i + 1 < args.size(); ++i) init.Apply(arg_names[i], args[i]);
  // The gradient of a step is summed over every worker's share of the batch.
  const int64_t global_batch = b * (kv != nullptr ? kv->num_workers() : 1);
  mx::Optimizer sgd("sgd", {{"learning_rate", std::to_string(f.lr)},
                            {"rescale_grad", std::to_string(1.0 / global_batch)}});
  const std::vector<std::string> keys(arg_names.begin() + 1, arg_names.end() - 1);
  const std::vector<mx::NDArray> weights(args.begin() + 1, args.end() - 1);
  const std::vector<mx::NDArray> weight_grads(grads.begin() + 1, grads.end() - 1);
  if (kv != nullptr) {
    kv->Init(keys, weights);  // distributed: rank 0's weights, which every worker starts from
    kv->SetOptimizer(sgd);
    kv->Pull(keys, weights);
  }
  // Evaluation executor: shares the training executor's argument arrays (and memory).
  mx_bind_options_t bo;
  mx::Check(mx_bind_options_default(&bo));
  std::vector<mx_ndarray_t> arg_handles;
  for (const auto& a : args) arg_handles.push_back(a.get());
  bo.ctx = ctx.c;
  bo.num_args = static_cast<int32_t>(arg_handles.size());
  bo.args = arg_handles.data();
  bo.shared_exec = exec.get();
  mx_executor_t eh = nullptr;
  mx::Check(mx_executor_bind(net.get(), &bo, &eh));
  mx::Executor eval(eh);

  mx::Metric acc("acc");
  for (int epoch = 0; epoch < f.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    train.Reset();
    acc.Reset();
    int nbatch = 0;
    while (train.Next()) {
      train.Data().CopyTo(args[0]);
      train.Label().CopyTo(args.back());
      exec.Forward(true);
      exec.Backward();
      if (kv != nullptr) {
        kv->Push(keys, weight_grads);
        kv->Pull(keys, weights);
      } else {
        for (size_t i = 1; i + 1 < args.size(); ++i)
          sgd.Update(static_cast<int>(i), args[i], grads[i]);
      }
      acc.Update(args.back(), exec.Outputs()[0]);
      if (++nbatch % 20 == 0 && chief) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("Epoch[%d] Batch[%d] Speed: %.0f samples/s accuracy=%.4f\n", epoch, nbatch,
                    nbatch * b / secs, acc.Get().second);
      }
    }
    mx::NDArray::WaitAll();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double train_acc = acc.Get().second;
    if (!chief) continue;  // (every worker holds the same weights)
    const double val = Evaluate(eval, test, acc);
    std::printf(
        "Epoch[%d] Train-accuracy=%.4f Validation-accuracy=%.4f Time=%.2f s (%.0f samples/s)\n",
        epoch, train_acc, val, secs, nbatch * global_batch / secs);
  }
  if (chief) std::printf("test accuracy: %.4f\n", Evaluate(eval, test, acc));
  return 0;
}

int TrainFeedForward(const Flags& f, mx::Context ctx, mx::DataIter& train, mx::DataIter& test) {
  mx::FeedForward::Options o;
  o.ctx = ctx;
  o.num_epoch = f.epochs;
  o.optimizer_params = {{"learning_rate", std::to_string(f.lr)}};
  o.seed = f.seed;
  o.frequent = 20;
  mx::FeedForward model(Mlp(), o);
  mx::Metric acc("acc");
  model.Fit(train, &test, acc);
  std::printf("test accuracy: %.4f\n", model.Score(test, acc));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!example::ParseFlags(argc, argv, {"--feedforward"}, {"--kv-store"}, &f)) return 2;
  const bool feedforward = example::Has(f, "--feedforward");
  const std::string kv_type = example::Option(f, "--kv-store", "");
  if (feedforward && !kv_type.empty()) {
    std::fprintf(stderr, "--kv-store is for the hand-written loop, not --feedforward\n");
    return 2;
  }
  try {
    mx::Check(mx_random_seed(f.seed));
    const mx::Context ctx = example::DeviceOf(f);
    std::unique_ptr<mx::KVStore> kv;
    int rank = 0, workers = 1;
    if (!kv_type.empty()) {
      kv = std::make_unique<mx::KVStore>(kv_type);
      rank = kv->rank();
      workers = kv->num_workers();
    }
    if (f.batch_size % workers != 0) {
      std::fprintf(stderr, "--batch-size %d does not split evenly over %d workers\n", f.batch_size,
                   workers);
      return 2;
    }
    const int64_t b = f.batch_size / workers;  // this worker's share of each batch
    mx::DataIter train = mx::DataIter::MNIST(
        f.data + "/train-images-idx3-ubyte", f.data + "/train-labels-idx1-ubyte", b, true, true,
        f.seed, MX_LAST_BATCH_PAD, /*num_parts=*/workers, /*part_index=*/rank);
    mx::DataIter test =
        mx::DataIter::MNIST(f.data + "/t10k-images-idx3-ubyte", f.data + "/t10k-labels-idx1-ubyte",
                            b, false, true, f.seed);
    if (rank == 0) {
      std::string mode = feedforward ? "FeedForward" : "hand-written loop";
      if (kv) mode += ", kvstore " + kv_type + ", " + std::to_string(workers) + " worker(s)";
      std::printf("libmx %s: MNIST MLP on %s, %d epochs, batch %d, lr %g (%s)\n",
                  mx_get_version_string(), ctx.ToString().c_str(), f.epochs, f.batch_size, f.lr,
                  mode.c_str());
    }
    example::StartProfile(f);
    const int rc = feedforward ? TrainFeedForward(f, ctx, train, test)
                               : TrainByHand(f, ctx, train, test, kv.get(), b);
    example::FinishProfile(f);
    return rc;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
