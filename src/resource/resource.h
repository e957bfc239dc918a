// Resources an op may request besides its arrays: scratch memory and random numbers.
//
// Each is a per-device object with its own engine variable. An op that requests one lists that
// variable among the ones it writes, so two ops never use the same scratch buffer or advance the
// same generator at once, and the order of random draws is the push order: the same seed gives
// the same numbers.
#ifndef MX_RESOURCE_RESOURCE_H_
#define MX_RESOURCE_RESOURCE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "base/context.h"
#include "engine/engine.h"
#include "storage/storage.h"

namespace mx {

// The generator's draws are computed on the GPU too (op/init_op.cc passes it to kernels by value).
#if defined(__CUDACC__)
#define MX_RANDOM_FN __host__ __device__
#else
#define MX_RANDOM_FN
#endif

enum class ResourceType : int { kTempSpace = 0, kRandom = 1 };

// A counter-based generator: draw i of a stream is a hash of (seed, counter + i). Any thread may
// compute any draw, so parallel fills give the same numbers for any thread count, and the GPU can
// use the same formula.
class RandomGenerator {
 public:
  void Seed(uint64_t seed) {
    seed_ = seed;
    counter_ = 0;
  }
  // Reserves `n` draws; the caller computes draw k of them with Bits(base + k).
  uint64_t Reserve(uint64_t n) {
    const uint64_t base = counter_;
    counter_ += n;
    return base;
  }
  MX_RANDOM_FN uint64_t Bits(uint64_t index) const {
    // splitmix64 of the stream position, keyed by the seed.
    uint64_t z =
        seed_ * 0x9E3779B97F4A7C15ull + index * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 24 random bits (exact in float).
  MX_RANDOM_FN float Uniform(uint64_t index) const {
    return (Bits(index) >> 40) * (1.0f / 16777216.0f);
  }
  // Uniform in (0, 1) with 53 random bits.
  MX_RANDOM_FN double UniformOpen(uint64_t index) const {
    return ((Bits(index) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }

 private:
  uint64_t seed_ = 0;
  uint64_t counter_ = 0;
};

struct Resource {
  ResourceType type = ResourceType::kTempSpace;
  engine::VarHandle var = nullptr;
  // kTempSpace: grows on demand, kept between ops (allocation happens only when an op needs more
  // than any op before it on this device).
  struct TempSpace {
    Storage::Handle handle;
    void* Get(size_t bytes, Context ctx);
  };
  TempSpace* temp = nullptr;
  RandomGenerator* random = nullptr;
};

class ResourceManager {
 public:
  static ResourceManager* Get();
  // The device's resource of `type`.
  Resource Request(Context ctx, ResourceType type);
  // Seeds every device's generator (pushed: runs after draws already pushed).
  void SeedRandom(uint64_t seed);
  // Forgets every device's resources, releasing their engine variables and scratch memory once
  // pending work is done. Called before the engine shuts down; later requests start afresh.
  void Reset();

 private:
  struct DeviceResources;
  DeviceResources* For(Context ctx);
  ResourceManager() = default;
  std::mutex mu_;
  std::map<Context, std::unique_ptr<DeviceResources>> devices_;
  uint64_t seed_ = 0;
};

}  // namespace mx

#endif  // MX_RESOURCE_RESOURCE_H_
