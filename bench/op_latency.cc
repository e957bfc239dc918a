// The end-to-end cost of one small op invoked through the C ABI (lookup by name, parameter
// parsing, shape inference, engine push and run), in ns/op, against an empty engine push as the
// floor. Budget: <= 2 us per op. bench/op_latency_torch.py measures the same op in PyTorch eager
// mode for comparison (scripts/bench.sh runs both).
#include <chrono>
#include <cstdio>
#include <vector>

#include "mx/c_api.h"

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#define CHECK(call)                                                      \
  if ((call) != MX_OK) {                                                 \
    std::fprintf(stderr, "%s failed: %s\n", #call, mx_get_last_error()); \
    return 1;                                                            \
  }

}  // namespace

int main() {
  const int64_t shape[1] = {16};
  const mx_context_t cpu = {MX_CPU, 0};
  mx_ndarray_t a = nullptr, b = nullptr, out = nullptr;
  CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, cpu, &a));
  CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, cpu, &b));
  CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, cpu, &out));
  std::vector<float> ones(16, 1.0f);
  CHECK(mx_ndarray_copy_from_host(a, ones.data(), ones.size() * sizeof(float)));
  CHECK(mx_ndarray_copy_from_host(b, ones.data(), ones.size() * sizeof(float)));
  mx_ndarray_t in[2] = {a, b};
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"2"};
  const int kIters = 200000;

  for (int round = 0; round < 2; ++round) {  // the first round warms pools and caches
    double t0 = NowSeconds();
    for (int i = 0; i < kIters; ++i) {
      CHECK(mx_op_invoke_into("elemwise_add", 2, in, 0, nullptr, nullptr, 1, &out));
    }
    CHECK(mx_engine_wait_all());
    const double add_ns = (NowSeconds() - t0) / kIters * 1e9;
    t0 = NowSeconds();
    for (int i = 0; i < kIters; ++i) {
      CHECK(mx_op_invoke_into("_mul_scalar", 1, &a, 1, keys, vals, 1, &out));
    }
    CHECK(mx_engine_wait_all());
    const double scalar_ns = (NowSeconds() - t0) / kIters * 1e9;
    if (round == 1) {
      std::printf("C ABI elemwise_add (16 floats, into an output): %7.0f ns/op (budget <= 2000)\n",
                  add_ns);
      std::printf("C ABI _mul_scalar  (16 floats, one parameter):  %7.0f ns/op (budget <= 2000)\n",
                  scalar_ns);
    }
  }
  mx_ndarray_free(a);
  mx_ndarray_free(b);
  mx_ndarray_free(out);
  return 0;
}
