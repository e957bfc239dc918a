// LeNet training throughput and test accuracy on MNIST, libmx against Debian's PyTorch in one run,
// with the same recipe: examples/cpp/mnist_lenet.cpp's network (tanh), Xavier-uniform weights and
// zero biases, SGD lr 0.1 with momentum 0.9, batch 128, shuffled whole batches, 10 epochs. libmx
// trains through mx::FeedForward; samples/s counts training only. PyTorch runs
// bench/mnist_lenet_torch.py at its best (bench::PeerEnv(), the faster of 1 or 2 threads).
// Budget (issue 16): libmx >= 2x PyTorch, test accuracy within 0.5 points.
//
//   mnist_lenet [--data data/mnist] [--epochs 10] [--torch bench/mnist_lenet_torch.py]
#include <mx/mx.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "torch_peer.h"

namespace {

mx::Symbol LeNet() {
  mx::Symbol x = mx::Symbol::Variable("data");
  x = mx::Pooling("pool1", mx::Activation("act1", mx::Convolution("conv1", x, 5, 20), "tanh"), 2,
                  2);
  x = mx::Pooling("pool2", mx::Activation("act2", mx::Convolution("conv2", x, 5, 50), "tanh"), 2,
                  2);
  x = mx::Activation("act3", mx::FullyConnected("fc1", mx::Flatten("flatten", x), 500), "tanh");
  return mx::SoftmaxOutput("softmax", mx::FullyConnected("fc2", x, 10));
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "data/mnist", script = "bench/mnist_lenet_torch.py";
  int epochs = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--data") data = argv[i + 1];
    if (a == "--epochs") epochs = std::atoi(argv[i + 1]);
    if (a == "--torch") script = argv[i + 1];
  }
  const int batch = 128;
  const double lr = 0.1;
  try {
    mx::DataIter train =
        mx::DataIter::MNIST(data + "/train-images-idx3-ubyte", data + "/train-labels-idx1-ubyte",
                            batch, true, false, 0, MX_LAST_BATCH_DISCARD);
    mx::DataIter test = mx::DataIter::MNIST(data + "/t10k-images-idx3-ubyte",
                                            data + "/t10k-labels-idx1-ubyte", batch, false, false);
    int64_t samples = 0;
    train.Reset();
    while (train.Next()) samples += batch;
    mx::FeedForward::Options o;
    o.num_epoch = epochs;
    o.optimizer_params = {{"learning_rate", std::to_string(lr)}, {"momentum", "0.9"}};
    o.frequent = 0;
    o.verbose = false;
    mx::FeedForward model(LeNet(), o);
    mx::Metric acc("acc");
    model.Fit(train, nullptr, acc);
    const double secs = model.train_seconds();  // the epochs' loops, as the peer times them
    const double mx_rate = static_cast<double>(samples) * epochs / secs;
    const double mx_acc = model.Score(test, acc);
    std::printf("MNIST LeNet (tanh) training, %d epochs, batch %d, SGD lr %g momentum 0.9\n",
                epochs, batch, lr);
    std::printf("  libmx:   %8.0f samples/s  test accuracy %.4f\n", mx_rate, mx_acc);
    const bench::PeerRun t = bench::RunTorchPeer(
        script, "--data " + data + " --epochs " + std::to_string(epochs) + " --batch " +
                    std::to_string(batch) + " --lr " + std::to_string(lr));
    if (t.threads == 0) {
      std::printf("  PyTorch: did not run (python3-torch missing?)\n");
      return 0;
    }
    std::printf("  PyTorch: %8.0f samples/s  test accuracy %.4f  (threads: %d, tuned)\n",
                t.samples_per_s, t.accuracy, t.threads);
    std::printf("  ratio libmx / PyTorch: %.2fx (budget >= 2x), accuracy %+.2f points\n",
                mx_rate / t.samples_per_s, 100 * (mx_acc - t.accuracy));
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "libmx: %s\n", e.what());
    return 1;
  }
  return 0;
}
