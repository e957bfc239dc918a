#include "storage/storage.h"

#include <sys/sysinfo.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "base/logging.h"

#if MX_USE_CUDA
#include <cuda_runtime_api.h>
#endif
// No-ops unless built with AddressSanitizer (the asan and fuzz gates).
#include <sanitizer/asan_interface.h>

namespace mx {
namespace {

// Note [Poisoned pool memory]: ASan knows the pool's blocks only as live heap memory, so a kernel
// reading past the end of its array (into the rest of the bucket) or a block used after it went
// back to the pool would go unseen. Host blocks are therefore poisoned while pooled, and so are
// the bytes of a bucket past the size asked for. Device addresses have no shadow memory.
void Poison(void* p, size_t bytes, Context ctx) {
  if (ctx.dev_type == DeviceType::kCPU) ASAN_POISON_MEMORY_REGION(p, bytes);
}
void Unpoison(void* p, size_t bytes, Context ctx) {
  if (ctx.dev_type == DeviceType::kCPU) ASAN_UNPOISON_MEMORY_REGION(p, bytes);
}

// Larger requests are refused before rounding could overflow.
constexpr size_t kMaxAlloc = size_t(1) << 56;

// Host memory and swap together: a host request beyond it can never be met. Refusing it up front
// makes it an error on every system, also where the kernel overcommits (vm.overcommit_memory=1)
// and would grant the block only to kill the process when its pages are touched.
size_t HostMemoryLimit() {
  static const size_t limit = [] {
    struct sysinfo si;
    if (sysinfo(&si) != 0) return kMaxAlloc;
    return static_cast<size_t>(si.totalram + si.totalswap) * si.mem_unit;
  }();
  return limit;
}

// The system allocators behind the pools. They return nullptr on failure.
void* SystemAlloc(size_t size, Context ctx) {
  switch (ctx.dev_type) {
    case DeviceType::kCPU:
      return std::aligned_alloc(64, size);
#if MX_USE_CUDA
    case DeviceType::kGPU: {
      int prev = 0;
      cudaGetDevice(&prev);
      void* p = nullptr;
      const bool ok =
          cudaSetDevice(ctx.dev_id) == cudaSuccess && cudaMalloc(&p, size) == cudaSuccess;
      if (!ok) cudaGetLastError();  // clear the error so the next runtime call starts clean
      cudaSetDevice(prev);
      return ok ? p : nullptr;
    }
    case DeviceType::kCPUPinned: {
      void* p = nullptr;
      if (cudaHostAlloc(&p, size, cudaHostAllocPortable) != cudaSuccess) {
        cudaGetLastError();
        return nullptr;
      }
      return p;
    }
#else
    case DeviceType::kCPUPinned:
      // Without CUDA there is nothing to pin: pinned memory is ordinary host memory.
      return std::aligned_alloc(64, size);
    case DeviceType::kGPU:
      break;
#endif
  }
  return nullptr;
}

void SystemFree(void* ptr, Context ctx) {
  switch (ctx.dev_type) {
    case DeviceType::kCPU:
      std::free(ptr);
      return;
#if MX_USE_CUDA
    case DeviceType::kGPU: {
      int prev = 0;
      cudaGetDevice(&prev);
      cudaSetDevice(ctx.dev_id);
      cudaFree(ptr);
      cudaSetDevice(prev);
      return;
    }
    case DeviceType::kCPUPinned:
      cudaFreeHost(ptr);
      return;
#else
    case DeviceType::kCPUPinned:
      std::free(ptr);
      return;
    case DeviceType::kGPU:
      return;
#endif
  }
}

std::string HumanBytes(size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

// One device's pool: free blocks bucketed by size, plus statistics. One mutex per device; the
// critical sections are a hash lookup and a vector push/pop.
class Storage::DevicePool {
 public:
  explicit DevicePool(Context ctx) : ctx_(ctx) {}

  void* Alloc(size_t bucket) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.num_allocs;
      auto it = free_.find(bucket);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.bytes_pooled -= bucket;
        AddInUse(bucket);
        return p;
      }
    }
    void* p = SystemAlloc(bucket, ctx_);
    if (p == nullptr) {
      // Pooled blocks of other sizes may be what stands in the way: give them back and retry.
      Release();
      p = SystemAlloc(bucket, ctx_);
    }
    MX_CHECK(p != nullptr, kOutOfMemory)
        << "out of memory: failed to allocate " << bucket << " bytes (" << HumanBytes(bucket)
        << ") on " << ctx_ << " (" << HumanBytes(Stats().bytes_in_use) << " in use)";
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.num_system_allocs;
    AddInUse(bucket);
    return p;
  }

