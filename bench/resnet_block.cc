// ResNet basic blocks (a stem conv 3x3 - BN - relu from 3 channels, then conv 3x3 - BN - relu -
// conv 3x3 - BN + skip - relu, twice, then global average pooling and a classifier), float32,
// through a bound executor: a training step (forward and backward) and an inference forward, with
// activations kept in oneDNN's blocked layout between layers (op/layout.h) and with every layer
// reordering its activations (the layout pass off), against PyTorch's eager NCHW modules
// (bench/resnet_block_torch.py, at its best: bench::PeerEnv() and the faster of 1 or 2 threads) in
// the same run. Budget (issue 16, item 3): blocked >= 1.0x PyTorch on the training step; the
// "blocked/plain" column shows what keeping the layout saves.
//
//   resnet_block [--torch bench/resnet_block_torch.py]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine/engine.h"
#include "engine/profiler.h"
#include "executor/executor.h"
#include "op/layout.h"
#include "torch_peer.h"

namespace {

struct Case {
  const char* name;
  int64_t n, c, hw;
  double budget = 0;  // least ratio over PyTorch for the training step (0: none)
  std::string Key() const {
    return std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(hw);
  }
};

mx::Symbol Op(const std::string& op, std::vector<mx::Symbol> args,
              std::map<std::string, std::string> params, const std::string& name) {
  mx::Symbol s = mx::Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

mx::Symbol ConvBN(const mx::Symbol& x, int64_t c, const std::string& name) {
  mx::Symbol conv = Op("Convolution", {x},
                       {{"kernel", "(3,3)"},
                        {"pad", "(1,1)"},
                        {"num_filter", std::to_string(c)},
                        {"no_bias", "true"}},
                       name + "_conv");
  return Op("BatchNorm", {conv}, {{"fix_gamma", "false"}}, name + "_bn");
}

// A 3x3 stem from 3 channels (images), then the blocks.
mx::Symbol Net(int64_t c) {
  mx::Symbol x = Op("Activation", {ConvBN(mx::Symbol::Variable("data"), c, "stem")},
                    {{"act_type", "relu"}}, "stem_relu");
  for (int b = 0; b < 2; ++b) {
    const std::string name = "block" + std::to_string(b);
    mx::Symbol y =
        Op("Activation", {ConvBN(x, c, name + "a")}, {{"act_type", "relu"}}, name + "_relu_a");
    y = Op("elemwise_add", {x, ConvBN(y, c, name + "b")}, {}, name + "_add");
    x = Op("Activation", {y}, {{"act_type", "relu"}}, name + "_relu");
  }
  mx::Symbol pool = Op("Pooling", {x}, {{"global_pool", "true"}, {"pool_type", "avg"}}, "pool");
  mx::Symbol fc =
      Op("FullyConnected", {Op("Flatten", {pool}, {}, "flat")}, {{"num_hidden", "10"}}, "fc");
  return Op("SoftmaxOutput", {fc}, {}, "softmax");
}

struct Times {
  double train = 0, infer = 0;  // seconds per step
  size_t blocked = 0;
};

Times TimeLibmx(const Case& k, bool blocked) {
  mx::SetBlockedLayouts(blocked);
  auto exec = mx::Executor::SimpleBind(Net(k.c), mx::Context::CPU(),
                                       {{"data", mx::Shape{k.n, 3, k.hw, k.hw}}}, {},
                                       mx::GradReq::kWrite, {});
  for (const mx::NDArray& a : exec->arg_arrays()) {
    mx::NDArray f = bench::Filled(a.shape(), 0.1f);
    mx::NDArray::CopyFromTo(f, a);
  }
  for (size_t i = 0; i < exec->aux_arrays().size(); ++i) {
    exec->aux_arrays()[i].Fill(exec->aux_names()[i].find("var") != std::string::npos ? 1.0 : 0.0);
  }
  auto* engine = mx::engine::Engine::Get();
  auto wait = [engine] { engine->WaitForAll(); };
  Times t;
  t.blocked = exec->blocked_entries();
  if (std::getenv("RESNET_BLOCK_PLAN") != nullptr) std::printf("%s\n", exec->DebugPlan().c_str());
  t.train = bench::TimePerIter(
      [&] {
        exec->Forward(true);
        exec->Backward({});
      },
      wait);
  t.infer = bench::TimePerIter([&] { exec->Forward(false); }, wait);
  if (std::getenv("RESNET_BLOCK_PROFILE") != nullptr) {  // where a training step's time goes
    mx::engine::profiler::SetState(true);
    for (int i = 0; i < 5; ++i) {
      exec->Forward(true);
      exec->Backward({});
    }
    wait();
    mx::engine::profiler::SetState(false);
    std::printf("%s\n", mx::engine::profiler::Table(mx::engine::profiler::Take()).c_str());
    mx::engine::profiler::Clear();
  }
  return t;
}

// PyTorch's seconds per step per case key, best over 1 and 2 threads; empty when it did not run.
std::map<std::string, Times> TimeTorch(const std::string& script, const std::vector<Case>& cases) {
  std::map<std::string, Times> best;
  std::string args;
  for (const Case& k : cases) args += " " + k.Key();
  bench::RunTorchPeerCases(script, args, [&](const std::string& key, double train, double infer) {
    Times& t = best[key];
    t.train = t.train > 0 ? std::min(t.train, train) : train;
    t.infer = t.infer > 0 ? std::min(t.infer, infer) : infer;
  });
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string script = "bench/resnet_block_torch.py";
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--torch") == 0) script = argv[i + 1];
  const std::vector<Case> cases = {
      {"resnet-18 stage 2 (64ch 28x28)", 16, 64, 28, 1.0},
      {"resnet-18 stage 3 (128ch 14x14)", 16, 128, 14, 1.0},
  };
  try {
    const auto torch = TimeTorch(script, cases);
    std::printf("Two ResNet basic blocks, float32, ms per step (train = forward + backward)\n");
    std::printf("%-32s %17s %17s %17s %13s %13s %7s\n", "case", "libmx blocked", "libmx plain",
                "PyTorch", "blocked/plain", "ratio", "budget");
    const bool was = mx::BlockedLayouts();
    for (const Case& k : cases) {
      const Times b = TimeLibmx(k, true), p = TimeLibmx(k, false);
      auto it = torch.find(k.Key());
      const Times t = it == torch.end() ? Times{} : it->second;
      char budget[32] = "";
      if (k.budget > 0 && t.train > 0) std::snprintf(budget, sizeof(budget), ">=%.1fx", k.budget);
      std::printf("%-32s %7.2f |%7.2f %7.2f |%7.2f %7.2f |%7.2f %5.2fx|%5.2fx %5.2fx|%5.2fx %s\n",
                  k.name, 1e3 * b.train, 1e3 * b.infer, 1e3 * p.train, 1e3 * p.infer, 1e3 * t.train,
                  1e3 * t.infer, p.train / b.train, p.infer / b.infer,
                  t.train > 0 ? t.train / b.train : 0, t.infer > 0 ? t.infer / b.infer : 0, budget);
      std::printf("%-32s (%zu activations blocked)\n", "", b.blocked);
    }
    mx::SetBlockedLayouts(was);
    std::printf(
        "ratio: PyTorch's time over libmx's with blocked activations (train | inference);\n"
        "blocked/plain: the same executor with the layout pass off over on.\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resnet_block: %s\n", e.what());
    return 1;
  }
  return 0;
}
