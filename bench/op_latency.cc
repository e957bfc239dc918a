// The end-to-end cost of one small op invoked through the C ABI (lookup by name, parameter
// parsing, shape inference, engine push and run), in ns/op, against PyTorch eager mode doing the
// same op from Python (bench/op_latency_torch.py, run by this program in the same run).
// Budget: <= 1500 ns per op and <= 0.7x PyTorch.
//
//   op_latency [--torch bench/op_latency_torch.py]   (run from the repository root)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mx/c_api.h"
#include "torch_peer.h"

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#define CHECK(call)                                                      \
  if ((call) != MX_OK) {                                                 \
    std::fprintf(stderr, "%s failed: %s\n", #call, mx_get_last_error()); \
    return 1;                                                            \
  }

// ns/op of each "PyTorch eager <op> ...: <ns> ns/op" line of the peer, keyed by <op>; {} without
// PyTorch.
struct TorchFigures {
  double add = 0, mul = 0, mm = 0;
};
TorchFigures RunPeer(const std::string& script) {
  TorchFigures t;
  const std::string cmd = bench::PeerEnv() + "/usr/bin/python3 " + script + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return t;
  char line[512];
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    const char* colon = std::strstr(line, "):");
    double ns = 0;
    if (colon == nullptr || std::sscanf(colon, "): %lf ns/op", &ns) != 1) {
      std::printf("  torch: %s", line);
      continue;
    }
    if (std::strncmp(line, "PyTorch eager add", 17) == 0) t.add = ns;
    if (std::strncmp(line, "PyTorch eager mul", 17) == 0) t.mul = ns;
    if (std::strncmp(line, "PyTorch eager mm", 16) == 0) t.mm = ns;
  }
  pclose(p);
  return t;
}

void Report(const char* what, double ns, double torch_ns) {
  std::printf("%-52s %6.0f ns/op (budget <= 1500)", what, ns);
  if (torch_ns > 0) {
    std::printf("  PyTorch %6.0f ns/op  ratio %.2f (budget <= 0.70)\n", torch_ns, ns / torch_ns);
  } else {
    std::printf("  PyTorch: not measured\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string script = "bench/op_latency_torch.py";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--torch") == 0) script = argv[++i];
  }
  const int64_t vec[1] = {16}, mat[2] = {16, 16};
  const mx_context_t cpu = {MX_CPU, 0};
  mx_ndarray_t a = nullptr, b = nullptr, out = nullptr, m = nullptr, mout = nullptr;
  CHECK(mx_ndarray_create(vec, 1, MX_DTYPE_FLOAT32, cpu, &a));
  CHECK(mx_ndarray_create(vec, 1, MX_DTYPE_FLOAT32, cpu, &b));
  CHECK(mx_ndarray_create(vec, 1, MX_DTYPE_FLOAT32, cpu, &out));
  CHECK(mx_ndarray_create(mat, 2, MX_DTYPE_FLOAT32, cpu, &m));
  CHECK(mx_ndarray_create(mat, 2, MX_DTYPE_FLOAT32, cpu, &mout));
  std::vector<float> ones(256, 1.0f);
  CHECK(mx_ndarray_copy_from_host(a, ones.data(), 16 * sizeof(float)));
  CHECK(mx_ndarray_copy_from_host(b, ones.data(), 16 * sizeof(float)));
  CHECK(mx_ndarray_copy_from_host(m, ones.data(), 256 * sizeof(float)));
  mx_ndarray_t in[2] = {a, b}, mm_in[2] = {m, m};
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"2"};
  const int kIters = 200000;

  const TorchFigures torch = RunPeer(script);
  double add_ns = 0, scalar_ns = 0, dot_ns = 0;
  for (int round = 0; round < 2; ++round) {  // the first round warms pools and caches
    double t0 = NowSeconds();
    for (int i = 0; i < kIters; ++i) {
      CHECK(mx_op_invoke_into("elemwise_add", 2, in, 0, nullptr, nullptr, 1, &out));
    }
    CHECK(mx_engine_wait_all());
    add_ns = (NowSeconds() - t0) / kIters * 1e9;
    t0 = NowSeconds();
    for (int i = 0; i < kIters; ++i) {
      CHECK(mx_op_invoke_into("_mul_scalar", 1, &a, 1, keys, vals, 1, &out));
    }
    CHECK(mx_engine_wait_all());
    scalar_ns = (NowSeconds() - t0) / kIters * 1e9;
    t0 = NowSeconds();
    for (int i = 0; i < kIters / 4; ++i) {
      CHECK(mx_op_invoke_into("dot", 2, mm_in, 0, nullptr, nullptr, 1, &mout));
    }
    CHECK(mx_engine_wait_all());
    dot_ns = (NowSeconds() - t0) / (kIters / 4) * 1e9;
  }
  Report("C ABI elemwise_add (16 floats, into an output):", add_ns, torch.add);
  Report("C ABI _mul_scalar  (16 floats, one parameter): ", scalar_ns, torch.mul);
  Report("C ABI dot          (16x16 by 16x16):           ", dot_ns, torch.mm);
  for (mx_ndarray_t h : {a, b, out, m, mout}) mx_ndarray_free(h);
  return 0;
}
