// Collectives between workers as engine ops: what dist_* stores push (see worker_group.h).
#ifndef MX_KVSTORE_COLLECTIVE_OP_H_
#define MX_KVSTORE_COLLECTIVE_OP_H_

#include <string>
#include <vector>

#include "kvstore/worker_group.h"
#include "ndarray/ndarray.h"

namespace mx {
namespace kvstore {

// One key's part of a collective: host arrays of one shape and type. For an allreduce, dst
// receives the sum over the workers of src (src may be dst); for a broadcast, dst receives rank
// 0's dst (src is unused).
struct KeyTransfer {
  std::string key;
  NDArray src, dst;
};

// Keys whose buffers are at most this size are fused with their neighbours in the call into
// messages up to this size (MXNet's and Horovod's "bucketing": one round trip for many small keys,
// while a large key still goes alone and without a copy).
constexpr size_t kFusionBytes = size_t{4} << 20;

// Pushes the collectives for `keys` (in this order) onto the engine and returns at once. Fusion
// depends only on the keys' order, sizes and types, so every worker that makes the same calls
// fuses the same way. Each collective takes its ticket here, on the caller's thread.
void PushCollectives(WorkerGroup& group, Collective::Kind kind,
                     const std::vector<KeyTransfer>& keys);

}  // namespace kvstore
}  // namespace mx

#endif  // MX_KVSTORE_COLLECTIVE_OP_H_
