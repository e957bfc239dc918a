#include "op/onednn/onednn.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace mx {
namespace onednn {

dnnl::engine& Engine() {
  // Never destroyed: ops may still run on engine workers while static destructors run at exit.
  static dnnl::engine* const engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& Stream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

namespace {

std::atomic<bool>& EnabledFlag() {
  static std::atomic<bool> enabled([] {
    const char* v = std::getenv("MX_ONEDNN");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }());
  return enabled;
}

std::atomic<uint64_t> calls{0};
std::atomic<uint64_t> plans{0};
std::atomic<uint64_t> reorders{0};

}  // namespace

bool Enabled() { return EnabledFlag().load(std::memory_order_relaxed); }
void SetEnabled(bool on) { EnabledFlag().store(on, std::memory_order_relaxed); }
uint64_t Calls() { return calls.load(std::memory_order_relaxed); }
void CountCall() { calls.fetch_add(1, std::memory_order_relaxed); }
uint64_t PlansBuilt() { return plans.load(std::memory_order_relaxed); }
void CountPlan() { plans.fetch_add(1, std::memory_order_relaxed); }
uint64_t OperandReorders() { return reorders.load(std::memory_order_relaxed); }

dnnl::memory::desc PlainDesc(const dnnl::memory::dims& dims, dnnl::memory::format_tag tag) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, tag);
}

Operand PlanOperand(const dnnl::memory::desc& user, const dnnl::memory::desc& chosen, bool in) {
  Operand op;
  op.user = user;
  op.chosen = chosen;
  op.reorder = user != chosen;
  if (op.reorder) {
    op.bytes = chosen.get_size();
    const dnnl::memory u(user, Engine(), DNNL_MEMORY_NONE), c(chosen, Engine(), DNNL_MEMORY_NONE);
    if (in) {
      op.to_chosen = dnnl::reorder(u, c);
    } else {
      op.to_user = dnnl::reorder(c, u);
    }
  }
  return op;
}

size_t ScratchBytes(std::initializer_list<size_t> pieces) {
  size_t total = 0;
  for (size_t p : pieces) total += (p + 63) / 64 * 64;
  return total;
}

Scratch::Scratch(const OpContext& ctx, size_t bytes)
    : base_(bytes > 0 ? static_cast<char*>(ctx.TempSpace(bytes)) : nullptr), size_(bytes) {}

void* Scratch::Take(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  MX_CHECK(used_ + rounded <= size_, kInternal)
      << "oneDNN scratch overflow: " << used_ + rounded << " > " << size_ << " bytes";
  void* p = base_ + used_;
  used_ += rounded;
  return p;
}

dnnl::memory Bind(const Operand& op, void* data, Scratch* scratch) {
  if (!op.reorder) return dnnl::memory(op.user, Engine(), data);
  dnnl::memory chosen(op.chosen, Engine(), scratch->Take(op.bytes));
  if (op.to_chosen) {
    dnnl::memory user(op.user, Engine(), data);
    op.to_chosen.execute(Stream(), user, chosen);
    reorders.fetch_add(1, std::memory_order_relaxed);
  }
  return chosen;
}

void Finish(const Operand& op, const dnnl::memory& chosen, void* data) {
  if (!op.reorder) return;
  dnnl::memory user(op.user, Engine(), data);
  op.to_user.execute(Stream(), const_cast<dnnl::memory&>(chosen), user);
  reorders.fetch_add(1, std::memory_order_relaxed);
}

dnnl::memory CachedOperand::Get(const Operand& op, const void* data) {
  if (!op.reorder) return dnnl::memory(op.user, Engine(), const_cast<void*>(data));
  const size_t bytes = op.user.get_size();
  auto it = entries_.find(data);
  if (it != entries_.end() && it->second.plain.size() == bytes &&
      it->second.chosen.get_desc() == op.chosen &&
      std::memcmp(it->second.plain.data(), data, bytes) == 0) {
    return it->second.chosen;
  }
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxEntries) entries_.clear();
    it = entries_.emplace(data, Entry()).first;
  }
  Entry& e = it->second;
  // Refill the whole entry before anything can throw past it half-made: a failed reorder drops it.
  try {
    const char* src = static_cast<const char*>(data);
    e.plain.assign(src, src + bytes);
    if (!e.chosen || e.chosen.get_desc() != op.chosen) e.chosen = dnnl::memory(op.chosen, Engine());
    dnnl::memory user(op.user, Engine(), const_cast<void*>(data));
    op.to_chosen.execute(Stream(), user, e.chosen);
    Stream().wait();
  } catch (...) {
    entries_.erase(it);
    throw;
  }
  ++reorders_;
  return e.chosen;
}

}  // namespace onednn
}  // namespace mx
