// libmx on the GPU against cuBLAS called directly in the same run (CUDA builds; a machine
// without a GPU prints "skipped").
//   - GEMM: mx dot on gpu(0), n x n x n float32, in GFLOP/s, as a ratio to cublasSgemm on the
//     same device (budget: >= 0.9; the difference is the engine's push and event per op).
//   - small-op latency: elemwise_add of 16 floats on gpu(0) through the C ABI, in us/op, pushed
//     back to back and waited for once (budget: <= 10 us/op: a kernel launch is 2-5 us).
//
//   gpu_bench [n]   (default 4096)
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "mx/c_api.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#define CHECK(call)                                                      \
  if ((call) != MX_OK) {                                                 \
    std::fprintf(stderr, "%s failed: %s\n", #call, mx_get_last_error()); \
    return 1;                                                            \
  }

mx_ndarray_t Make(int64_t rows, int64_t cols, float value) {
  const int64_t shape[2] = {rows, cols};
  mx_ndarray_t h = nullptr;
  if (mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, mx_context_t{MX_GPU, 0}, &h) != MX_OK) {
    return nullptr;
  }
  std::vector<float> v(static_cast<size_t>(rows * cols), value);
  if (mx_ndarray_copy_from_host(h, v.data(), v.size() * sizeof(float)) != MX_OK) return nullptr;
  return h;
}

// cublasSgemm on raw device memory: the peer.
double CublasGflops(int n, int reps) {
  void *va = nullptr, *vb = nullptr, *vc = nullptr;
  const size_t bytes = size_t(n) * n * sizeof(float);
  cudaMalloc(&va, bytes);
  cudaMalloc(&vb, bytes);
  cudaMalloc(&vc, bytes);
  float *a = static_cast<float*>(va), *b = static_cast<float*>(vb), *c = static_cast<float*>(vc);
  cudaMemset(a, 0, bytes);
  cudaMemset(b, 0, bytes);
  cublasHandle_t h = nullptr;
  cublasCreate(&h);
  const float one = 1, zero = 0;
  cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, b, n, &zero, c, n);
  cudaDeviceSynchronize();
  const double t0 = Now();
  for (int r = 0; r < reps; ++r) {
    cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, b, n, &zero, c, n);
  }
  cudaDeviceSynchronize();
  const double secs = Now() - t0;
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  return 2.0 * n * n * double(n) * reps / secs / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 4096;
  int32_t gpus = 0;
  CHECK(mx_gpu_count(&gpus));
  if (gpus == 0) {
    std::printf("gpu_bench: skipped (no GPU on this machine)\n");
    return 0;
  }
  const int reps = 20;
  mx_ndarray_t a = Make(n, n, 0.5f), b = Make(n, n, 0.25f), c = Make(n, n, 0.0f);
  if (a == nullptr || b == nullptr || c == nullptr) {
    std::fprintf(stderr, "allocating on gpu(0) failed: %s\n", mx_get_last_error());
    return 1;
  }
  mx_ndarray_t ab[2] = {a, b};
  CHECK(mx_op_invoke_into("dot", 2, ab, 0, nullptr, nullptr, 1, &c));
  CHECK(mx_engine_wait_all());
  const double t0 = Now();
  for (int r = 0; r < reps; ++r) CHECK(mx_op_invoke_into("dot", 2, ab, 0, nullptr, nullptr, 1, &c));
  CHECK(mx_engine_wait_all());
  const double mx_gflops = 2.0 * n * n * double(n) * reps / (Now() - t0) / 1e9;
  std::vector<float> host(size_t(n) * n);
  CHECK(mx_ndarray_copy_to_host(c, host.data(), host.size() * sizeof(float)));
  const float corner = host[0];
  const double peer = CublasGflops(n, reps);
  std::printf(
      "dot %dx%dx%d float32 on gpu(0): %.0f GFLOP/s, cublasSgemm %.0f GFLOP/s: %.2fx "
      "(budget >= 0.9; c[0] = %g, expected %g)\n",
      n, n, n, mx_gflops, peer, mx_gflops / peer, corner, 0.125 * n);

  mx_ndarray_t x = Make(1, 16, 1.0f), y = Make(1, 16, 2.0f), z = Make(1, 16, 0.0f);
  mx_ndarray_t in[2] = {x, y};
  for (int i = 0; i < 100; ++i)
    CHECK(mx_op_invoke_into("elemwise_add", 2, in, 0, nullptr, nullptr, 1, &z));
  CHECK(mx_engine_wait_all());
  const int ops = 20000;
  const double t1 = Now();
  for (int i = 0; i < ops; ++i)
    CHECK(mx_op_invoke_into("elemwise_add", 2, in, 0, nullptr, nullptr, 1, &z));
  CHECK(mx_engine_wait_all());
  std::printf("elemwise_add of 16 floats on gpu(0): %.2f us/op (budget <= 10)\n",
              (Now() - t1) / ops * 1e6);
  for (mx_ndarray_t h : {a, b, c, x, y, z}) mx_ndarray_free(h);
  return 0;
}
