// GPU ordering across copy and compute streams. Skips itself without a GPU (CI has none); run on
// a machine with one to check the CUDA event path.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#if MX_USE_CUDA
#include <cuda_runtime_api.h>
#endif

#include "base/context.h"
#include "base/error.h"
#include "engine/engine.h"
#include "engine_test_util.h"

namespace mx {
namespace engine {
namespace {

TEST(GpuEngine, CopyComputeCopyBackIsOrdered) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
#if MX_USE_CUDA
  Engine* engine = testing::Restart(EngineType::kThreaded, 1);
  constexpr size_t kN = 1 << 20;
  void* dev_buf = nullptr;
  ASSERT_EQ(cudaMalloc(&dev_buf, kN * sizeof(int32_t)), cudaSuccess);
  std::vector<int32_t> src(kN, 7), dst(kN, 0);
  VarHandle src_var = engine->NewVar(), dev_var = engine->NewVar(), dst_var = engine->NewVar();
  for (int round = 0; round < 20; ++round) {
    const int byte = round % 2 == 0 ? 0x01 : 0x02;
    // Host-to-device on a copy stream, overwrite on a compute stream, back on a copy stream: each
    // step must see the previous one through the CUDA events alone.
    engine->PushSync(
        [&](RunContext r) {
          cudaMemcpyAsync(dev_buf, src.data(), kN * sizeof(int32_t), cudaMemcpyHostToDevice,
                          static_cast<cudaStream_t>(r.stream));
        },
        Context::GPU(0), &src_var, 1, &dev_var, 1, FnProperty::kCopyToDevice, 0, "h2d");
    engine->PushSync(
        [&, byte](RunContext r) {
          cudaMemsetAsync(dev_buf, byte, kN * sizeof(int32_t) / 2,
                          static_cast<cudaStream_t>(r.stream));
        },
        Context::GPU(0), nullptr, 0, &dev_var, 1, FnProperty::kNormal, 0, "memset");
    engine->PushSync(
        [&](RunContext r) {
          cudaMemcpyAsync(dst.data(), dev_buf, kN * sizeof(int32_t), cudaMemcpyDeviceToHost,
                          static_cast<cudaStream_t>(r.stream));
        },
        Context::GPU(0), &dev_var, 1, &dst_var, 1, FnProperty::kCopyFromDevice, 0, "d2h");
    engine->WaitForVar(dst_var);
    const int32_t head = byte * 0x01010101;
    ASSERT_EQ(dst[0], head) << "round " << round;
    ASSERT_EQ(dst[kN / 2 - 1], head) << "round " << round;
    ASSERT_EQ(dst[kN / 2], 7) << "round " << round;
    ASSERT_EQ(dst[kN - 1], 7) << "round " << round;
  }
  for (VarHandle v : {src_var, dev_var, dst_var}) engine->DeleteVar(v);
  engine->WaitForAll();
  cudaFree(dev_buf);
  EXPECT_EQ(engine->WorkerCount(DeviceType::kGPU), 2 + 1);
  Engine::Shutdown();
#endif
}

// An error in a GPU function lands on the variables it writes, is rethrown by the wait, skips
// its dependants, and leaves the GPU workers and their streams usable; with both engines.
TEST(GpuEngine, ErrorsOnTheGpuAreErrorsOnTheVariables) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
#if MX_USE_CUDA
  for (EngineType type : {EngineType::kThreaded, EngineType::kNaive}) {
    Engine* engine = testing::Restart(type, 1);
    VarHandle a = engine->NewVar(), b = engine->NewVar();
    bool dependant_ran = false;
    engine->PushSync(
        [](RunContext r) {
          EXPECT_NE(r.stream, nullptr);
          EXPECT_NE(r.blas_handle, nullptr) << "compute workers own a cuBLAS handle";
          MX_THROW(kInvalidArgument) << "bad kernel argument";
        },
        Context::GPU(0), nullptr, 0, &a, 1, FnProperty::kNormal, 0, "failing_gpu_op");
    engine->PushSync([&](RunContext) { dependant_ran = true; }, Context::GPU(0), &a, 1, &b, 1,
                     FnProperty::kNormal, 0, "dependant");
    try {
      engine->WaitForVar(b);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bad kernel argument"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(dependant_ran);
    // The device still works: a memset and a copy back through fresh variables.
    VarHandle c = engine->NewVar();
    void* dev = nullptr;
    ASSERT_EQ(cudaMalloc(&dev, 64), cudaSuccess);
    int32_t host[16] = {};
    engine->PushSync(
        [&](RunContext r) {
          cudaMemsetAsync(dev, 0x01, 64, static_cast<cudaStream_t>(r.stream));
          cudaMemcpyAsync(host, dev, 64, cudaMemcpyDeviceToHost,
                          static_cast<cudaStream_t>(r.stream));
        },
        Context::GPU(0), nullptr, 0, &c, 1, FnProperty::kCopyFromDevice, 0, "after_error");
    engine->WaitForVar(c);
    EXPECT_EQ(host[15], 0x01010101);
    for (VarHandle v : {a, b, c}) engine->DeleteVar(v);
    engine->WaitForAll();
    cudaFree(dev);
    Engine::Shutdown();
  }
#endif
}

}  // namespace
}  // namespace engine
}  // namespace mx
