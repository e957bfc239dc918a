#include "graph/graph.h"

#include "base/error.h"
#include "graph/symbol.h"
#include "op/op.h"

namespace mx {

IndexedGraph::IndexedGraph(const std::vector<NodeEntry>& outputs) {
  entry_rptr_.push_back(0);
  DFSVisit(outputs, [this](const NodePtr& n) {
    const uint32_t nid = static_cast<uint32_t>(nodes_.size());
    ids_[n.get()] = nid;
    INode in;
    in.node = n;
    for (const NodeEntry& e : n->inputs) in.inputs.push_back({ids_.at(e.node.get()), e.index});
    if (n->is_variable()) input_nodes_.push_back(nid);
    nodes_.push_back(std::move(in));
    entry_rptr_.push_back(entry_rptr_.back() + n->num_outputs());
  });
  for (const NodeEntry& e : outputs) outputs_.push_back({ids_.at(e.node.get()), e.index});
  std::vector<bool> mutated(nodes_.size(), false);
  for (const INode& in : nodes_) {
    const Node& n = *in.node;
    if (n.is_variable() || !n.attrs.op->mutate_inputs) continue;
    for (int i : n.attrs.op->mutate_inputs(n.attrs)) mutated[in.inputs.at(i).node_id] = true;
  }
  for (uint32_t nid : input_nodes_) {
    if (mutated[nid]) mutable_inputs_.push_back(nid);
  }
}

uint32_t IndexedGraph::node_id(const Node* node) const {
  auto it = ids_.find(node);
  MX_CHECK(it != ids_.end(), kInternal) << "node '" << node->attrs.name << "' is not in the graph";
  return it->second;
}

Graph Graph::FromOutputs(std::vector<NodeEntry> outputs) {
  Graph g;
  g.outputs = std::move(outputs);
  g.indexed_ = std::make_shared<IndexedGraph>(g.outputs);
  g.shapes.assign(g.indexed_->num_entries(), Shape::Unknown());
  g.dtypes.assign(g.indexed_->num_entries(), -1);
  return g;
}

}  // namespace mx
