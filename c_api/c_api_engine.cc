// C ABI: engine start-up and shutdown, waiting, and host functions pushed by bindings.
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "c_api/c_api_common.h"
#include "engine/engine.h"
#include "resource/resource.h"

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;
using mx::engine::Engine;
using mx::engine::VarHandle;

namespace {

// References taken by mx_init. Trivially destructible: nothing runs at exit.
std::mutex g_init_mu;
int g_init_refs = 0;

VarHandle ToVar(mx_engine_var_t handle, const char* arg) {
  CheckArg(handle, arg);
  auto* var = reinterpret_cast<VarHandle>(handle);
  MX_CHECK(var->IsLive(), kInvalidArgument)
      << "argument '" << arg << "' is not a live engine variable (freed already?)";
  return var;
}

// Converts a caller's variable array, checking every handle; a small array stays on the stack.
class VarList {
 public:
  VarList(const mx_engine_var_t* vars, int32_t n, const char* arg, const char* count_arg) {
    MX_CHECK(n >= 0, kInvalidArgument)
        << "argument '" << count_arg << "' must not be negative, got " << n;
    MX_CHECK(n == 0 || vars != nullptr, kInvalidArgument)
        << "argument '" << arg << "' must not be NULL when " << count_arg << " = " << n;
    VarHandle* out = n <= kInline ? inline_ : (heap_.resize(n), heap_.data());
    for (int32_t i = 0; i < n; ++i) {
      const std::string name = std::string(arg) + "[" + std::to_string(i) + "]";
      out[i] = ToVar(vars[i], name.c_str());
    }
    data_ = out;
    size_ = n;
  }
  const VarHandle* data() const { return data_; }
  int size() const { return size_; }

 private:
  static constexpr int kInline = 16;
  VarHandle inline_[kInline];
  std::vector<VarHandle> heap_;
  const VarHandle* data_ = nullptr;
  int size_ = 0;
};

// What a pushed C callback owns. Freed (and free_user_data called) when the op is released.
struct HostCall {
  mx_engine_fn fn = nullptr;
  void* user_data = nullptr;
  void (*free_user_data)(void*) = nullptr;
  std::string name;
  ~HostCall() {
    if (free_user_data != nullptr) free_user_data(user_data);
  }
  void Run() const {
    char err[512] = {0};
    const int32_t rc = fn(user_data, err, sizeof err);
    if (rc == 0) return;
    err[sizeof err - 1] = '\0';
    if (err[0] != '\0') MX_THROW(kFailed) << err;
    MX_THROW(kFailed) << "callback returned " << rc;
  }
};

mx::engine::EngineOptions ToOptions(const mx_init_options_t* opts) {
  mx::engine::EngineOptions o;
  if (opts == nullptr) return o;
  // Older callers pass a shorter struct: read what they gave, default the rest.
  constexpr size_t kMinSize = offsetof(mx_init_options_t, engine_type) + sizeof(int32_t);
  MX_CHECK(opts->struct_size >= kMinSize, kInvalidArgument)
      << "argument 'opts': struct_size = " << opts->struct_size
      << " is too small (use mx_init_options_default)";
  mx_init_options_t full;
  std::memset(&full, 0, sizeof full);
  std::memcpy(&full, opts, opts->struct_size < sizeof full ? opts->struct_size : sizeof full);
  MX_CHECK(full.engine_type >= MX_ENGINE_DEFAULT && full.engine_type <= MX_ENGINE_THREADED,
           kInvalidArgument)
      << "argument 'opts': unknown engine_type " << full.engine_type
      << ": expected MX_ENGINE_DEFAULT (0), MX_ENGINE_NAIVE (1) or MX_ENGINE_THREADED (2)";
  o.type = static_cast<mx::engine::EngineType>(full.engine_type);
  o.cpu_workers = full.cpu_workers;
  o.cpu_priority_workers = full.cpu_priority_workers;
  o.gpu_compute_workers = full.gpu_compute_workers;
  o.gpu_copy_workers = full.gpu_copy_workers;
  return o;
}

}  // namespace

