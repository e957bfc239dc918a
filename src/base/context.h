// A device: type plus index. Small, passed by value, hashable.
#ifndef MX_BASE_CONTEXT_H_
#define MX_BASE_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace mx {

// Values equal the C ABI's MX_CPU / MX_GPU / MX_CPU_PINNED (DLPack's numbering).
enum class DeviceType : int32_t { kCPU = 1, kGPU = 2, kCPUPinned = 3 };

struct Context {
  DeviceType dev_type = DeviceType::kCPU;
  int32_t dev_id = 0;

  static Context CPU(int32_t id = 0) { return {DeviceType::kCPU, id}; }
  static Context GPU(int32_t id = 0) { return {DeviceType::kGPU, id}; }
  static Context CPUPinned(int32_t id = 0) { return {DeviceType::kCPUPinned, id}; }

  bool is_gpu() const { return dev_type == DeviceType::kGPU; }
  // Host-addressable memory: CPU and pinned CPU.
  bool is_host() const { return dev_type != DeviceType::kGPU; }
  // "cpu(0)", "gpu(1)", "cpu_pinned(0)".
  std::string ToString() const;
  // Throws mx::Error for an unknown type, a negative id, or a GPU this process cannot use
  // (e.g. gpu(99), or any gpu in a build without CUDA).
  void Validate() const;

  bool operator==(const Context& o) const { return dev_type == o.dev_type && dev_id == o.dev_id; }
  bool operator!=(const Context& o) const { return !(*this == o); }
  bool operator<(const Context& o) const {
    return dev_type != o.dev_type ? dev_type < o.dev_type : dev_id < o.dev_id;
  }
};

std::ostream& operator<<(std::ostream& os, const Context& ctx);

// Number of usable GPUs: 0 without CUDA or without a driver (never an error).
int32_t GpuCount();

}  // namespace mx

template <>
struct std::hash<mx::Context> {
  size_t operator()(const mx::Context& c) const {
    return std::hash<int64_t>()((static_cast<int64_t>(c.dev_type) << 32) | uint32_t(c.dev_id));
  }
};

#endif  // MX_BASE_CONTEXT_H_
