#include "resource/resource.h"

#include "base/error.h"

namespace mx {

struct ResourceManager::DeviceResources {
  Resource::TempSpace temp;
  RandomGenerator random;
  engine::VarHandle temp_var = nullptr;
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
    dev->temp_var = eng->NewVar();
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
    r.var = dev->temp_var;
    r.temp = &dev->temp;
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
    if (eng == nullptr) {
      Storage::Get()->Free(dev->temp.handle);
      continue;
    }
    // The scratch block goes back to the pool after the last op using it.
    eng->PushSync([block = PooledBlock(dev->temp.handle)](engine::RunContext) {}, Context::CPU(),
                  nullptr, 0, &dev->temp_var, 1, engine::FnProperty::kNormal, 0,
                  "release_temp_space");
    eng->DeleteVar(dev->temp_var);
    eng->DeleteVar(dev->random_var);
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