extern "C" {

MX_API mx_status_t mx_init_options_default(mx_init_options_t* opts) {
  return Guard([&] {
    CheckOut(opts, "opts");
    std::memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
  });
}

MX_API mx_status_t mx_init(const mx_init_options_t* opts) {
  return Guard([&] {
    const mx::engine::EngineOptions options = ToOptions(opts);
    std::lock_guard<std::mutex> lock(g_init_mu);
    Engine::Start(options);
    ++g_init_refs;
  });
}

MX_API mx_status_t mx_shutdown(void) {
  return Guard([&] {
    std::lock_guard<std::mutex> lock(g_init_mu);
    if (g_init_refs > 0) --g_init_refs;
    if (g_init_refs == 0) {
      // Resources hold engine variables: release them with the engine that made them.
      mx::ResourceManager::Get()->Reset();
      Engine::Shutdown();
    }
  });
}

MX_API mx_status_t mx_engine_wait_all(void) {
  return Guard([&] { Engine::Get()->WaitForAll(); });
}

MX_API mx_status_t mx_engine_get_type(const char** out_name) {
  return Guard([&] {
    CheckOut(out_name, "out_name");
    *out_name = Engine::Get()->Name();
  });
}

MX_API mx_status_t mx_engine_get_worker_count(int32_t device_type, int32_t* out_count) {
  return Guard([&] {
    CheckOut(out_count, "out_count");
    MX_CHECK(device_type >= MX_CPU && device_type <= MX_CPU_PINNED, kInvalidArgument)
        << "argument 'device_type': unknown device type " << device_type
        << ": expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)";
    *out_count = Engine::Get()->WorkerCount(static_cast<mx::DeviceType>(device_type));
  });
}

MX_API mx_status_t mx_engine_var_new(mx_engine_var_t* out_var) {
  return Guard([&] {
    CheckOut(out_var, "out_var");
    *out_var = reinterpret_cast<mx_engine_var_t>(Engine::Get()->NewVar());
  });
}

MX_API mx_status_t mx_engine_var_free(mx_engine_var_t var) {
  return Guard([&] {
    if (var == nullptr) return;
    Engine::Get()->DeleteVar(ToVar(var, "var"));
  });
}

MX_API mx_status_t mx_engine_wait_for_var(mx_engine_var_t var) {
  return Guard([&] { Engine::Get()->WaitForVar(ToVar(var, "var")); });
}

MX_API mx_status_t mx_engine_push(mx_engine_fn fn, void* user_data,
                                  void (*free_user_data)(void* user_data),
                                  const mx_engine_var_t* read, int32_t n_read,
                                  const mx_engine_var_t* write, int32_t n_write, int32_t priority,
                                  const char* name) {
  // Owns user_data from the first line on, so free_user_data runs exactly once on every path.
  std::unique_ptr<HostCall> call;
  try {
    call = std::make_unique<HostCall>();
  } catch (...) {
    if (free_user_data != nullptr) free_user_data(user_data);
    return Guard([] { throw std::bad_alloc(); });
  }
  call->user_data = user_data;
  call->free_user_data = free_user_data;
  return Guard([&] {
    CheckArg(reinterpret_cast<const void*>(fn), "fn");
    const VarList reads(read, n_read, "read", "n_read");
    const VarList writes(write, n_write, "write", "n_write");
    call->fn = fn;
    if (name != nullptr) call->name = name;
    // The name lives in the heap-allocated HostCall, so its pointer stays valid for the op's life.
    const char* op_name = name != nullptr ? call->name.c_str() : "engine_push";
    Engine::Get()->PushSync([owned = std::move(call)](mx::engine::RunContext) { owned->Run(); },
                            mx::Context::CPU(), reads.data(), reads.size(), writes.data(),
                            writes.size(), mx::engine::FnProperty::kNormal, priority, op_name);
  });
}

}  // extern "C"
