// Trains LeNet on MNIST through mx::FeedForward:
//   conv 5x5x20 -> act -> max-pool 2 -> conv 5x5x50 -> act -> max-pool 2 -> FC 500 -> act ->
//   FC 10 -> SoftmaxOutput
// with SGD (momentum 0.9), batch 128, on 1x28x28 images. --act picks tanh (default) or relu.
//
//   mnist_lenet --data data/mnist --epochs 10 --batch-size 128 --lr 0.1 --seed 0 [--act relu]
#include <mx/mx.hpp>

#include <cstdio>
#include <string>

#include "mnist_common.h"

namespace {

mx::Symbol LeNet(const std::string& act) {
  mx::Symbol x = mx::Symbol::Variable("data");
  x = mx::Convolution("conv1", x, 5, 20);
  x = mx::Pooling("pool1", mx::Activation("act1", x, act), 2, 2);
  x = mx::Convolution("conv2", x, 5, 50);
  x = mx::Pooling("pool2", mx::Activation("act2", x, act), 2, 2);
  x = mx::Activation("act3", mx::FullyConnected("fc1", mx::Flatten("flatten", x), 500), act);
  return mx::SoftmaxOutput("softmax", mx::FullyConnected("fc2", x, 10));
}

}  // namespace

int main(int argc, char** argv) {
  example::Flags f;
  if (!example::ParseFlags(argc, argv, {}, {"--act"}, &f)) return 2;
  const std::string act = example::Option(f, "--act", "tanh");
  try {
    mx::Check(mx_random_seed(f.seed));
    const mx::Context ctx = example::DeviceOf(f);
    mx::DataIter train = example::TrainIter(f, false);
    mx::DataIter test = example::TestIter(f, false);
    std::printf("libmx %s: LeNet (%s) on %s, %d epochs, batch %d, lr %g, momentum 0.9\n",
                mx_get_version_string(), act.c_str(), ctx.ToString().c_str(), f.epochs,
                f.batch_size, f.lr);
    mx::FeedForward::Options o;
    o.ctx = ctx;
    o.num_epoch = f.epochs;
    o.optimizer_params = {{"learning_rate", std::to_string(f.lr)}, {"momentum", "0.9"}};
    o.seed = f.seed;
    o.frequent = 20;
    mx::FeedForward model(LeNet(act), o);
    mx::Metric acc("acc");
    example::StartProfile(f);
    model.Fit(train, &test, acc);
    std::printf("test accuracy: %.4f\n", model.Score(test, acc));
    example::FinishProfile(f);
    return 0;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
