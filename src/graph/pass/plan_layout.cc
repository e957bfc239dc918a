// PlanLayout: which activations an executor keeps in oneDNN's channel-blocked order (op/layout.h).
//
// An entry may be blocked when its shape allows it (Blockable), the caller never sees it, and
// every node that writes or reads it takes it in any layout: an elementwise op (Op::elementwise,
// its operands all of one shape) or an op's declared slot (Op::layout_slots). Elementwise ops and
// tied slots need their operands in one layout, so entries joined through them form groups
// (union-find) that are blocked or plain together; a group is blocked only if none of its
// entries must stay plain and at least one is a slot of a layout-aware op (a chain of relu and +
// between plain arrays gains nothing from it). Everything else stays plain: a convolution whose
// next consumer is a Flatten writes plain, as before.
#include <numeric>
#include <vector>

#include "graph/graph.h"
#include "op/layout.h"
#include "op/op.h"

namespace mx {
namespace {

class Groups {
 public:
  explicit Groups(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0u); }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Join(uint32_t a, uint32_t b) { parent_[Find(a)] = Find(b); }

 private:
  std::vector<uint32_t> parent_;
};

}  // namespace

size_t PlanLayout(Graph* g, const std::vector<uint32_t>& external_entries) {
  const IndexedGraph& idx = g->indexed();
  const size_t n = idx.num_entries();
  g->layouts.assign(n, Layout::kPlain);
  if (!BlockedLayouts()) return 0;
  std::vector<bool> plain(n, false), aware(n, false);
  for (uint32_t eid = 0; eid < n; ++eid) plain[eid] = !Blockable(g->shapes[eid], g->dtypes[eid]);
  for (uint32_t eid : external_entries) plain[eid] = true;
  Groups groups(n);
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const Node& node = *idx[nid].node;
    if (node.is_variable()) continue;
    std::vector<uint32_t> in, out;
    for (const auto& e : idx[nid].inputs) in.push_back(idx.entry_id(e));
    for (int i = 0; i < node.num_outputs(); ++i) out.push_back(idx.entry_id(nid, i));
    std::vector<bool> in_slot(in.size(), false), out_slot(out.size(), false);
    std::vector<uint32_t> tied;
    const Op& op = *node.attrs.op;
    if (op.elementwise && !out.empty()) {
      bool same = true;
      for (uint32_t e : in) same = same && g->shapes[e] == g->shapes[out[0]];
      for (uint32_t e : out) same = same && g->shapes[e] == g->shapes[out[0]];
      if (same) {
        in_slot.assign(in.size(), true);
        out_slot.assign(out.size(), true);
        tied = in;
        tied.insert(tied.end(), out.begin(), out.end());
      }
    } else if (op.layout_slots) {
      std::vector<Shape> in_shapes, out_shapes;
      for (uint32_t e : in) in_shapes.push_back(g->shapes[e]);
      for (uint32_t e : out) out_shapes.push_back(g->shapes[e]);
      const int dtype = out.empty() ? -1 : g->dtypes[out[0]];
      const LayoutSlots s = op.layout_slots(node.attrs, in_shapes, out_shapes, dtype);
      for (int i : s.inputs) {
        in_slot.at(i) = true;
        aware[in[i]] = true;
        if (s.tied) tied.push_back(in[i]);
      }
      for (int i : s.outputs) {
        out_slot.at(i) = true;
        aware[out[i]] = true;
        if (s.tied) tied.push_back(out[i]);
      }
    }
    for (size_t i = 0; i < in.size(); ++i) plain[in[i]] = plain[in[i]] || !in_slot[i];
    for (size_t i = 0; i < out.size(); ++i) plain[out[i]] = plain[out[i]] || !out_slot[i];
    for (size_t i = 1; i < tied.size(); ++i) groups.Join(tied[0], tied[i]);
  }
  std::vector<bool> group_plain(n, false), group_aware(n, false);
  for (uint32_t eid = 0; eid < n; ++eid) {
    const uint32_t root = groups.Find(eid);
    group_plain[root] = group_plain[root] || plain[eid];
    group_aware[root] = group_aware[root] || aware[eid];
  }
  size_t blocked = 0;
  for (uint32_t eid = 0; eid < n; ++eid) {
    const uint32_t root = groups.Find(eid);
    if (group_plain[root] || !group_aware[root]) continue;
    g->layouts[eid] = Layout::kBlocked16;
    ++blocked;
  }
  return blocked;
}

}  // namespace mx
