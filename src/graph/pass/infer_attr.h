// The driver shared by InferShape and InferType: run every op's inference forward and backward
// over the graph until nothing changes, with the values the caller set as constraints and the
// variables' hint attributes ("__shape__", "__dtype__") used only where nothing else is known.
//
// A pass is this driver plus a traits struct:
//
//   struct ShapeTraits {
//     using Value = Shape;
//     static constexpr const char* kWhat = "shape";       // words in messages
//     static constexpr const char* kHintAttr = "__shape__";
//     static Value Unknown();
//     static bool IsKnown(const Value&);
//     static bool Merge(Value* dst, const Value& src);    // false on a conflict
//     static std::string Str(const Value&);
//     static Value ParseHint(const Node& var, const std::string& text);
//     static void Run(const NodeAttrs&, std::vector<Value>* in, std::vector<Value>* out);
//     static std::vector<Value>& Of(Graph* g);
//   };
//
// Messages name what the user wrote: a conflict at an op's input that is a variable names the
// variable first ("argument 'fc1_weight' (input 'weight' of node 'fc1' (FullyConnected)): given
// shape (128,785), inferred (128,784)"); other entries are named by the node that produces them.
#ifndef MX_GRAPH_PASS_INFER_ATTR_H_
#define MX_GRAPH_PASS_INFER_ATTR_H_

#include <string>
#include <vector>

#include "base/error.h"
#include "graph/graph.h"
#include "op/op.h"

namespace mx {
namespace pass {

// Each useful sweep fills at least one value, so this bound is only hit by an op whose inference
// never settles; stop rather than loop forever.
constexpr int kMaxInferRounds = 64;

// "argument 'w' (input 'weight' of node 'fc1' (FullyConnected))", "output 'output' of node 'fc1'
// (FullyConnected)" or "input 'data' of node 'fc2' (FullyConnected), output 'output' of node
// 'relu1' (Activation)": slot `slot` of node `nid`, inputs first, then outputs.
std::string DescribeSlot(const IndexedGraph& idx, uint32_t nid, size_t slot);
// "argument 'w'" or "auxiliary state 'bn_moving_mean'".
std::string DescribeVariable(const IndexedGraph& idx, uint32_t var_nid);
// A variable with the first op input that reads it, as DescribeSlot names it.
std::string DescribeUse(const IndexedGraph& idx, uint32_t var_nid);

// The entries still unknown in `values`: variables first, each with where it is used and what is
// known of it; if every variable is known, the op outputs that are not. At most `max` are named.
template <typename Traits>
std::string DescribeUnknown(const Graph& g, const std::vector<typename Traits::Value>& values,
                            size_t max) {
  const IndexedGraph& idx = g.indexed();
  std::vector<std::string> names;
  size_t count = 0;
  auto add = [&](std::string name, const typename Traits::Value& v) {
    if (count++ < max) names.push_back(std::move(name) + " is " + Traits::Str(v));
  };
  for (uint32_t nid : idx.input_nodes()) {
    const auto& v = values[idx.entry_id(nid, 0)];
    if (!Traits::IsKnown(v)) add(DescribeUse(idx, nid), v);
  }
  if (count == 0) {
    for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
      const Node& n = *idx[nid].node;
      if (n.is_variable()) continue;
      for (int i = 0; i < n.num_outputs(); ++i) {
        const auto& v = values[idx.entry_id(nid, i)];
        if (!Traits::IsKnown(v)) add(DescribeSlot(idx, nid, idx[nid].inputs.size() + i), v);
      }
    }
  }
  std::string out;
  for (const std::string& s : names) out += (out.empty() ? "" : "; ") + s;
  if (count > max) out += "; and " + std::to_string(count - max) + " more";
  return out;
}

// The values around one node: inputs first, then outputs.
template <typename V>
struct NodeValues {
  std::vector<V> in, out;
  V& operator[](size_t slot) { return slot < in.size() ? in[slot] : out[slot - in.size()]; }
  const V& at(size_t slot) const { return slot < in.size() ? in[slot] : out[slot - in.size()]; }
  size_t size() const { return in.size() + out.size(); }
};

template <typename Traits>
class AttrInference {
 public:
  using V = typename Traits::Value;

  explicit AttrInference(Graph* g) : g_(g), idx_(g->indexed()), values_(Traits::Of(g)) {
    if (values_.size() != idx_.num_entries()) values_.resize(idx_.num_entries(), Traits::Unknown());
    // Whatever the caller set is "given"; everything else is inferred here (or hinted).
    origin_.resize(values_.size());
    for (size_t e = 0; e < values_.size(); ++e) {
      origin_[e] = IsUnknownValue(values_[e]) ? kInferred : kGiven;
    }
  }

  size_t Run() {
    Sweep();
    // Hints fill in only what the caller's values and the ops left unknown; then sweep again.
    bool hinted = false;
    for (uint32_t nid : idx_.input_nodes()) {
      const Node& var = *idx_[nid].node;
      auto it = var.user_attrs.find(Traits::kHintAttr);
      if (it == var.user_attrs.end()) continue;
      const V hint = Traits::ParseHint(var, it->second);
      V& v = values_[idx_.entry_id(nid, 0)];
      V merged = v;
      if (!Traits::Merge(&merged, hint)) continue;  // what is known wins over the hint
      if (!(merged == v)) {
        v = merged;
        hinted = true;
        if (origin_[idx_.entry_id(nid, 0)] == kInferred) origin_[idx_.entry_id(nid, 0)] = kHinted;
      }
    }
    if (hinted) Sweep();
    size_t unknown = 0;
    for (const V& v : values_) unknown += Traits::IsKnown(v) ? 0 : 1;
    return unknown;
  }

