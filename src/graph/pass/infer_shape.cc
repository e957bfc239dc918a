// InferShape: every op's shape inference, swept forward then backward over the graph until no
// entry changes.
//
// Backward sweeps matter: a weight's shape is usually known only from the data flowing into its
// op, and a user may give the shape of an output (or of a label) rather than of every argument.
// The same code serves complete and partial inference; entries left unknown are only counted.
#include <sstream>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "op/op.h"
#include "op/op_util.h"
#include "op/param_types.h"

namespace mx {
namespace {

// Each useful sweep fills at least one dim, so this bound is only hit by an op whose inference
// never settles; stop rather than loop forever.
constexpr int kMaxRounds = 64;

Shape ParseShapeAttr(const Node& var, const std::string& text) {
  std::istringstream is(text);
  Tuple t;
  is >> t;
  MX_CHECK(!is.fail(), kInvalidArgument) << "variable '" << var.attrs.name << "': __shape__ '"
                                         << text << "' is not a shape such as (128,784)";
  return Shape(t.v);  // -1 dims stay unknown; Shape rejects anything below
}

std::string SlotName(const Node& n, size_t slot, size_t num_in) {
  if (slot < num_in) return "input '" + n.attrs.op->InputNames(n.attrs)[slot] + "'";
  return "output '" + n.attrs.op->OutputNames(n.attrs)[slot - num_in] + "'";
}

// The shapes around one node: inputs first, then outputs.
struct NodeShapes {
  std::vector<Shape> in, out;
  Shape& operator[](size_t slot) { return slot < in.size() ? in[slot] : out[slot - in.size()]; }
  const Shape& at(size_t slot) const { return slot < in.size() ? in[slot] : out[slot - in.size()]; }
  size_t size() const { return in.size() + out.size(); }
};

// Runs the op's inference on a copy; returns false if it rejects the shapes.
bool TryInfer(const Node& n, NodeShapes* s, std::string* error) {
  try {
    n.attrs.op->infer_shape(n.attrs, &s->in, &s->out);
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

// The op rejected `given`. Users need to know which argument is wrong, so find one whose shape,
// when forgotten, the op infers differently: that is the provided-vs-inferred pair to report.
// Later inputs are blamed first (weights and biases follow data), outputs last.
[[noreturn]] void ThrowConflict(const Node& n, const NodeShapes& given, const std::string& error) {
  const size_t num_in = given.in.size();
  std::vector<size_t> order;
  for (size_t i = num_in; i-- > 0;) order.push_back(i);
  for (size_t o = num_in; o < given.size(); ++o) order.push_back(o);
  for (size_t slot : order) {
    NodeShapes s = given;
    if (s[slot].ndim() < 0) continue;
    s[slot] = Shape::Unknown();
    std::string ignored;
    if (!TryInfer(n, &s, &ignored)) continue;
    Shape merged = given.at(slot);
    if (s[slot].ndim() < 0 || MergeShape(&merged, s[slot])) continue;
    MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                               << "): " << SlotName(n, slot, num_in) << " has shape "
                               << given.at(slot) << ", inferred " << s[slot];
  }
  MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                             << "): " << error;
}

// One node's inference against the graph's shapes. Returns true once every shape around the node
// is known (it then never needs to run again: a known entry can only conflict, never change).
bool InferNode(const IndexedGraph& idx, uint32_t nid, std::vector<Shape>* shapes, bool* changed) {
  const IndexedGraph::INode& inode = idx[nid];
  const Node& n = *inode.node;
  NodeShapes s;
  for (const IndexedGraph::Entry& e : inode.inputs) s.in.push_back((*shapes)[idx.entry_id(e)]);
  const uint32_t out0 = idx.entry_id(nid, 0);
  s.out.assign(shapes->begin() + out0, shapes->begin() + out0 + n.num_outputs());
  const NodeShapes given = s;
  std::string error;
  if (!TryInfer(n, &s, &error)) ThrowConflict(n, given, error);

  bool known = true;
  for (size_t slot = 0; slot < s.size(); ++slot) {
    const uint32_t eid = slot < s.in.size() ? idx.entry_id(inode.inputs[slot])
                                            : out0 + static_cast<uint32_t>(slot - s.in.size());
    Shape merged = (*shapes)[eid];
    // An op that overwrites a known shape instead of throwing is still a conflict.
    if (!MergeShape(&merged, s[slot])) {
      MX_THROW(kInvalidArgument) << "node '" << n.attrs.name << "' (" << n.attrs.op->name
                                 << "): " << SlotName(n, slot, s.in.size()) << " has shape "
                                 << (*shapes)[eid] << ", inferred " << s[slot];
    }
    if (merged != (*shapes)[eid]) {
      (*shapes)[eid] = merged;
      *changed = true;
    }
    known = known && merged.IsKnown();
  }
  return known;
}

}  // namespace

size_t InferShape(Graph* g) {
  const IndexedGraph& idx = g->indexed();
  std::vector<Shape>& shapes = g->shapes;
  if (shapes.size() != idx.num_entries()) shapes.resize(idx.num_entries(), Shape::Unknown());

  for (uint32_t nid : idx.input_nodes()) {
    const Node& var = *idx[nid].node;
    auto it = var.user_attrs.find("__shape__");
    if (it == var.user_attrs.end()) continue;
    const Shape attr = ParseShapeAttr(var, it->second);
    Shape& s = shapes[idx.entry_id(nid, 0)];
    MX_CHECK(MergeShape(&s, attr), kInvalidArgument)
        << "variable '" << var.attrs.name << "' has shape " << s << ", but its __shape__ is "
        << attr;
  }

  const uint32_t num_nodes = static_cast<uint32_t>(idx.num_nodes());
  std::vector<char> done(num_nodes, 0);
  for (uint32_t nid = 0; nid < num_nodes; ++nid) done[nid] = idx[nid].node->is_variable();
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    for (uint32_t nid = 0; nid < num_nodes; ++nid) {
      if (!done[nid]) done[nid] = InferNode(idx, nid, &shapes, &changed);
    }
    for (uint32_t nid = num_nodes; nid-- > 0;) {
      if (!done[nid]) done[nid] = InferNode(idx, nid, &shapes, &changed);
    }
    if (!changed) break;
  }

  size_t unknown = 0;
  for (const Shape& s : shapes) unknown += s.IsKnown() ? 0 : 1;
  return unknown;
}

}  // namespace mx
