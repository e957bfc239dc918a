// Helpers for the graph pass tests: building small graphs by hand and evaluating them
// imperatively (every node Invoked in topological order), so gradients can be checked against
// finite differences without an executor.
#ifndef MX_TESTS_CPP_GRAPH_GRAPH_TEST_UTIL_H_
#define MX_TESTS_CPP_GRAPH_GRAPH_TEST_UTIL_H_

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/graph.h"
#include "ndarray/ndarray.h"
#include "op/invoke.h"
#include "op/op.h"

namespace mx {
namespace test {

inline bool HasOp(const std::string& name) { return OpRegistry::Get()->Find(name) != nullptr; }

// A variable entry, optionally with a "__shape__" attribute.
inline NodeEntry Var(const std::string& name, const std::string& shape = "") {
  NodePtr v = MakeVariable(name);
  if (!shape.empty()) v->user_attrs["__shape__"] = shape;
  return NodeEntry{v, 0};
}

// Output `index` of a new node of `op`.
inline NodeEntry Apply(const std::string& op, const std::string& name,
                       std::vector<NodeEntry> inputs,
                       const std::map<std::string, std::string>& params = {}, uint32_t index = 0) {
  return MakeEntry(op, name, std::move(inputs), params, index);
}

inline NDArray MakeArray(const Shape& shape, const std::vector<double>& values,
                         DType dtype = DType::kFloat64) {
  NDArray a64(shape, Context::CPU(), DType::kFloat64);
  a64.SyncCopyFromCPU(values.data(), values.size());
  if (dtype == DType::kFloat64) return a64;
  NDArray a(shape, Context::CPU(), dtype);
  NDArray::CopyFromTo(a64, a);
  return a;
}

inline std::vector<double> ToVector(const NDArray& a) {
  NDArray d(a.shape(), Context::CPU(), DType::kFloat64);
  NDArray::CopyFromTo(a, d);
  std::vector<double> v(static_cast<size_t>(a.Size()));
  d.SyncCopyToCPU(v.data(), v.size());
  return v;
}

// Evaluates `outputs` given the values of the variables (by node name). Nodes are run in the
// indexed (topological) order, so deep graphs do not recurse.
inline std::vector<NDArray> Evaluate(const std::vector<NodeEntry>& outputs,
                                     const std::map<std::string, NDArray>& vars,
                                     bool is_train = true) {
  IndexedGraph idx(outputs);
  std::vector<std::vector<NDArray>> values(idx.num_nodes());
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const Node& n = *idx[nid].node;
    if (n.is_variable()) {
      auto it = vars.find(n.attrs.name);
      if (it == vars.end()) throw std::runtime_error("unbound variable " + n.attrs.name);
      values[nid] = {it->second};
      continue;
    }
    std::vector<NDArray> ins;
    for (const IndexedGraph::Entry& e : idx[nid].inputs) ins.push_back(values[e.node_id][e.index]);
    Invoke(n.attrs, ins, &values[nid], is_train);
  }
  std::vector<NDArray> out;
  for (const IndexedGraph::Entry& e : idx.outputs()) out.push_back(values[e.node_id][e.index]);
  return out;
}

// The op names of every node reachable from `outputs`, in topological order.
inline std::vector<std::string> OpNames(const std::vector<NodeEntry>& outputs) {
  IndexedGraph idx(outputs);
  std::vector<std::string> names;
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const Node& n = *idx[nid].node;
    names.push_back(n.is_variable() ? "var:" + n.attrs.name : n.attrs.op->name);
  }
  return names;
}

}  // namespace test
}  // namespace mx

#endif  // MX_TESTS_CPP_GRAPH_GRAPH_TEST_UTIL_H_
