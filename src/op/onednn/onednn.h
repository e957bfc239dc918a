// What the oneDNN paths of the convolution-class ops share (built with MX_USE_ONEDNN).
//
// oneDNN picks its fastest kernels when it may choose the memory layout (blocked formats such as
// nChw16c); libmx arrays are plain NCHW. So each op asks for format "any", and reorders its
// arrays into and out of the chosen layouts in the op's scratch memory (TempSpace) when the
// layouts differ. Describing a problem (primitive descriptor + primitive) costs tens of
// microseconds: executors build a node's plans at bind (Op::SetCreateState, as convolution
// does), and imperative calls keep the plans each thread built, keyed by the problem's numbers.
//
//   PlanCache<ConvPlan>& cache = ThreadCache<ConvPlan>();
//   ConvPlan& plan = cache.Get(key, [&] { return BuildConvPlan(...); });
//   Scratch scratch(ctx, plan.scratch_bytes);        // carves TempSpace into buffers
#ifndef MX_OP_ONEDNN_ONEDNN_H_
#define MX_OP_ONEDNN_ONEDNN_H_

#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "op/op.h"

namespace mx {
namespace onednn {

// The process's CPU engine and this thread's stream.
dnnl::engine& Engine();
dnnl::stream& Stream();

// Whether the oneDNN paths are enabled: MX_ONEDNN=0 in the environment (read at start-up) sends
// every call to the portable loops, e.g. to compare the two; tests switch it with SetEnabled.
bool Enabled();
void SetEnabled(bool on);
// How many op calls the oneDNN paths have computed (tests check the path really ran).
uint64_t Calls();
void CountCall();
// How many primitive plans have been built (tests check executors build theirs at bind).
uint64_t PlansBuilt();
void CountPlan();
// How many operand reorders Bind and Finish have run (tests check blocked activations need
// none between layers; the cached weights' refreshes are CachedOperand::reorders).
uint64_t OperandReorders();

// A problem's numbers (op kind, shapes, parameters), the key of a plan.
using Key = std::array<int64_t, 24>;
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t v : k) h = (h ^ static_cast<uint64_t>(v)) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

template <typename Plan>
class PlanCache {
 public:
  Plan& Get(const Key& key, const std::function<Plan()>& build) {
    auto it = plans_.find(key);
    if (it == plans_.end()) it = plans_.emplace(key, build()).first;
    return it->second;
  }

 private:
  std::unordered_map<Key, Plan, KeyHash> plans_;
};

// One cache per plan type and thread: engine workers run ops concurrently, and oneDNN primitives
// are cheap to execute from the thread that owns them.
template <typename Plan>
PlanCache<Plan>& ThreadCache() {
  thread_local PlanCache<Plan> cache;
  return cache;
}

// An array of ours as oneDNN sees it: f32, plain layout.
dnnl::memory::desc PlainDesc(const dnnl::memory::dims& dims, dnnl::memory::format_tag tag);

// An operand in the layout a primitive chose: the user's memory itself when the layouts agree,
// otherwise a buffer in scratch memory plus the reorder between the two.
struct Operand {
  dnnl::memory::desc user, chosen;
  bool reorder = false;
  size_t bytes = 0;                  // scratch bytes when reordered
  dnnl::reorder to_chosen, to_user;  // built when reorder is true (in the needed direction)
};
// Plans operand `chosen` for user memory `user`: `in` for inputs (user -> chosen), else outputs.
Operand PlanOperand(const dnnl::memory::desc& user, const dnnl::memory::desc& chosen, bool in);

// The op's scratch memory (TempSpace) handed out in 64-byte aligned pieces.
class Scratch {
 public:
  Scratch(const OpContext& ctx, size_t bytes);
  void* Take(size_t bytes);

 private:
  char* base_;
  size_t size_, used_ = 0;
};
// Bytes Scratch needs for pieces of these sizes.
size_t ScratchBytes(std::initializer_list<size_t> pieces);

// The memory a primitive reads or writes for `op`: for a reordered input, runs the reorder into
// scratch and returns the buffer; for a reordered output, returns the scratch buffer (call
// Finish after the primitive); otherwise wraps `data`.
dnnl::memory Bind(const Operand& op, void* data, Scratch* scratch);
void Finish(const Operand& op, const dnnl::memory& chosen, void* data);

// A reordered copy of an input that rarely changes between calls (a convolution's weights),
// kept from call to call per source pointer. A copy is reused only while the source's bytes equal
// the bytes it was made from, so nothing that writes the array (an optimizer update, a copy, a
// DLPack consumer writing in place, which no version counter would see) can leave it stale;
// comparing reads the plain array once and costs a fraction of the reorder (an OpenMP region).
class CachedOperand {
 public:
  // `op`'s chosen-layout memory holding `data`'s values (`data` itself when not reordered).
  dnnl::memory Get(const Operand& op, const void* data);
  // How many times Get reordered (tests check reuse and refresh).
  uint64_t reorders() const { return reorders_; }

 private:
  struct Entry {
    std::vector<char> plain;  // the source bytes the copy was made from
    dnnl::memory chosen;
  };
  static constexpr size_t kMaxEntries = 16;  // distinct sources kept (then all dropped)
  std::unordered_map<const void*, Entry> entries_;
  uint64_t reorders_ = 0;
};

}  // namespace onednn
}  // namespace mx

#endif  // MX_OP_ONEDNN_ONEDNN_H_
