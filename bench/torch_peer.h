// Runs a PyTorch peer script (bench/*_torch.py) the way the benchmarks compare against it: with
// Debian's /usr/bin/python3 and PeerEnv() below, once per thread count, keeping the fastest run.
#ifndef MX_BENCH_TORCH_PEER_H_
#define MX_BENCH_TORCH_PEER_H_

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

// The environment that puts PyTorch at its best on this machine:
// - OMP_WAIT_POLICY=PASSIVE: its spinning OpenMP threads otherwise fight OpenBLAS's for the cores.
// - OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21 does not know newer Intel models (family 6
//   model 207 here) and falls back to its SSE3 "Prescott" kernels, so PyTorch's Linear layers
//   (OpenBLAS sgemm) run about 4x slower than they can: 3,800 vs 14,000 samples/s on the big
//   MLP. Naming the newest kernel family the CPU supports restores them. A value the
//   environment already sets is left as it is (libmx's benchmark runs under it too).
inline std::string PeerEnv() {
  std::string env = "OMP_WAIT_POLICY=PASSIVE ";
  __builtin_cpu_init();
  const char* given = std::getenv("OPENBLAS_CORETYPE");
  if (given != nullptr && given[0] != '\0') return env;  // the peer inherits it
  if (__builtin_cpu_supports("avx512f")) {
    env += "OPENBLAS_CORETYPE=SkylakeX ";
  } else if (__builtin_cpu_supports("avx2")) {
    env += "OPENBLAS_CORETYPE=Haswell ";
  }
  return env;
}

struct PeerRun {
  double samples_per_s = 0;
  double accuracy = 0;
  int threads = 0;  // 0: the peer did not run
};

// `args` follow the script name; the script prints "...: <samples/s> samples/s
// test_accuracy=<acc>". Other output lines are echoed, indented.
inline PeerRun RunTorchPeer(const std::string& script, const std::string& args) {
  PeerRun best;
  for (int threads = 1; threads <= 2; ++threads) {
    const std::string cmd = PeerEnv() + "/usr/bin/python3 " + script + " " + args + " --threads " +
                            std::to_string(threads) + " 2>&1";
    std::FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return best;
    char line[512];
    PeerRun run;
    while (std::fgets(line, sizeof(line), p) != nullptr) {
      const char* colon = std::strstr(line, ": ");
      if (colon != nullptr && std::sscanf(colon, ": %lf samples/s test_accuracy=%lf",
                                          &run.samples_per_s, &run.accuracy) == 2) {
        run.threads = threads;
      } else {
        std::printf("  torch: %s", line);
      }
    }
    if (pclose(p) == 0 && run.threads != 0 && run.samples_per_s > best.samples_per_s) best = run;
  }
  return best;
}

// For peers that print one line per case, "torch <key>: <a> <b>": runs `script` with `args` once
// per thread count (1, 2) and calls keep(key, a, b) for each such line, so the caller keeps the
// better figure per key. Other output lines are echoed, indented.
template <typename Keep>
void RunTorchPeerCases(const std::string& script, const std::string& args, Keep keep) {
  for (int threads = 1; threads <= 2; ++threads) {
    const std::string cmd = PeerEnv() + "/usr/bin/python3 " + script + " --threads " +
                            std::to_string(threads) + " " + args + " 2>&1";
    std::FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return;
    char line[512], key[128];
    double a = 0, b = 0;
    while (std::fgets(line, sizeof(line), p) != nullptr) {
      if (std::sscanf(line, "torch %127[^:]: %lf %lf", key, &a, &b) == 3) {
        keep(std::string(key), a, b);
      } else {
        std::printf("  torch: %s", line);
      }
    }
    pclose(p);
  }
}

}  // namespace bench

#endif  // MX_BENCH_TORCH_PEER_H_
