#include "resource/resource.h"

#include <array>
#include <atomic>

#include "base/error.h"

namespace mx {

// Scratch spaces per device, handed out in turn: ops that need scratch (convolution's im2col,
// pooling, ...) serialize on the one they were given, so a single space would make every such
// op of every executor and predictor wait for the others; four let that many run at once (as
// MXNet's MXNET_CPU_TEMP_COPY=4), at up to four times the scratch memory.
constexpr int kTempSpaceCopies = 4;

struct ResourceManager::DeviceResources {
  std::array<Resource::TempSpace, kTempSpaceCopies> temp;
  std::array<engine::VarHandle, kTempSpaceCopies> temp_var{};
  std::atomic<uint32_t> next_temp{0};
  RandomGenerator random;
  engine::VarHandle random_var = nullptr;
};

void* Resource::TempSpace::Get(size_t bytes, Context ctx) {
  if (bytes > handle.size) {
    // Grow to the largest request seen, never shrink: steady state allocates nothing.
    Storage::Get()->Free(handle);
    handle = Storage::Handle();
    handle = Storage::Get()->Alloc(bytes, ctx);
  }
  return handle.dptr;
}

ResourceManager* ResourceManager::Get() {
  static ResourceManager* manager = new ResourceManager();  // leaked: no work at exit
  return manager;
}

ResourceManager::DeviceResources* ResourceManager::For(Context ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& dev = devices_[ctx];
  if (!dev) {
    dev.reset(new DeviceResources);
    engine::Engine* eng = engine::Engine::Get();
    for (auto& v : dev->temp_var) v = eng->NewVar();
    dev->random_var = eng->NewVar();
    dev->random.Seed(seed_);
  }
  return dev.get();
}

Resource ResourceManager::Request(Context ctx, ResourceType type) {
  DeviceResources* dev = For(ctx);
  Resource r;
  r.type = type;
  if (type == ResourceType::kTempSpace) {
    const uint32_t k = dev->next_temp.fetch_add(1, std::memory_order_relaxed) % kTempSpaceCopies;
    r.var = dev->temp_var[k];
    r.temp = &dev->temp[k];
  } else {
    r.var = dev->random_var;
    r.random = &dev->random;
  }
  return r;
}

void ResourceManager::SeedRandom(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  seed_ = seed;
  for (auto& kv : devices_) {
    RandomGenerator* gen = &kv.second->random;
    engine::Engine::Get()->PushSync([gen, seed](engine::RunContext) { gen->Seed(seed); }, kv.first,
                                    nullptr, 0, &kv.second->random_var, 1,
                                    engine::FnProperty::kNormal, 0, "random_seed");
  }
}

void ResourceManager::Reset() {
  std::map<Context, std::unique_ptr<DeviceResources>> devices;
  {
    std::lock_guard<std::mutex> lock(mu_);
    devices.swap(devices_);
  }
  engine::Engine* eng = engine::Engine::Peek();
  for (auto& kv : devices) {
    DeviceResources* dev = kv.second.get();
    for (int k = 0; k < kTempSpaceCopies; ++k) {
      if (eng == nullptr) {
        Storage::Get()->Free(dev->temp[k].handle);
        continue;
      }
      // The scratch block goes back to the pool after the last op using it.
      eng->PushSync([block = PooledBlock(dev->temp[k].handle)](engine::RunContext) {},
                    Context::CPU(), nullptr, 0, &dev->temp_var[k], 1, engine::FnProperty::kNormal,
                    0, "release_temp_space");
      eng->DeleteVar(dev->temp_var[k]);
    }
    if (eng != nullptr) eng->DeleteVar(dev->random_var);
  }
  // Pending ops may still use the scratch space and generators: drain before they are destroyed.
  // Errors of that work are the shutdown's to drop.
  if (eng != nullptr) {
    try {
      eng->WaitForAll();
    } catch (...) {
    }
  }
}

}  // namespace mx
