// The dist_sync key-value store against MPI itself and against one worker, in one mpirun job.
//
//   mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 build/bench/kvstore [what]
//
// where `what` is allreduce or train (default: both).
//
// scripts/bench.sh kvstore runs it twice: over loopback TCP as the tests do, and over Open MPI's
// default transport between processes of one machine, shared memory. Ratios are peer time / store
// time: above 1 the store is faster.
//
// 1. Allreduce bandwidth, float32 buffers of 4 KiB to 64 MiB. The store: a "dist_sync" store
//    without optimizer (the stored value becomes the sum); one iteration is Push(key, grad) and
//    then Engine::WaitForAll() (the allreduce into the stored value has run). The peer:
//    MPI_Allreduce(send, recv) of the same size on MPI_COMM_WORLD from the same processes (libmx
//    uses its own duplicate of it). Alongside, MPI_Iallreduce + MPI_Test polling from this thread:
//    the calls libmx's communication thread makes, so the store's own cost is the gap between the
//    two. They take turns, kReps times; a rep's time is its slowest rank's; the figure is the
//    median. GB/s is algorithm bandwidth, bytes / seconds per iteration. Budget (issue 14):
//    store / MPI >= 0.9 from 1 MiB up.
//    Fused: 64 keys of 4 KiB in one Push, against 64 MPI_Allreduce calls of 4 KiB (the peer: a
//    program without fusion) and against one of 256 KiB (what fusion can reach at best).
// 2. Training. An MLP 784-128-64-10 (batch 128 per worker, synthetic data, fixed seed) bound with
//    Executor::SimpleBind; a step is forward, backward, push of every gradient and pull of every
//    weight through a store with SGD (lr 0.1) set on it. Every rank training through "dist_sync"
//    (samples/s = workers x steps x batch / the slowest rank's time) takes turns with rank 0
//    training alone through a "local" store while the other ranks sleep: the program one process
//    would run, on the same machine, in the same job. Ratio = all workers / one.

// The C API only: MPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "executor/executor.h"
#include "graph/symbol.h"
#include "kvstore/kvstore.h"
#include "ndarray/ndarray.h"
#include "train/optimizer.h"

