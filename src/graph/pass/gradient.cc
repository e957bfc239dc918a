// Gradient: reverse-mode differentiation as graph building.
//
// Nodes of the graph of `ys` are visited in reverse topological order. Each entry collects the
// gradient contributions of its consumers (and of the heads) in that fixed order; when its node
// is reached they are summed with one add_n, and the node's op->gradient turns the sums into
// contributions for its inputs. Zero gradients are null entries and are never materialised: a
// node whose output gradients are all zero adds nothing, so whole subgraphs that do not lead to a
// head cost nothing in the backward graph.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "graph/graph.h"
#include "op/op.h"
#include "op/op_util.h"

namespace mx {
namespace {

// One contribution to an entry's gradient: a graph entry, or "ones shaped like the entry" for a
// head gradient the caller left out.
struct Contribution {
  NodeEntry entry;
  bool ones = false;
};

bool HasOp(const char* name) { return OpRegistry::Get()->Find(name) != nullptr; }

std::string Suffix(const std::string& base, const NodePtr& node, uint32_t index) {
  return node->num_outputs() == 1 ? base : base + std::to_string(index);
}

NodeEntry OnesLike(const NodePtr& node, uint32_t index) {
  const NodeEntry y{node, index};
  const std::string suffix = Suffix("head_grad", node, index);
  if (HasOp("ones_like")) return MakeGradEntry("ones_like", node, suffix, {y});
  // Registries without ones_like: 0 * y + 1 (fine for the finite values a head holds).
  NodeEntry zero = MakeGradEntry("_mul_scalar", node, suffix + "_zero", {y}, {{"scalar", "0"}});
  return MakeGradEntry("_plus_scalar", node, suffix, {zero}, {{"scalar", "1"}});
}

// Ops with several outputs expect a gradient for each; a missing one is zeros.
NodeEntry ZerosLike(const NodePtr& node, uint32_t index) {
  const NodeEntry y{node, index};
  const std::string suffix = Suffix("zero_grad", node, index);
  if (HasOp("zeros_like")) return MakeGradEntry("zeros_like", node, suffix, {y});
  return MakeGradEntry("_mul_scalar", node, suffix, {y}, {{"scalar", "0"}});
}

NodeEntry Sum(const std::vector<NodeEntry>& terms, const NodePtr& node, uint32_t index) {
  const std::string suffix = Suffix("grad_sum", node, index);
  if (HasOp("add_n") && terms.size() > static_cast<size_t>(kMaxOpArity)) {
    // add_n takes at most kMaxOpArity inputs: an entry with more consumers sums them in groups,
    // then sums the groups.
    std::vector<NodeEntry> groups;
    for (size_t i = 0; i < terms.size(); i += kMaxOpArity) {
      const size_t end = std::min(terms.size(), i + kMaxOpArity);
      std::vector<NodeEntry> group(terms.begin() + i, terms.begin() + end);
      const std::string name = suffix + "_group" + std::to_string(groups.size());
      groups.push_back(group.size() == 1 ? group[0]
                                         : MakeGradEntry("add_n", node, name, group,
                                                         {{"num_args", std::to_string(end - i)}}));
    }
    return Sum(groups, node, index);
  }
  if (HasOp("add_n")) {
    return MakeGradEntry("add_n", node, suffix, terms,
                         {{"num_args", std::to_string(terms.size())}});
  }
  // Without add_n: a left-to-right chain whose last node carries the sum's name.
  NodeEntry acc = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    const std::string name = i + 1 == terms.size() ? suffix : suffix + std::to_string(i);
    acc = MakeGradEntry("elemwise_add", node, name, {acc, terms[i]});
  }
  return acc;
}

// True when the gradient entries built by an op reach `probe` through new nodes (nodes of the
// forward graph cannot reach it, so the search stops there).
bool Reaches(const std::vector<NodeEntry>& grads, const Node* probe, const IndexedGraph& fwd) {
  std::vector<const Node*> stack;
  std::unordered_set<const Node*> seen;
  for (const NodeEntry& e : grads) {
    if (e.node) stack.push_back(e.node.get());
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n == probe) return true;
    if (fwd.has_node(n) || !seen.insert(n).second) continue;
    for (const NodeEntry& e : n->inputs) {
      if (e.node) stack.push_back(e.node.get());
    }
  }
  return false;
}

class GradientBuilder {
 public:
  GradientBuilder(const std::vector<NodeEntry>& ys, const std::vector<NodeEntry>& head_grads)
      : idx_(ys),
        contrib_(idx_.num_entries()),
        total_(idx_.num_entries()),
        summed_(idx_.num_entries(), 0) {
    for (size_t k = 0; k < ys.size(); ++k) {
      const uint32_t eid = idx_.entry_id(idx_.outputs()[k]);
      contrib_[eid].push_back({head_grads[k], head_grads[k].node == nullptr});
    }
  }

  void Run() {
    for (uint32_t nid = static_cast<uint32_t>(idx_.num_nodes()); nid-- > 0;) Backward(nid);
  }

  NodeEntry GradientOf(const NodeEntry& x) {
    if (!x.node || !idx_.has_node(x.node.get())) return ZeroGradient();  // ys do not depend on x
    return Total(idx_.entry_id(idx_.node_id(x.node.get()), x.index));
  }

