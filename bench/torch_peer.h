// Runs a PyTorch peer script (bench/*_torch.py) the way the benchmarks compare against it: with
// Debian's /usr/bin/python3, OMP_WAIT_POLICY=PASSIVE (spinning OpenMP threads otherwise fight
// OpenBLAS's for the cores), once per thread count, keeping the fastest run.
#ifndef MX_BENCH_TORCH_PEER_H_
#define MX_BENCH_TORCH_PEER_H_

#include <cstdio>
#include <cstring>
#include <string>

namespace bench {

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
    const std::string cmd = "OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 " + script + " " + args +
                            " --threads " + std::to_string(threads) + " 2>&1";
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

}  // namespace bench

#endif  // MX_BENCH_TORCH_PEER_H_