namespace {

using Clock = std::chrono::steady_clock;
using mx::NDArray;
using mx::Shape;
using mx::kvstore::KVStore;

constexpr int kReps = 5;

int g_rank = 0, g_size = 1;

// printf on rank 0 only.
__attribute__((format(printf, 1, 2))) void Say(const char* format, ...) {
  if (g_rank != 0) return;
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::fflush(stdout);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds `body` takes on the slowest rank, every rank starting together.
double TimeAll(const std::function<void()>& body) {
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = Clock::now();
  body();
  const double t = std::chrono::duration<double>(Clock::now() - t0).count();
  double slowest = 0;
  MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

// Median seconds per iteration of each of `runs`, which take turns (one warm-up call each first).
std::vector<double> TakeTurns(int iters, const std::vector<std::function<void()>>& runs) {
  for (const auto& run : runs) run();
  std::vector<std::vector<double>> t(runs.size());
  for (int r = 0; r < kReps; ++r) {
    for (size_t k = 0; k < runs.size(); ++k) {
      t[k].push_back(TimeAll([&] {
                       for (int i = 0; i < iters; ++i) runs[k]();
                     }) /
                     iters);
    }
  }
  std::vector<double> med;
  for (const auto& tk : t) med.push_back(Median(tk));
  return med;
}

NDArray Filled(int64_t n, float value) {
  NDArray a(Shape{n}, mx::Context::CPU());
  a.Fill(value);
  a.WaitToRead();
  return a;
}

std::string SizeName(size_t bytes) {
  return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MiB"
                             : std::to_string(bytes >> 10) + " KiB";
}

void AllreduceBandwidth(KVStore* kv) {
  auto* engine = mx::engine::Engine::Get();
  Say("allreduce, float32, %d workers, GB/s = bytes / s per iteration\n"
      "  store: Push + Engine::WaitForAll; MPI: MPI_Allreduce; Iallreduce: MPI_Iallreduce + "
      "MPI_Test, the calls libmx makes\n",
      g_size);
  Say("  %-8s %10s %10s %10s %8s\n", "size", "store", "MPI", "Iallreduce", "store/MPI");
  for (size_t bytes :
       {size_t{4} << 10, size_t{64} << 10, size_t{1} << 20, size_t{16} << 20, size_t{64} << 20}) {
    const auto n = static_cast<int64_t>(bytes / sizeof(float));
    const std::string key = "k" + std::to_string(bytes);
    kv->Init({key}, {Filled(n, 0)});
    NDArray grad = Filled(n, 1.0f + static_cast<float>(g_rank));
    std::vector<float> send(static_cast<size_t>(n), 1.0f), recv(static_cast<size_t>(n));
    // About 256 MiB per rep: many iterations for small buffers, a few for large ones.
    const int iters = static_cast<int>(std::clamp<size_t>((size_t{256} << 20) / bytes, 4, 2000));
    const std::vector<double> t =
        TakeTurns(iters, {[&] {
                            kv->Push({key}, {grad}, 0);
                            engine->WaitForAll();
                          },
                          [&] {
                            MPI_Allreduce(send.data(), recv.data(), static_cast<int>(n), MPI_FLOAT,
                                          MPI_SUM, MPI_COMM_WORLD);
                          },
                          [&] {
                            MPI_Request req;
                            MPI_Iallreduce(send.data(), recv.data(), static_cast<int>(n), MPI_FLOAT,
                                           MPI_SUM, MPI_COMM_WORLD, &req);
                            for (int done = 0; done == 0;) MPI_Test(&req, &done, MPI_STATUS_IGNORE);
                          }});
    Say("  %-8s %10.3f %10.3f %10.3f %9.2f%s\n", SizeName(bytes).c_str(), bytes / t[0] * 1e-9,
        bytes / t[1] * 1e-9, bytes / t[2] * 1e-9, t[1] / t[0],
        bytes >= (1u << 20) ? "  (budget >= 0.9)" : "");
  }

  // Fused: 64 small keys in one call.
  constexpr int kKeys = 64;
  constexpr int64_t kN = 1024;  // 4 KiB
  std::vector<std::string> keys;
  std::vector<NDArray> grads, zeros;
  for (int k = 0; k < kKeys; ++k) {
    keys.push_back("f" + std::to_string(k));
    grads.push_back(Filled(kN, 1));
    zeros.push_back(Filled(kN, 0));
  }
  kv->Init(keys, zeros);
  std::vector<float> send(kKeys * kN, 1.0f), recv(kKeys * kN);
  const std::vector<double> t =
      TakeTurns(200, {[&] {
                        kv->Push(keys, grads, 0);
                        engine->WaitForAll();
                      },
                      [&] {
                        for (int k = 0; k < kKeys; ++k) {
                          MPI_Allreduce(send.data() + k * kN, recv.data() + k * kN, kN, MPI_FLOAT,
                                        MPI_SUM, MPI_COMM_WORLD);
                        }
                      },
                      [&] {
                        MPI_Allreduce(send.data(), recv.data(), kKeys * kN, MPI_FLOAT, MPI_SUM,
                                      MPI_COMM_WORLD);
                      }});
  Say("  fused, 64 keys x 4 KiB in one Push: %.1f us; 64 MPI_Allreduce of 4 KiB %.1f us (ratio "
      "%.2f); one MPI_Allreduce of 256 KiB %.1f us (ratio %.2f)\n",
      t[0] * 1e6, t[1] * 1e6, t[1] / t[0], t[2] * 1e6, t[2] / t[0]);
}

// ---- training -----------------------------------------------------------------------------------

constexpr int kBatch = 128;
constexpr int kSteps = 100;  // per timed rep
constexpr int kBatches = 8;  // synthetic batches, cycled

mx::Symbol Layer(const std::string& op, const std::string& name, mx::Symbol x,
                 const std::map<std::string, std::string>& params) {
  mx::Symbol s = mx::Symbol::CreateOp(op, params);
  s.Compose({std::move(x)}, {}, name);
  return s;
}

mx::Symbol Mlp() {
  mx::Symbol x = mx::Symbol::Variable("data");
  x = Layer("FullyConnected", "fc1", x, {{"num_hidden", "128"}});
  x = Layer("Activation", "relu1", x, {{"act_type", "relu"}});
  x = Layer("FullyConnected", "fc2", x, {{"num_hidden", "64"}});
  x = Layer("Activation", "relu2", x, {{"act_type", "relu"}});
  x = Layer("FullyConnected", "fc3", x, {{"num_hidden", "10"}});
  return Layer("SoftmaxOutput", "softmax", x, {});
}

// One worker's model, data and store.
class Trainer {
 public:
  Trainer(const std::string& store, int workers) : kv_(KVStore::Create(store)) {
    exec_ = mx::Executor::SimpleBind(
        Mlp(), mx::Context::CPU(), {{"data", Shape{kBatch, 784}}, {"softmax_label", Shape{kBatch}}},
        {}, mx::GradReq::kWrite,
        {{"data", mx::GradReq::kNull}, {"softmax_label", mx::GradReq::kNull}});
    std::mt19937 rng(42);  // the same initial weights everywhere (the store broadcasts rank 0's)
    for (size_t i = 0; i < exec_->arg_names().size(); ++i) {
      const std::string& name = exec_->arg_names()[i];
      const NDArray& a = exec_->arg_arrays()[i];
      if (name == "data") data_ = a;
      if (name == "softmax_label") label_ = a;
      if (name == "data" || name == "softmax_label") continue;
      std::vector<float> v(static_cast<size_t>(a.Size()), 0.0f);
      if (a.shape().ndim() == 2) {  // Xavier uniform weights, zero biases
        const float r = std::sqrt(6.0f / static_cast<float>(a.shape()[0] + a.shape()[1]));
        std::uniform_real_distribution<float> u(-r, r);
        for (float& x : v) x = u(rng);
      }
      a.SyncCopyFromCPU(v.data(), v.size());
      keys_.push_back(name);
      weights_.push_back(a);
      grads_.push_back(exec_->grad_arrays()[i]);
    }
    // Each worker its own samples; random pixels and labels (throughput does not depend on them).
    std::mt19937 data_rng(1000 + static_cast<unsigned>(g_rank));
    std::uniform_real_distribution<float> pixel(0, 1);
    std::uniform_int_distribution<int> digit(0, 9);
    for (int b = 0; b < kBatches; ++b) {
      std::vector<float> x(kBatch * 784), y(kBatch);
      for (float& p : x) p = pixel(data_rng);
      for (float& l : y) l = static_cast<float>(digit(data_rng));
      batches_.push_back({NDArray(data_.shape(), mx::Context::CPU()),
                          NDArray(label_.shape(), mx::Context::CPU())});
      batches_.back().first.SyncCopyFromCPU(x.data(), x.size());
      batches_.back().second.SyncCopyFromCPU(y.data(), y.size());
    }
    kv_->Init(keys_, weights_);
    // Gradients are summed over the batch and the workers: the step takes their mean.
    std::shared_ptr<mx::train::Optimizer> sgd = mx::train::Optimizer::Create(
        "sgd",
        {{"learning_rate", "0.1"}, {"rescale_grad", std::to_string(1.0 / (kBatch * workers))}});
    kv_->SetOptimizer(sgd);
  }

  // Pushes `steps` training steps and waits for them.
  void Train(int steps) {
    for (int s = 0; s < steps; ++s) {
      const auto& batch = batches_[static_cast<size_t>(next_++ % kBatches)];
      NDArray::CopyFromTo(batch.first, data_);
      NDArray::CopyFromTo(batch.second, label_);
      exec_->Forward(/*is_train=*/true);
      exec_->Backward({});
      kv_->Push(keys_, grads_, 0);
      kv_->Pull(keys_, weights_, 0);
    }
    mx::engine::Engine::Get()->WaitForAll();
  }

 private:
  std::unique_ptr<KVStore> kv_;
  std::unique_ptr<mx::Executor> exec_;
  NDArray data_, label_;
  std::vector<std::string> keys_;
  std::vector<NDArray> weights_, grads_;
  std::vector<std::pair<NDArray, NDArray>> batches_;
  int next_ = 0;
};

// Every rank waits here for the others without taking a core from them: MPI's own waits spin.
void RestUntilAll() {
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  for (int done = 0;;) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void TrainingThroughput() {
  Trainer together("dist_sync", g_size);
  std::unique_ptr<Trainer> alone;
  if (g_rank == 0) alone = std::make_unique<Trainer>("local", 1);
  together.Train(5);  // warm-up
  if (alone) alone->Train(5);
  std::vector<double> t_together, t_alone;
  for (int r = 0; r < kReps; ++r) {
    t_together.push_back(TimeAll([&] { together.Train(kSteps); }));
    if (alone) {
      const auto t0 = Clock::now();
      alone->Train(kSteps);
      t_alone.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    RestUntilAll();
  }
  if (g_rank != 0) return;
  const double together_sps = g_size * kSteps * kBatch / Median(t_together);
  const double alone_sps = kSteps * kBatch / Median(t_alone);
  Say("training, MLP 784-128-64-10, batch %d per worker, SGD on the store, %d steps per rep:\n"
      "  %d worker(s) (dist_sync): %.0f samples/s; 1 worker (local): %.0f samples/s; ratio %.2f\n",
      kBatch, kSteps, g_size, together_sps, alone_sps, together_sps / alone_sps);
}

}  // namespace

int main(int argc, char** argv) {
  // libmx makes its MPI calls from its own thread while this one makes the bench's.
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  int rc = 0;
  if (provided < MPI_THREAD_MULTIPLE) {
    if (g_rank == 0) std::fprintf(stderr, "kvstore: this MPI does not provide THREAD_MULTIPLE\n");
    rc = 1;
  } else {
    try {
      auto kv = KVStore::Create("dist_sync");
      if (g_rank == 0) {
        const char* btl = std::getenv("OMPI_MCA_btl");
        std::printf("transport: %s, %u hardware threads\n",
                    btl != nullptr ? btl : "Open MPI's default (shared memory between processes)",
                    std::thread::hardware_concurrency());
      }
      const std::string only = argc > 1 ? argv[1] : "";
      if (only != "train") AllreduceBandwidth(kv.get());
      kv.reset();
      if (only != "allreduce") TrainingThroughput();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kvstore (rank %d): %s\n", g_rank, e.what());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  std::fflush(stdout);
  MPI_Finalize();
  return rc;
}