 private:
  static bool IsUnknownValue(const V& v) { return v == Traits::Unknown(); }

  void Sweep() {
    const uint32_t num_nodes = static_cast<uint32_t>(idx_.num_nodes());
    std::vector<char> done(num_nodes, 0);
    for (uint32_t nid = 0; nid < num_nodes; ++nid) done[nid] = idx_[nid].node->is_variable();
    for (int round = 0; round < kMaxInferRounds; ++round) {
      bool changed = false;
      for (uint32_t nid = 0; nid < num_nodes; ++nid) {
        if (!done[nid]) done[nid] = InferNode(nid, &changed);
      }
      for (uint32_t nid = num_nodes; nid-- > 0;) {
        if (!done[nid]) done[nid] = InferNode(nid, &changed);
      }
      if (!changed) break;
    }
  }

  uint32_t EntryOf(uint32_t nid, size_t slot, size_t num_in) const {
    if (slot < num_in) return idx_.entry_id(idx_[nid].inputs[slot]);
    return idx_.entry_id(nid, static_cast<uint32_t>(slot - num_in));
  }

  static bool TryInfer(const Node& n, NodeValues<V>* s, std::string* error) {
    try {
      Traits::Run(n.attrs, &s->in, &s->out);
      return true;
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
  }

  [[noreturn]] void ThrowMismatch(uint32_t nid, size_t slot, size_t num_in, const V& has,
                                  const V& inferred) const {
    // "given shape (2,4)", "shape (2,4) from its __shape__", "shape (2,4) from the rest of
    // the graph": where the value that loses came from.
    const Origin o = origin_[EntryOf(nid, slot, num_in)];
    MX_THROW(kInvalidArgument) << DescribeSlot(idx_, nid, slot) << ": "
                               << (o == kGiven ? "given " : "") << Traits::kWhat << " "
                               << Traits::Str(has)
                               << (o == kHinted  ? std::string(" from its ") + Traits::kHintAttr
                                   : o == kGiven ? std::string()
                                                 : std::string(" from the rest of the graph"))
                               << ", inferred " << Traits::Str(inferred);
  }

  // The op rejected `given`. Users need to know which argument is wrong, so find one whose value,
  // when forgotten, the op infers differently: that is the provided-vs-inferred pair to report.
  // Later inputs are blamed first (weights and biases follow data), outputs last.
  [[noreturn]] void ThrowConflict(uint32_t nid, const NodeValues<V>& given,
                                  const std::string& error) const {
    const Node& n = *idx_[nid].node;
    const size_t num_in = given.in.size();
    std::vector<size_t> order;
    for (size_t i = num_in; i-- > 0;) order.push_back(i);
    for (size_t o = num_in; o < given.size(); ++o) order.push_back(o);
    for (size_t slot : order) {
      if (IsUnknownValue(given.at(slot))) continue;
      NodeValues<V> s = given;
      s[slot] = Traits::Unknown();
      std::string ignored;
      if (!TryInfer(n, &s, &ignored)) continue;
      V merged = given.at(slot);
      if (IsUnknownValue(s[slot]) || Traits::Merge(&merged, s[slot])) continue;
      ThrowMismatch(nid, slot, num_in, given.at(slot), s[slot]);
    }
    // No single culprit: show every input as the op saw it.
    std::string inputs;
    for (size_t i = 0; i < num_in; ++i) {
      inputs += (i ? "; " : "") + DescribeSlot(idx_, nid, i) + " " + Traits::Str(given.in[i]);
    }
    MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                               << "): " << error << " [" << inputs << "]";
  }

  // One node's inference against the graph's values. Returns true once every value around the
  // node is known (it then never needs to run again: a known entry can only conflict).
  bool InferNode(uint32_t nid, bool* changed) {
    const IndexedGraph::INode& inode = idx_[nid];
    const Node& n = *inode.node;
    NodeValues<V> s;
    for (const IndexedGraph::Entry& e : inode.inputs) s.in.push_back(values_[idx_.entry_id(e)]);
    const uint32_t out0 = idx_.entry_id(nid, 0);
    s.out.assign(values_.begin() + out0, values_.begin() + out0 + n.num_outputs());
    const NodeValues<V> before = s;
    std::string error;
    if (!TryInfer(n, &s, &error)) ThrowConflict(nid, before, error);

    bool known = true;
    const size_t num_in = s.in.size();
    for (size_t slot = 0; slot < s.size(); ++slot) {
      V& cur = values_[EntryOf(nid, slot, num_in)];
      V merged = cur;
      // An op that overwrites a known value instead of throwing is still a conflict.
      if (!Traits::Merge(&merged, s[slot])) ThrowMismatch(nid, slot, num_in, cur, s[slot]);
      if (!(merged == cur)) {
        cur = merged;
        *changed = true;
      }
      known = known && Traits::IsKnown(merged);
    }
    return known;
  }

  Graph* g_;
  const IndexedGraph& idx_;
  std::vector<V>& values_;
  enum Origin : char { kInferred, kGiven, kHinted };
  std::vector<Origin> origin_;
};

}  // namespace pass
}  // namespace mx

#endif  // MX_GRAPH_PASS_INFER_ATTR_H_
