#include "base/context.h"

#include "base/error.h"

#if MX_USE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace mx {

std::string Context::ToString() const {
  const char* type = "unknown";
  switch (dev_type) {
    case DeviceType::kCPU:
      type = "cpu";
      break;
    case DeviceType::kGPU:
      type = "gpu";
      break;
    case DeviceType::kCPUPinned:
      type = "cpu_pinned";
      break;
  }
  return std::string(type) + "(" + std::to_string(dev_id) + ")";
}

std::ostream& operator<<(std::ostream& os, const Context& ctx) { return os << ctx.ToString(); }

void Context::Validate() const {
  switch (dev_type) {
    case DeviceType::kCPU:
    case DeviceType::kCPUPinned:
      MX_CHECK(dev_id >= 0, kInvalidArgument) << "invalid device id " << dev_id << " for cpu";
      return;
    case DeviceType::kGPU: {
      const int32_t count = GpuCount();
#if !MX_USE_CUDA
      MX_THROW(kUnsupported) << ToString() << " requested, but this libmx was built without CUDA";
#endif
      MX_CHECK(dev_id >= 0 && dev_id < count, kNotFound)
          << ToString() << " does not exist: this machine has " << count << " usable GPU"
          << (count == 1 ? "" : "s");
      return;
    }
  }
  MX_THROW(kInvalidArgument) << "unknown device type " << static_cast<int>(dev_type)
                             << ": expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)";
}

int32_t GpuCount() {
#if MX_USE_CUDA
  // Without a driver cudaGetDeviceCount reports an error: that means "no GPU", not a failure.
  static const int32_t count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky-free error so later runtime calls start clean
      return 0;
    }
    return n;
  }();
  return count;
#else
  return 0;
#endif
}

}  // namespace mx
