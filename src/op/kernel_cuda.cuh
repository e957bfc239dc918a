// The GPU half of op/kernel.h, which includes it when nvcc compiles the file: Kernel<OP>::Launch
// on a GPU context runs OP::Map over [0, n) as a grid-stride kernel on the worker's stream.
#ifndef MX_OP_KERNEL_CUDA_CUH_
#define MX_OP_KERNEL_CUDA_CUH_

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "op/cuda_util.h"
#include "op/kernel.h"

namespace mx {
namespace cuda {

constexpr int kThreadsPerBlock = 256;
// Enough blocks to fill any current GPU many times over; the grid-stride loop covers the rest,
// so n beyond 2^31 works too.
constexpr int64_t kMaxBlocks = int64_t(1) << 16;

inline unsigned BlocksFor(int64_t n) {
  return static_cast<unsigned>(std::min((n + kThreadsPerBlock - 1) / kThreadsPerBlock, kMaxBlocks));
}

template <typename OP, typename... Args>
__global__ void __launch_bounds__(kThreadsPerBlock) MapKernel(int64_t n, Args... args) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    OP::Map(i, args...);
  }
}

}  // namespace cuda

inline namespace MX_KERNEL_NS {

template <typename OP>
template <typename... Args>
void Kernel<OP>::LaunchGPU(const engine::RunContext& rctx, int64_t n, Args... args) {
  if (n <= 0) return;
  cuda::MapKernel<OP, Args...>
      <<<cuda::BlocksFor(n), cuda::kThreadsPerBlock, 0, cuda::StreamOf(rctx)>>>(n, args...);
  cuda::CheckLaunch("elementwise kernel");
}

}  // namespace MX_KERNEL_NS
}  // namespace mx

#endif  // MX_OP_KERNEL_CUDA_CUH_
