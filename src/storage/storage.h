// Device memory: one pooled allocator per device, with statistics.
//
// Touching a fresh 4 KiB page costs about 11 µs on the machines we run on, so memory that was
// used once is kept and reused: freed blocks go back to a per-device pool, bucketed by size, and
// the next request of that bucket takes one without a system call. Steady-state training therefore
// allocates nothing. ReleasePool hands pooled memory back to the system.
//
//   Storage::Handle h = Storage::Get()->Alloc(1 << 20, Context::CPU());  // 64-byte aligned
//   ...
//   Storage::Get()->Free(h);  // back to the pool, not to the system
//
// A failed allocation (after releasing the pool and retrying once) throws mx::Error with code
// kOutOfMemory naming the size and the device.
#ifndef MX_STORAGE_STORAGE_H_
#define MX_STORAGE_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "base/context.h"

namespace mx {

struct StorageStats {
  uint64_t bytes_in_use = 0;       // handed out and not yet freed (bucket-rounded sizes)
  uint64_t peak_in_use = 0;        // the largest bytes_in_use seen since start or ResetPeak
  uint64_t bytes_pooled = 0;       // freed, kept for reuse
  uint64_t num_allocs = 0;         // Alloc calls
  uint64_t num_system_allocs = 0;  // Alloc calls that reached the system allocator
};

class Storage {
 public:
  struct Handle {
    void* dptr = nullptr;
    size_t size = 0;  // the size asked for (the block may be larger)
    Context ctx;
  };

  static Storage* Get();

  // A block of at least `size` bytes on `ctx` (64-byte aligned on the CPU). size 0 gives a null
  // pointer that Free accepts.
  Handle Alloc(size_t size, Context ctx);
  void Free(const Handle& handle);
  // Returns every pooled block of `ctx`'s device to the system.
  void ReleasePool(Context ctx);
  StorageStats Stats(Context ctx);
  void ResetPeak(Context ctx);

  // The pool's block size for a request of `size` bytes: requests are rounded up to one of four
  // steps per power of two (at most 25% waste), small ones to 64-byte multiples.
  static size_t BucketSize(size_t size);

 private:
  class DevicePool;
  DevicePool* PoolFor(Context ctx);
  Storage();
  ~Storage();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Owns one block and returns it to the pool when destroyed. Captured by an engine op, it releases
// the block whether the op runs or is skipped because of an earlier error.
class PooledBlock {
 public:
  PooledBlock() = default;
  PooledBlock(size_t size, Context ctx) : handle_(Storage::Get()->Alloc(size, ctx)) {}
  // Takes ownership of a block allocated elsewhere.
  explicit PooledBlock(const Storage::Handle& handle) : handle_(handle) {}
  PooledBlock(PooledBlock&& o) noexcept : handle_(o.handle_) { o.handle_ = Storage::Handle(); }
  PooledBlock& operator=(PooledBlock&& o) noexcept {
    std::swap(handle_, o.handle_);
    return *this;
  }
  PooledBlock(const PooledBlock&) = delete;
  PooledBlock& operator=(const PooledBlock&) = delete;
  ~PooledBlock() { Storage::Get()->Free(handle_); }
  void* dptr() const { return handle_.dptr; }

 private:
  Storage::Handle handle_;
};

}  // namespace mx

#endif  // MX_STORAGE_STORAGE_H_