  void Free(void* ptr, size_t bucket) {
    std::lock_guard<std::mutex> lock(mu_);
    free_[bucket].push_back(ptr);
    stats_.bytes_in_use -= bucket;
    stats_.bytes_pooled += bucket;
  }

  void Release() {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks.swap(free_);
      stats_.bytes_pooled = 0;
    }
    for (auto& kv : blocks) {
      for (void* p : kv.second) {
        Unpoison(p, kv.first, ctx_);
        SystemFree(p, ctx_);
      }
    }
  }

  StorageStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void ResetPeak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_in_use = stats_.bytes_in_use;
  }

 private:
  void AddInUse(size_t bytes) {
    stats_.bytes_in_use += bytes;
    if (stats_.bytes_in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.bytes_in_use;
  }

  Context ctx_;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  StorageStats stats_;
};

struct Storage::Impl {
  std::mutex mu;
  std::map<Context, std::unique_ptr<DevicePool>> pools;
  // The pools of the first devices of each type, read without the lock: every allocation and
  // free looks its pool up, and a lock here cost two lock round trips per small op. A pool,
  // once made, lives as long as the Storage, so a published pointer stays valid.
  static constexpr int kFastDevices = 16;
  std::atomic<DevicePool*> fast[3][kFastDevices] = {};

  std::atomic<DevicePool*>* FastSlot(Context ctx) {
    const int type = static_cast<int>(ctx.dev_type) - 1;
    if (type < 0 || type >= 3 || ctx.dev_id < 0 || ctx.dev_id >= kFastDevices) return nullptr;
    return &fast[type][ctx.dev_id];
  }
};

Storage::Storage() : impl_(new Impl) {}
Storage::~Storage() = default;

Storage* Storage::Get() {
  // Leaked on purpose: memory may still be freed by engine work during process exit, and no
  // destructor of ours runs at exit.
  static Storage* storage = new Storage();
  return storage;
}

size_t Storage::BucketSize(size_t size) {
  if (size <= 4096) return (size + 63) / 64 * 64;
  size_t pow2 = size_t(1) << (63 - __builtin_clzll(size));
  const size_t step = pow2 / 4;
  return (size + step - 1) / step * step;
}

Storage::DevicePool* Storage::PoolFor(Context ctx) {
  ctx.Validate();
  std::atomic<DevicePool*>* slot = impl_->FastSlot(ctx);
  if (slot != nullptr) {
    DevicePool* pool = slot->load(std::memory_order_acquire);
    if (pool != nullptr) return pool;
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& pool = impl_->pools[ctx];
  if (!pool) pool.reset(new DevicePool(ctx));
  if (slot != nullptr) slot->store(pool.get(), std::memory_order_release);
  return pool.get();
}

Storage::Handle Storage::Alloc(size_t size, Context ctx) {
  Handle h;
  h.ctx = ctx;
  if (size == 0) return h;
  MX_CHECK(size <= kMaxAlloc, kOutOfMemory) << "out of memory: cannot allocate " << size
                                            << " bytes (" << HumanBytes(size) << ") on " << ctx;
  MX_CHECK(ctx.is_gpu() || size <= HostMemoryLimit(), kOutOfMemory)
      << "out of memory: cannot allocate " << size << " bytes (" << HumanBytes(size) << ") on "
      << ctx << ": more than this machine's " << HumanBytes(HostMemoryLimit())
      << " of memory and swap";
  const size_t bucket = BucketSize(size);
  h.dptr = PoolFor(ctx)->Alloc(bucket);
  h.size = size;
  Unpoison(h.dptr, size, ctx);
  Poison(static_cast<char*>(h.dptr) + size, bucket - size, ctx);
  return h;
}

void Storage::Free(const Handle& handle) {
  if (handle.dptr == nullptr) return;
  const size_t bucket = BucketSize(handle.size);
  Poison(handle.dptr, bucket, handle.ctx);
  PoolFor(handle.ctx)->Free(handle.dptr, bucket);
}

void Storage::ReleasePool(Context ctx) { PoolFor(ctx)->Release(); }

StorageStats Storage::Stats(Context ctx) { return PoolFor(ctx)->Stats(); }

void Storage::ResetPeak(Context ctx) { PoolFor(ctx)->ResetPeak(); }

}  // namespace mx
