// C ABI: key-value stores (src/kvstore/).
#include <memory>
#include <string>
#include <vector>

#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "c_api/c_api_train_handles.h"
#include "kvstore/kvstore.h"

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

struct mx_kvstore {
  static constexpr uint32_t kMagic = 0x4B565354;  // "KVST"
  uint32_t magic = kMagic;
  std::unique_ptr<mx::kvstore::KVStore> impl;
  ~mx_kvstore() { magic = 0; }
};

namespace mx {
namespace capi {
namespace {

kvstore::KVStore& StoreOf(mx_kvstore_t kv) { return *Live(kv, "kv", "mx_kvstore_t")->impl; }

std::vector<std::string> KeysOf(int32_t num, const char* const* keys) {
  MX_CHECK(num >= 0, kInvalidArgument) << "argument 'num' is negative: " << num;
  MX_CHECK(num == 0 || keys != nullptr, kInvalidArgument)
      << "argument 'keys' must not be NULL when num is " << num;
  std::vector<std::string> out;
  for (int32_t i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument) << "keys[" << i << "] is NULL";
    out.emplace_back(keys[i]);
  }
  return out;
}

}  // namespace
}  // namespace capi
}  // namespace mx

extern "C" {

MX_API mx_status_t mx_kvstore_create(const char* type, mx_kvstore_t* out_kv) {
  return Guard([&] {
    CheckArg(type, "type");
    CheckOut(out_kv, "out_kv");
    auto h = std::make_unique<mx_kvstore>();
    h->impl = mx::kvstore::KVStore::Create(type);
    *out_kv = h.release();
  });
}

MX_API mx_status_t mx_kvstore_free(mx_kvstore_t kv) {
  return Guard([&] {
    if (kv == nullptr) return;
    delete mx::capi::Live(kv, "kv", "mx_kvstore_t");
  });
}

MX_API mx_status_t mx_kvstore_get_type(mx_kvstore_t kv, const char** out_type) {
  return Guard([&] {
    const auto& store = mx::capi::StoreOf(kv);
    CheckOut(out_type, "out_type");
    *out_type = store.type().c_str();
  });
}

MX_API mx_status_t mx_kvstore_get_rank(mx_kvstore_t kv, int32_t* out_rank) {
  return Guard([&] {
    const auto& store = mx::capi::StoreOf(kv);
    CheckOut(out_rank, "out_rank");
    *out_rank = store.rank();
  });
}

MX_API mx_status_t mx_kvstore_get_num_workers(mx_kvstore_t kv, int32_t* out_num) {
  return Guard([&] {
    const auto& store = mx::capi::StoreOf(kv);
    CheckOut(out_num, "out_num");
    *out_num = store.num_workers();
  });
}

MX_API mx_status_t mx_kvstore_init(mx_kvstore_t kv, int32_t num, const char* const* keys,
                                   const mx_ndarray_t* values) {
  return Guard([&] {
    auto& store = mx::capi::StoreOf(kv);
    store.Init(mx::capi::KeysOf(num, keys), mx::capi::ArraysOf(values, num, "values"));
  });
}

MX_API mx_status_t mx_kvstore_push(mx_kvstore_t kv, int32_t num, const char* const* keys,
                                   const mx_ndarray_t* values, int32_t priority) {
  return Guard([&] {
    auto& store = mx::capi::StoreOf(kv);
    store.Push(mx::capi::KeysOf(num, keys), mx::capi::ArraysOf(values, num, "values"), priority);
  });
}

MX_API mx_status_t mx_kvstore_pull(mx_kvstore_t kv, int32_t num, const char* const* keys,
                                   const mx_ndarray_t* outs, int32_t priority) {
  return Guard([&] {
    const auto& store = mx::capi::StoreOf(kv);
    store.Pull(mx::capi::KeysOf(num, keys), mx::capi::ArraysOf(outs, num, "outs"), priority);
  });
}

MX_API mx_status_t mx_kvstore_set_optimizer(mx_kvstore_t kv, mx_optimizer_t opt) {
  return Guard([&] {
    auto& store = mx::capi::StoreOf(kv);
    store.SetOptimizer(mx::capi::Live(opt, "opt", "mx_optimizer_t")->impl);
  });
}

}  // extern "C"
