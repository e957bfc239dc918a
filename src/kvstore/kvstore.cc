#include "kvstore/kvstore.h"

#include <cstdlib>
#include <sstream>
#include <utility>

#include "base/error.h"
#include "kvstore/collective_op.h"
#include "op/invoke.h"
#include "op/op.h"

namespace mx {
namespace kvstore {
namespace {

// A key that spells a non-negative integer below 2^30 is that optimizer index (MXNet's
// integer keys); -1 otherwise.
int IntegerKey(const std::string& key) {
  if (key.empty() || key.size() > 10) return -1;
  for (char c : key) {
    if (c < '0' || c > '9') return -1;
  }
  const long v = std::strtol(key.c_str(), nullptr, 10);
  return v < (1L << 30) ? static_cast<int>(v) : -1;
}

void CheckSameSize(size_t keys, size_t values, const char* what) {
  MX_CHECK(keys == values, kInvalidArgument)
      << "kvstore " << what << ": " << keys << " keys but " << values << " arrays";
}

// FNV-1a over the bytes of a value: the same on every worker for the same keys, shapes and types.
void Mix(uint64_t* h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) *h = (*h ^ p[i]) * 1099511628211ull;
}

}  // namespace

std::unique_ptr<KVStore> KVStore::Create(const std::string& type) {
  if (type == "local" || type == "device") {
    return std::unique_ptr<KVStore>(new KVStore(type, nullptr));
  }
  if (type == "dist_sync" || type == "dist_device_sync") {
    return std::unique_ptr<KVStore>(new KVStore(type, &WorkerGroup::Get()));
  }
  if (type == "dist_async") {
    MX_THROW(kUnsupported) << "kvstore type 'dist_async' (MXNet's asynchronous parameter-server "
                              "updates) is not supported: libmx synchronises workers with MPI "
                              "collectives; use 'dist_sync' or 'dist_device_sync'";
  }
  MX_THROW(kInvalidArgument) << "unknown kvstore type '" << type
                             << "': expected 'local', 'device', 'dist_sync' or 'dist_device_sync'";
}

Context KVStore::HomeOf(Context value_ctx) const {
  return type_ == "device" || type_ == "dist_device_sync" ? value_ctx : Context::CPU();
}

NDArray KVStore::HostSide(Entry& e, const NDArray& on_home, int priority) {
  if (on_home.ctx().is_host()) return on_home;
  if (e.host.is_none()) e.host = NDArray(on_home.shape(), Context::CPU(), on_home.dtype());
  NDArray::CopyFromTo(on_home, e.host, priority);
  return e.host;
}

void KVStore::InitDistributed(const std::vector<std::string>& keys,
                              const std::vector<NDArray>& values) {
  // Agree first, so that a mismatch fails on every worker before anything is broadcast.
  uint64_t h = 1469598103934665603ull, agreed = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    Mix(&h, keys[i].c_str(), keys[i].size() + 1);
    const int32_t dtype = static_cast<int32_t>(values[i].dtype());
    Mix(&h, &dtype, sizeof(dtype));
    const int ndim = values[i].shape().ndim();
    Mix(&h, &ndim, sizeof(ndim));
    for (int d = 0; d < ndim; ++d) {
      const int64_t dim = values[i].shape()[d];
      Mix(&h, &dim, sizeof(dim));
    }
  }
  Collective agree;
  agree.kind = Collective::Kind::kAgree;
  agree.dtype = DType::kInt64;
  agree.segments = {{&h, &agreed, 1}};
  agree.what = "the keys of kvstore init";
  group_->RunNow(std::move(agree));
  if (agreed == 1) return;
  std::string mine;
  for (size_t i = 0; i < keys.size() && i < 8; ++i) {
    std::ostringstream os;
    os << (i == 0 ? "" : ", ") << "'" << keys[i] << "' " << values[i].shape() << " "
       << DTypeName(values[i].dtype());
    mine += os.str();
  }
  if (keys.size() > 8) mine += ", ...";
  MX_THROW(kInvalidArgument) << "kvstore init: the workers disagree on the keys, shapes or types "
                             << "of this call (worker " << rank() << " of " << num_workers()
                             << " has " << keys.size() << " keys: " << mine
                             << "); every worker must init the same keys in the same order";
}

KVStore::Entry& KVStore::Find(const std::string& key) {
  auto it = entries_.find(key);
  MX_CHECK(it != entries_.end(), kNotFound)
      << "kvstore: key '" << key << "' has not been initialised (call init first)";
  return it->second;
}

const KVStore::Entry& KVStore::Find(const std::string& key) const {
  return const_cast<KVStore*>(this)->Find(key);
}

void KVStore::Init(const std::vector<std::string>& keys, const std::vector<NDArray>& values) {
  CheckSameSize(keys.size(), values.size(), "init");
  // Check everything before changing anything, so a failed call leaves the store as it was.
  std::map<std::string, int> seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    MX_CHECK(!values[i].is_none(), kInvalidArgument)
        << "kvstore init: the array for key '" << keys[i] << "' is empty";
    MX_CHECK(entries_.count(keys[i]) == 0 && seen.emplace(keys[i], 0).second, kInvalidArgument)
        << "kvstore init: key '" << keys[i] << "' is already initialised";
  }
  if (group_ != nullptr) InitDistributed(keys, values);
  std::vector<KeyTransfer> from_rank0;
  for (size_t i = 0; i < keys.size(); ++i) {
    Entry e;
    e.stored = NDArray(values[i].shape(), HomeOf(values[i].ctx()), values[i].dtype());
    NDArray::CopyFromTo(values[i], e.stored);
    const int as_int = IntegerKey(keys[i]);
    e.index = as_int >= 0 ? as_int : next_named_index_++;
    if (optimizer_ && as_int < 0) optimizer_->SetArgNames({{e.index, keys[i]}});
    if (group_ != nullptr) {
      NDArray side = HostSide(e, e.stored, 0);
      from_rank0.push_back({keys[i], side, side});
    }
    entries_.emplace(keys[i], std::move(e));
  }
  if (group_ == nullptr) return;
  PushCollectives(*group_, Collective::Kind::kBroadcast, from_rank0);
  for (const std::string& key : keys) {
    Entry& e = Find(key);
    if (!e.host.is_none()) NDArray::CopyFromTo(e.host, e.stored);
  }
}