 private:
  // The summed gradient of entry `eid` (output `index` of `node`), built once.
  NodeEntry Total(uint32_t eid, const NodePtr& node, uint32_t index) {
    if (summed_[eid]) return total_[eid];
    std::vector<NodeEntry> terms;
    for (const Contribution& c : contrib_[eid]) {
      terms.push_back(c.ones ? OnesLike(node, index) : c.entry);
    }
    summed_[eid] = 1;
    if (terms.size() == 1) total_[eid] = terms[0];
    if (terms.size() > 1) total_[eid] = Sum(terms, node, index);
    return total_[eid];
  }
  NodeEntry Total(uint32_t eid) {
    const uint32_t nid = NodeOfEntry(eid);
    return Total(eid, idx_[nid].node, eid - idx_.entry_id(nid, 0));
  }
  uint32_t NodeOfEntry(uint32_t eid) const {
    uint32_t lo = 0, hi = static_cast<uint32_t>(idx_.num_nodes());  // last node starting <= eid
    while (hi - lo > 1) {
      const uint32_t mid = (lo + hi) / 2;
      (idx_.entry_id(mid, 0) <= eid ? lo : hi) = mid;
    }
    return lo;
  }

  void Backward(uint32_t nid) {
    const NodePtr& node = idx_[nid].node;
    if (node->is_variable()) return;
    const Op* op = node->attrs.op;
    const uint32_t n_out = static_cast<uint32_t>(node->num_outputs());
    const uint32_t out0 = idx_.entry_id(nid, 0);
    std::vector<NodeEntry> ograds(n_out);
    std::vector<uint32_t> lazy_ones;  // outputs whose only gradient is an omitted head gradient
    bool any = false;
    for (uint32_t i = 0; i < n_out; ++i) {
      const std::vector<Contribution>& c = contrib_[out0 + i];
      if (c.size() == 1 && c[0].ones) {
        lazy_ones.push_back(i);
        any = true;
      } else {
        ograds[i] = Total(out0 + i, node, i);
        any = any || !IsZeroGradient(ograds[i]);
      }
    }
    if (!any || op->not_differentiable) return;
    MX_CHECK(op->gradient != nullptr, kUnsupported)
        << "node '" << node->attrs.name << "' (" << op->name << ") has no gradient";
    // Hidden outputs (state for the backward op, not results) keep a null gradient: their ops
    // never read it, so no zeros are materialised for them.
    const uint32_t n_visible = static_cast<uint32_t>(node->num_visible_outputs());
    for (uint32_t i = 0; i < n_visible; ++i) {
      if (IsZeroGradient(ograds[i]) && !IsLazy(lazy_ones, i)) ograds[i] = ZerosLike(node, i);
    }

    std::vector<NodeEntry> igrads;
    if (!lazy_ones.empty()) {
      // Loss ops ignore their output gradient, and materialising ones for them would keep a
      // useless array alive. Ask the op with a probe first; only if it reads it, give it ones.
      std::vector<NodeEntry> probed = ograds;
      for (uint32_t i : lazy_ones) probed[i] = NodeEntry{probe_, 0};
      igrads = op->gradient(node, probed);
      if (Reaches(igrads, probe_.get(), idx_)) {
        for (uint32_t i : lazy_ones) {
          ograds[i] = Total(out0 + i, node, i);
        }
        igrads = op->gradient(node, ograds);
      }
    } else {
      igrads = op->gradient(node, ograds);
    }
    MX_CHECK(igrads.size() == node->inputs.size(), kInternal)
        << "node '" << node->attrs.name << "' (" << op->name << "): gradient returned "
        << igrads.size() << " entries for " << node->inputs.size() << " inputs";
    for (size_t j = 0; j < igrads.size(); ++j) {
      if (IsZeroGradient(igrads[j])) continue;
      contrib_[idx_.entry_id(idx_[nid].inputs[j])].push_back({igrads[j], false});
    }
  }

  static bool IsLazy(const std::vector<uint32_t>& lazy, uint32_t i) {
    for (uint32_t l : lazy) {
      if (l == i) return true;
    }
    return false;
  }

  IndexedGraph idx_;
  std::vector<std::vector<Contribution>> contrib_;  // by entry id, in a fixed order
  std::vector<NodeEntry> total_;
  std::vector<char> summed_;
  const NodePtr probe_ = MakeVariable("__head_grad_probe__");
};

}  // namespace

std::vector<NodeEntry> Gradient(const std::vector<NodeEntry>& ys,
                                const std::vector<NodeEntry>& head_grads,
                                const std::vector<NodeEntry>& xs) {
  MX_CHECK(ys.size() == head_grads.size(), kInvalidArgument)
      << "gradient: " << ys.size() << " outputs but " << head_grads.size() << " head gradients";
  for (const NodeEntry& y : ys) {
    MX_CHECK(y.node != nullptr, kInvalidArgument) << "gradient: an output is a null entry";
  }
  GradientBuilder builder(ys, head_grads);
  builder.Run();
  std::vector<NodeEntry> grads;
  grads.reserve(xs.size());
  for (const NodeEntry& x : xs) grads.push_back(builder.GradientOf(x));
  return grads;
}

}  // namespace mx
