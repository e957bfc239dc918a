// What the MNIST examples share: their command line and their data iterators.
//
//   --data DIR  --epochs N  --batch-size N  --lr X  --seed N  [--gpu N]  [--profile FILE]
//   (--gpu N trains on gpu(N); the default is the CPU)
//   (and each example's own). --profile records every engine op of the run and writes FILE: a
//   Chrome trace for .json (open it in https://ui.perfetto.dev), a table of ops for .txt.
#ifndef MX_EXAMPLES_CPP_MNIST_COMMON_H_
#define MX_EXAMPLES_CPP_MNIST_COMMON_H_

#include <mx/mx.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace example {

struct Flags {
  std::string data = "data/mnist";
  int epochs = 10;
  int batch_size = 128;
  double lr = 0.1;
  uint64_t seed = 0;
  int gpu = -1;                    // --gpu N: the GPU to train on; -1 for the CPU
  std::string profile;             // --profile FILE: empty when not profiling
  std::vector<std::string> extra;  // the example's own switches, as given
};

// Parses the shared flags; `switches` are the example's own (e.g. "--feedforward"), and
// `options` its own flags that take a value (e.g. "--act"). Prints usage and returns false on an
// unknown argument.
inline bool ParseFlags(int argc, char** argv, const std::vector<std::string>& switches,
                       const std::vector<std::string>& options, Flags* f) {
  auto is_one_of = [](const std::string& a, const std::vector<std::string>& list) {
    for (const auto& s : list)
      if (s == a) return true;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data") {
      f->data = value();
    } else if (a == "--epochs") {
      f->epochs = std::atoi(value());
    } else if (a == "--batch-size") {
      f->batch_size = std::atoi(value());
    } else if (a == "--lr") {
      f->lr = std::atof(value());
    } else if (a == "--seed") {
      f->seed = std::strtoull(value(), nullptr, 10);
    } else if (a == "--gpu") {
      const char* v = value();
      char* end = nullptr;
      f->gpu = static_cast<int>(std::strtol(v, &end, 10));
      if (*v == '\0' || *end != '\0' || f->gpu < 0) {
        std::fprintf(stderr, "--gpu needs a device number (0, 1, ...), got '%s'\n", v);
        return false;
      }
    } else if (a == "--profile") {
      f->profile = value();
      if (f->profile.empty()) {
        std::fprintf(stderr, "--profile needs a file name (.json or .txt)\n");
        return false;
      }
    } else if (is_one_of(a, switches)) {
      f->extra.push_back(a);
    } else if (is_one_of(a, options)) {
      f->extra.push_back(a);
      f->extra.push_back(value());
    } else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--epochs N] [--batch-size N] [--lr X] [--seed N] "
                   "[--gpu N] [--profile FILE]",
                   argv[0]);
      for (const auto& s : switches) std::fprintf(stderr, " [%s]", s.c_str());
      for (const auto& s : options) std::fprintf(stderr, " [%s VALUE]", s.c_str());
      std::fprintf(stderr, "\n");
      return false;
    }
  }
  return f->epochs > 0 && f->batch_size > 0 && f->lr > 0;
}

// The device to train on: gpu(N) for --gpu N, else the CPU.
inline mx::Context DeviceOf(const Flags& f) {
  return f.gpu >= 0 ? mx::Context::GPU(f.gpu) : mx::Context::CPU();
}

// True when switch `name` was given.
inline bool Has(const Flags& f, const std::string& name) {
  for (const auto& e : f.extra)
    if (e == name) return true;
  return false;
}

// The value given for option `name`, or `fallback`.
inline std::string Option(const Flags& f, const std::string& name, const std::string& fallback) {
  for (size_t i = 0; i + 1 < f.extra.size(); ++i)
    if (f.extra[i] == name) return f.extra[i + 1];
  return fallback;
}

// --profile: StartProfile before the work to profile, FinishProfile after it (it waits for the
// engine, stops recording and writes the file).
inline void StartProfile(const Flags& f) {
  if (!f.profile.empty()) mx::profiler::SetState(mx::profiler::State::kRun);
}
inline void FinishProfile(const Flags& f) {
  if (f.profile.empty()) return;
  mx::NDArray::WaitAll();
  mx::profiler::SetState(mx::profiler::State::kStop);
  mx::profiler::Dump(f.profile);
  std::printf("profile written to %s\n", f.profile.c_str());
}

// The training (shuffled) and test iterators over the four IDX files in f.data, plain or
// gzip'ed (the library reads "NAME.gz" when "NAME" is not there); `flat` gives 784-vectors,
// otherwise 1x28x28 images.
inline mx::DataIter TrainIter(const Flags& f, bool flat) {
  return mx::DataIter::MNIST(f.data + "/train-images-idx3-ubyte",
                             f.data + "/train-labels-idx1-ubyte", f.batch_size, true, flat, f.seed);
}
inline mx::DataIter TestIter(const Flags& f, bool flat) {
  return mx::DataIter::MNIST(f.data + "/t10k-images-idx3-ubyte", f.data + "/t10k-labels-idx1-ubyte",
                             f.batch_size, false, flat, f.seed);
}

}  // namespace example

#endif  // MX_EXAMPLES_CPP_MNIST_COMMON_H_
