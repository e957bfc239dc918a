// InferType: every op's type inference, swept forward then backward over the graph until no
// entry changes (the dtype counterpart of infer_shape.cc; -1 marks an unknown type).
#include <cctype>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "op/op.h"

namespace mx {
namespace {

constexpr int kMaxRounds = 64;  // types settle in one or two rounds; this only stops a bad op

std::string TypeName(int t) { return t < 0 ? "?" : DTypeName(static_cast<DType>(t)); }

// "__dtype__" holds a name ("float32") or the C ABI's number ("0").
int ParseDTypeAttr(const Node& var, const std::string& text) {
  try {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
      return static_cast<int>(CheckedDType(std::stoi(text)));
    }
    return static_cast<int>(DTypeFromName(text));
  } catch (const std::exception& e) {
    MX_THROW(kInvalidArgument) << "variable '" << var.attrs.name << "': __dtype__ '" << text
                               << "': " << e.what();
  }
}

std::string SlotName(const Node& n, size_t slot, size_t num_in) {
  if (slot < num_in) return "input '" + n.attrs.op->InputNames(n.attrs)[slot] + "'";
  return "output '" + n.attrs.op->OutputNames(n.attrs)[slot - num_in] + "'";
}

// Inputs then outputs of one node, as one list of slots.
struct NodeTypes {
  std::vector<int> in, out;
  int& operator[](size_t slot) { return slot < in.size() ? in[slot] : out[slot - in.size()]; }
  int at(size_t slot) const { return slot < in.size() ? in[slot] : out[slot - in.size()]; }
  size_t size() const { return in.size() + out.size(); }
};

bool TryInfer(const Node& n, NodeTypes* t, std::string* error) {
  try {
    n.attrs.op->infer_type(n.attrs, &t->in, &t->out);
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

// As for shapes: report the argument whose type, when forgotten, the op infers differently.
[[noreturn]] void ThrowConflict(const Node& n, const NodeTypes& given, const std::string& error) {
  const size_t num_in = given.in.size();
  std::vector<size_t> order;
  for (size_t i = num_in; i-- > 0;) order.push_back(i);
  for (size_t o = num_in; o < given.size(); ++o) order.push_back(o);
  for (size_t slot : order) {
    if (given.at(slot) < 0) continue;
    NodeTypes t = given;
    t[slot] = -1;
    std::string ignored;
    if (!TryInfer(n, &t, &ignored) || t[slot] < 0 || t[slot] == given.at(slot)) continue;
    MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                               << "): " << SlotName(n, slot, num_in) << " has type "
                               << TypeName(given.at(slot)) << ", inferred " << TypeName(t[slot]);
  }
  MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                             << "): " << error;
}

bool InferNode(const IndexedGraph& idx, uint32_t nid, std::vector<int>* types, bool* changed) {
  const IndexedGraph::INode& inode = idx[nid];
  const Node& n = *inode.node;
  NodeTypes t;
  for (const IndexedGraph::Entry& e : inode.inputs) t.in.push_back((*types)[idx.entry_id(e)]);
  const uint32_t out0 = idx.entry_id(nid, 0);
  t.out.assign(types->begin() + out0, types->begin() + out0 + n.num_outputs());
  const NodeTypes given = t;
  std::string error;
  if (!TryInfer(n, &t, &error)) ThrowConflict(n, given, error);

  bool known = true;
  for (size_t slot = 0; slot < t.size(); ++slot) {
    const uint32_t eid = slot < t.in.size() ? idx.entry_id(inode.inputs[slot])
                                            : out0 + static_cast<uint32_t>(slot - t.in.size());
    int& cur = (*types)[eid];
    if (t[slot] >= 0 && cur >= 0 && t[slot] != cur) {
      MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                                 << "): " << SlotName(n, slot, t.in.size()) << " has type "
                                 << TypeName(cur) << ", inferred " << TypeName(t[slot]);
    }
    if (cur < 0 && t[slot] >= 0) {
      cur = t[slot];
      *changed = true;
    }
    known = known && cur >= 0;
  }
  return known;
}

}  // namespace

size_t InferType(Graph* g) {
  const IndexedGraph& idx = g->indexed();
  std::vector<int>& types = g->dtypes;
  if (types.size() != idx.num_entries()) types.resize(idx.num_entries(), -1);

  for (uint32_t nid : idx.input_nodes()) {
    const Node& var = *idx[nid].node;
    auto it = var.user_attrs.find("__dtype__");
    if (it == var.user_attrs.end()) continue;
    const int attr = ParseDTypeAttr(var, it->second);
    int& t = types[idx.entry_id(nid, 0)];
    MX_CHECK(t < 0 || t == attr, kInvalidArgument)
        << "variable '" << var.attrs.name << "' has type " << TypeName(t)
        << ", but its __dtype__ is " << TypeName(attr);
    t = attr;
  }

  const uint32_t num_nodes = static_cast<uint32_t>(idx.num_nodes());
  std::vector<char> done(num_nodes, 0);
  for (uint32_t nid = 0; nid < num_nodes; ++nid) done[nid] = idx[nid].node->is_variable();
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    for (uint32_t nid = 0; nid < num_nodes; ++nid) {
      if (!done[nid]) done[nid] = InferNode(idx, nid, &types, &changed);
    }
    for (uint32_t nid = num_nodes; nid-- > 0;) {
      if (!done[nid]) done[nid] = InferNode(idx, nid, &types, &changed);
    }
    if (!changed) break;
  }

  size_t unknown = 0;
  for (int t : types) unknown += t < 0 ? 1 : 0;
  return unknown;
}

}  // namespace mx
