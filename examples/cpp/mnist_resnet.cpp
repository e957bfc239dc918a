// Trains a small ResNet-style network on MNIST through mx::FeedForward: batch norm after every
// convolution and residual blocks with identity shortcuts,
//
//   conv 3x3x16 -> BN -> relu -> max-pool 2                      (14x14)
//   block(16) -> block(16)                                        identity shortcuts
//   down(32): conv 3x3 stride 2 and a 1x1 stride-2 projection     (7x7)
//   block(32) -> global avg-pool -> FC 10 -> SoftmaxOutput
//
// where block(c) is x + BN(conv(relu(BN(conv(x))))) followed by relu. SGD with momentum 0.9,
// the learning rate halved after every epoch: at inference batch norm uses moving statistics
// that trail the weights by about 1 / (1 - 0.9) = 10 batches, and with a constant rate of 0.1
// the weights move so much in 10 batches that test accuracy swings by several points from one
// epoch to the next (0.90-0.95 after 3 epochs, against 0.97 with each batch's own statistics).
//
//   mnist_resnet --data data/mnist --epochs 10 --batch-size 128 --lr 0.1 --seed 0
#include <mx/mx.hpp>

#include <cstdio>
#include <string>

#include "mnist_common.h"

namespace {

// conv 3x3 (no bias: batch norm's beta is the bias) -> BN.
mx::Symbol ConvBN(const std::string& name, const mx::Symbol& x, int channels, int stride) {
  return mx::BatchNorm(name + "_bn", mx::Convolution(name + "_conv", x, 3, channels, stride, 1,
                                                     /*no_bias=*/true));
}

mx::Symbol Block(const std::string& name, const mx::Symbol& x, int channels) {
  mx::Symbol y = mx::Activation(name + "_relu1", ConvBN(name + "_a", x, channels, 1), "relu");
  y = ConvBN(name + "_b", y, channels, 1);
  return mx::Activation(name + "_relu2", y + x, "relu");
}

// Halves the resolution and changes the width; the shortcut is a strided 1x1 projection.
mx::Symbol Down(const std::string& name, const mx::Symbol& x, int channels) {
  mx::Symbol y = mx::Activation(name + "_relu1", ConvBN(name + "_a", x, channels, 2), "relu");
  y = ConvBN(name + "_b", y, channels, 1);
  mx::Symbol shortcut = mx::BatchNorm(
      name + "_proj_bn", mx::Convolution(name + "_proj", x, 1, channels, 2, 0, /*no_bias=*/true));
  return mx::Activation(name + "_relu2", y + shortcut, "relu");
}

mx::Symbol ResNet() {
  mx::Symbol x = mx::Symbol::Variable("data");
  x = mx::Activation("stem_relu", ConvBN("stem", x, 16, 1), "relu");
  x = mx::Pooling("stem_pool", x, 2, 2);
  x = Block("block1", x, 16);
  x = Block("block2", x, 16);
  x = Down("down3", x, 32);
  x = Block("block4", x, 32);
  x = mx::Pooling("global_pool", x, 0, 1, "avg");
  return mx::SoftmaxOutput("softmax", mx::FullyConnected("fc", mx::Flatten("flatten", x), 10));
}

}  // namespace

int main(int argc, char** argv) {
  example::Flags f;
  if (!example::ParseFlags(argc, argv, {}, {}, &f)) return 2;
  try {
    mx::Check(mx_random_seed(f.seed));
    const mx::Context ctx = example::DeviceOf(f);
    mx::DataIter train = example::TrainIter(f, false);
    mx::DataIter test = example::TestIter(f, false);
    std::printf(
        "libmx %s: ResNet-style net on %s, %d epochs, batch %d, lr %g (halved every epoch), "
        "momentum 0.9\n",
        mx_get_version_string(), ctx.ToString().c_str(), f.epochs, f.batch_size, f.lr);
    mx::FeedForward::Options o;
    o.ctx = ctx;
    o.num_epoch = f.epochs;
    int batches_per_epoch = 0;
    for (train.Reset(); train.Next();) ++batches_per_epoch;
    o.optimizer_params = {{"learning_rate", std::to_string(f.lr)},
                          {"momentum", "0.9"},
                          {"lr_scheduler", "factor"},
                          {"lr_step", std::to_string(batches_per_epoch)},
                          {"lr_factor", "0.5"}};
    o.seed = f.seed;
    o.frequent = 20;
    mx::FeedForward model(ResNet(), o);
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