void KVStore::Push(const std::vector<std::string>& keys, const std::vector<NDArray>& values,
                   int priority) {
  CheckSameSize(keys.size(), values.size(), "push");
  std::vector<std::string> order;
  std::map<std::string, std::vector<NDArray>> groups;
  for (size_t i = 0; i < keys.size(); ++i) {
    const Entry& e = Find(keys[i]);
    MX_CHECK(!values[i].is_none() && values[i].shape() == e.stored.shape(), kInvalidArgument)
        << "kvstore push: key '" << keys[i] << "' holds shape " << e.stored.shape()
        << ", got an array of shape " << values[i].shape();
    auto& group = groups[keys[i]];
    if (group.empty()) order.push_back(keys[i]);
    group.push_back(values[i]);
  }
  std::vector<KeyTransfer> across;  // distributed: this worker's sum of each key
  for (const std::string& key : order) {
    Entry& e = Find(key);
    const std::vector<NDArray>& vs = groups[key];
    const Context home = e.stored.ctx();
    // Values elsewhere (another device, another type) are copied next to the stored value
    // into buffers kept for the next push; the engine orders their reuse after their readers.
    std::vector<NDArray> inputs;
    for (size_t i = 0; i < vs.size(); ++i) {
      if (vs[i].ctx() == home && vs[i].dtype() == e.stored.dtype()) {
        inputs.push_back(vs[i]);
        continue;
      }
      if (e.staging.size() <= i) e.staging.resize(i + 1);
      if (e.staging[i].is_none()) {
        e.staging[i] = NDArray(e.stored.shape(), home, e.stored.dtype());
      }
      NDArray::CopyFromTo(vs[i], e.staging[i], priority);
      inputs.push_back(e.staging[i]);
    }
    NDArray sum = inputs[0];
    if (inputs.size() > 1 || group_ != nullptr) {
      if (e.merged.is_none()) e.merged = NDArray(e.stored.shape(), home, e.stored.dtype());
    }
    if (inputs.size() > 1) {
      static const Op* add_n = OpRegistry::Get()->Get("add_n");
      std::vector<NDArray> out{e.merged};
      Invoke(MakeAttrs(add_n, {{"num_args", std::to_string(inputs.size())}}), inputs, &out, false,
             home);
      sum = e.merged;
    }
    if (group_ == nullptr) {
      Update(e, sum, priority);
    } else if (home.is_host()) {
      // Out of place for one value: it stays the caller's. Without an optimizer the workers' sum
      // is the new value, so it goes straight there rather than through a copy of every byte.
      across.push_back({key, sum, optimizer_ ? e.merged : e.stored});
    } else {
      NDArray side = HostSide(e, sum, priority);
      across.push_back({key, side, side});
    }
  }
  if (group_ == nullptr) return;
  // Then every worker's sums: small keys fused, in the order of this call.
  PushCollectives(*group_, Collective::Kind::kAllreduceSum, across);
  for (const std::string& key : order) {
    Entry& e = Find(key);
    if (!optimizer_) {
      if (!e.host.is_none()) NDArray::CopyFromTo(e.host, e.stored, priority);
      continue;
    }
    if (!e.host.is_none()) NDArray::CopyFromTo(e.host, e.merged, priority);
    Update(e, e.merged, priority);
  }
}

void KVStore::Update(Entry& e, const NDArray& sum, int priority) {
  if (optimizer_) {
    optimizer_->Update(e.index, e.stored, sum);
  } else {
    NDArray::CopyFromTo(sum, e.stored, priority);
  }
}

void KVStore::Pull(const std::vector<std::string>& keys, const std::vector<NDArray>& outs,
                   int priority) const {
  CheckSameSize(keys.size(), outs.size(), "pull");
  for (size_t i = 0; i < keys.size(); ++i) {
    const Entry& e = Find(keys[i]);
    MX_CHECK(!outs[i].is_none() && outs[i].shape() == e.stored.shape(), kInvalidArgument)
        << "kvstore pull: key '" << keys[i] << "' holds shape " << e.stored.shape()
        << ", got an output of shape " << outs[i].shape();
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    NDArray::CopyFromTo(Find(keys[i]).stored, outs[i], priority);
  }
}

void KVStore::SetOptimizer(std::shared_ptr<train::Optimizer> optimizer) {
  MX_CHECK(optimizer != nullptr, kInvalidArgument) << "kvstore set_optimizer: no optimizer";
  std::map<int, std::string> names;
  for (const auto& kv : entries_) {
    if (IntegerKey(kv.first) < 0) names[kv.second.index] = kv.first;
  }
  if (!names.empty()) optimizer->SetArgNames(names);
  optimizer_ = std::move(optimizer);
}

}  // namespace kvstore
}  // namespace mx
