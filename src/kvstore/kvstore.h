// Key-value stores: parameter synchronisation for data parallelism, MXNet's KVStore contract.
//
// Each key holds one array. Push sums all values given for a key in one call (the gradients
// of several devices) and then either runs the optimizer on the stored value with that sum as
// its gradient, or, without an optimizer, stores the sum. Pull copies the stored value into
// every output given for the key. Everything is pushed to the engine: calls return at once.
//
//   auto kv = KVStore::Create("local");
//   kv->Init({"fc1_weight"}, {w_cpu});
//   kv->SetOptimizer(sgd);
//   kv->Push({"fc1_weight", "fc1_weight"}, {grad_dev0, grad_dev1});  // summed, then updated
//   kv->Pull({"fc1_weight", "fc1_weight"}, {w_dev0, w_dev1});        // both get the new weight
//
// Types: "local" keeps values and sums them on the CPU; "device" keeps each key on the device
// of the value it was initialised with and sums there (the gradients are copied to it first).
// Both are single-process (rank 0 of 1 worker). "dist_sync" and "dist_device_sync" are "local"
// and "device" across the processes of an MPI job (worker_group.h): init broadcasts rank 0's
// value, a push sums this process's values and then every worker's (an allreduce, small keys of
// one call fused), and each worker runs the same optimizer step on the same sum. "dist_async" is
// kUnsupported; so are the dist_* types in a build without MPI.
#ifndef MX_KVSTORE_KVSTORE_H_
#define MX_KVSTORE_KVSTORE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kvstore/worker_group.h"
#include "ndarray/ndarray.h"
#include "train/optimizer.h"

namespace mx {
namespace kvstore {

class KVStore {
 public:
  // "local", "device", "dist_sync" or "dist_device_sync"; "dist_async" (and dist_* without MPI)
  // is kUnsupported, anything else kInvalidArgument.
  static std::unique_ptr<KVStore> Create(const std::string& type);

  const std::string& type() const { return type_; }
  int rank() const { return group_ != nullptr ? group_->rank() : 0; }
  int num_workers() const { return group_ != nullptr ? group_->size() : 1; }

  // Stores a copy of values[i] under keys[i]. A key initialised twice (in this or an earlier
  // call) is kInvalidArgument. Distributed: rank 0's values win, and a call whose keys, shapes or
  // types differ between the workers is kInvalidArgument on every worker (nothing is stored).
  void Init(const std::vector<std::string>& keys, const std::vector<NDArray>& values);
  // Sums the values of each key (a key may appear several times) and updates its stored value:
  // the optimizer's step with the sum as gradient, or the sum itself without an optimizer.
  void Push(const std::vector<std::string>& keys, const std::vector<NDArray>& values, int priority);
  // Copies each key's stored value into its outputs (a key may appear several times).
  void Pull(const std::vector<std::string>& keys, const std::vector<NDArray>& outs,
            int priority) const;
  // Updates run this optimizer from now on (shared: the caller may keep using it). Keys that
  // spell a non-negative integer use it as the optimizer's argument index (MXNet's integer
  // keys, whose names the caller gives the optimizer); other keys get an index of their own
  // and are named after the key, so lr_mult / wd_mult and the no-decay rule for biases apply.
  void SetOptimizer(std::shared_ptr<train::Optimizer> optimizer);

 private:
  struct Entry {
    NDArray stored;
    NDArray merged;                // the sum of one push (allocated on first use)
    std::vector<NDArray> staging;  // copies of values from other devices, reused per push
    NDArray host;                  // distributed, with a GPU home: where the workers' sum is made
    int index = 0;                 // the optimizer's argument index for this key
  };
  KVStore(std::string type, WorkerGroup* group) : type_(std::move(type)), group_(group) {}
  // The array the workers exchange for `e` (host memory), with copies to and from `on_home`.
  NDArray HostSide(Entry& e, const NDArray& on_home, int priority);
  // The optimizer's step on e.stored with `sum` as the gradient, or the sum itself.
  void Update(Entry& e, const NDArray& sum, int priority);
  void InitDistributed(const std::vector<std::string>& keys, const std::vector<NDArray>& values);
  Entry& Find(const std::string& key);
  const Entry& Find(const std::string& key) const;
  // The device that keeps and sums a key whose first value lives on `value_ctx`.
  Context HomeOf(Context value_ctx) const;

  std::string type_;
  WorkerGroup* group_ = nullptr;  // dist_* only
  std::map<std::string, Entry> entries_;
  int next_named_index_ = 1 << 30;  // indices of non-integer keys, above any integer key's
  std::shared_ptr<train::Optimizer> optimizer_;
};

}  // namespace kvstore
}  // namespace mx

#endif  // MX_KVSTORE_KVSTORE_H_
