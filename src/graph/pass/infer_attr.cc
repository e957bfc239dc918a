// Naming graph entries in inference messages (infer_attr.h), the way users wrote the graph.
#include "graph/pass/infer_attr.h"

#include <algorithm>

namespace mx {
namespace pass {
namespace {

std::string NodeName(const Node& n) {
  return "node '" + n.attrs.name + "' (" + n.attrs.op->name + ")";
}

std::string OutputName(const Node& n, uint32_t index) {
  return "output '" + n.attrs.op->OutputNames(n.attrs).at(index) + "' of " + NodeName(n);
}

bool IsAuxState(const IndexedGraph& idx, uint32_t var_nid) {
  const auto& aux = idx.mutable_input_nodes();
  return std::binary_search(aux.begin(), aux.end(), var_nid);
}

}  // namespace

std::string DescribeVariable(const IndexedGraph& idx, uint32_t var_nid) {
  return std::string(IsAuxState(idx, var_nid) ? "auxiliary state '" : "argument '") +
         idx[var_nid].node->attrs.name + "'";
}

std::string DescribeSlot(const IndexedGraph& idx, uint32_t nid, size_t slot) {
  const Node& n = *idx[nid].node;
  const size_t num_in = idx[nid].inputs.size();
  if (slot >= num_in) return OutputName(n, static_cast<uint32_t>(slot - num_in));
  const std::string input =
      "input '" + n.attrs.op->InputNames(n.attrs).at(slot) + "' of " + NodeName(n);
  const IndexedGraph::Entry& e = idx[nid].inputs[slot];
  const Node& src = *idx[e.node_id].node;
  if (src.is_variable()) return DescribeVariable(idx, e.node_id) + " (" + input + ")";
  return input + ", " + OutputName(src, e.index);
}

std::string DescribeUse(const IndexedGraph& idx, uint32_t var_nid) {
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const auto& inputs = idx[nid].inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].node_id == var_nid) return DescribeSlot(idx, nid, i);
    }
  }
  return DescribeVariable(idx, var_nid);  // an output of the graph itself
}

}  // namespace pass
}  // namespace mx
