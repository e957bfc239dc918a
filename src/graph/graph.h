// Graphs as passes see them: an indexed, topologically ordered view of a symbol's nodes, plus the
// attributes passes compute (shapes, types, the memory plan).
//
// Passes are named graph functions, one per file under src/graph/pass/:
//
//   Graph g = Graph::FromOutputs(net.outputs);
//   g.shapes[g.indexed().entry_id(data_nid, 0)] = Shape{128, 784};
//   size_t unknown = InferShape(&g);          // fills g.shapes for every entry
//   InferType(&g);                            // fills g.dtypes
//   PlanMemory(&g, options);                  // fills g.storage_id / g.storage_bytes
//
// Entry ids number every output of every node: node n's output i is entry_rptr[n] + i.
#ifndef MX_GRAPH_GRAPH_H_
#define MX_GRAPH_GRAPH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/shape.h"
#include "graph/node.h"
#include "op/tblob.h"

namespace mx {

class IndexedGraph {
 public:
  struct Entry {
    uint32_t node_id;
    uint32_t index;
  };
  struct INode {
    NodePtr node;  // keeps the node alive
    std::vector<Entry> inputs;
  };

  // Indexes every node reachable from `outputs`, inputs before users (depth-first, inputs in
  // order), so the nodes of a prefix of `outputs` come first.
  explicit IndexedGraph(const std::vector<NodeEntry>& outputs);

  size_t num_nodes() const { return nodes_.size(); }
  size_t num_entries() const { return entry_rptr_.back(); }
  const INode& operator[](uint32_t nid) const { return nodes_[nid]; }
  uint32_t entry_id(uint32_t nid, uint32_t index) const { return entry_rptr_[nid] + index; }
  uint32_t entry_id(const Entry& e) const { return entry_rptr_[e.node_id] + e.index; }
  // Throws mx::Error (kInternal) if `node` is not in the graph.
  uint32_t node_id(const Node* node) const;
  bool has_node(const Node* node) const { return ids_.count(node) != 0; }
  // Variable nodes, in index order.
  const std::vector<uint32_t>& input_nodes() const { return input_nodes_; }
  const std::vector<Entry>& outputs() const { return outputs_; }
  // Node ids of variables that some op mutates (auxiliary states), in index order.
  const std::vector<uint32_t>& mutable_input_nodes() const { return mutable_inputs_; }

 private:
  std::vector<INode> nodes_;
  std::vector<uint32_t> entry_rptr_;
  std::vector<uint32_t> input_nodes_, mutable_inputs_;
  std::vector<Entry> outputs_;
  std::unordered_map<const Node*, uint32_t> ids_;
};

// What the memory planner gives each entry.
constexpr int kExternalStorage = -1;  // the caller owns it (arguments, gradients, aux, outputs)
constexpr int kNullStorage = -2;      // never needed (e.g. an output nobody reads, kNull request)

struct Graph {
  std::vector<NodeEntry> outputs;

  static Graph FromOutputs(std::vector<NodeEntry> outputs);
  const IndexedGraph& indexed() const { return *indexed_; }

  // ---- pass results, indexed by entry id (shapes, dtypes, storage) or storage id (bytes) ----
  std::vector<Shape> shapes;          // InferShape; Shape::Unknown() when not known
  std::vector<int> dtypes;            // InferType; -1 when not known
  std::vector<int> storage_id;        // PlanMemory: a storage id, kExternalStorage or kNullStorage
  std::vector<int> inplace_of;        // PlanMemory: the input entry an entry overwrites, or -1
  std::vector<size_t> storage_bytes;  // PlanMemory: bytes of each storage id
  size_t planned_bytes = 0;           // PlanMemory: sum of storage_bytes
  size_t naive_bytes = 0;             // PlanMemory: one buffer per internal entry
  std::vector<Layout> layouts;        // PlanLayout: each entry's element order

 private:
  std::shared_ptr<const IndexedGraph> indexed_;
};

// ---- passes (src/graph/pass/*.cc) ----

// Fills g->shapes (pre-set entries are constraints; unknown dims are -1) by running every op's
// shape inference forward and backward until nothing changes. A variable's "__shape__" attribute
// is a hint, used only for what the constraints and the ops leave unknown. Returns the number of
// entries still unknown (partial inference is not an error). A conflict throws mx::Error naming
// the argument variable (or the node output), the node and its input, and the given vs inferred
// shapes.
size_t InferShape(Graph* g);

// The same for element types (g->dtypes).
size_t InferType(Graph* g);

// What InferShape (InferType) left unknown, for error messages: the variables first, each named
// with an op input that reads it ("argument 'fc1_weight' (input 'weight' of node 'fc1'
// (FullyConnected)) is (10,?)"), at most `max` of them. Empty when everything is known.
std::string DescribeUnknownShapes(const Graph& g, size_t max = 8);
std::string DescribeUnknownTypes(const Graph& g, size_t max = 8);

// Reverse-mode differentiation: the gradients of sum_k <ys[k], head_grads[k]> with respect to
// each of `xs`, as new graph entries built from every op's registered gradient. Gradients of an
// entry used more than once are summed (add_n, in a fixed order); a gradient that is zero is a
// null entry (pruned). `head_grads[k]` may be a null entry for a loss op, whose gradient ignores
// it.
std::vector<NodeEntry> Gradient(const std::vector<NodeEntry>& ys,
                                const std::vector<NodeEntry>& head_grads,
                                const std::vector<NodeEntry>& xs);

struct PlanOptions {
  // Entries the caller provides memory for (arguments, aux states, gradients, outputs). They are
  // never shared with anything else.
  std::vector<uint32_t> external_entries;
  // Entries no one reads and whose request is kNull (skipped outputs).
  std::vector<uint32_t> null_entries;
  // Nodes are executed in index order; entries are freed after their last reader.
};

// Assigns storage to every internal entry: first in place over an input the op allows and no one
// else reads later, then reusing storage freed by liveness with the closest size. Needs shapes
// and dtypes. Fills storage_id, inplace_of, storage_bytes, planned_bytes and naive_bytes.
void PlanMemory(Graph* g, const PlanOptions& options);

// Chooses each entry's layout (g->layouts): oneDNN's channel-blocked order for activations that
// only layout-aware ops touch (op/layout.h), plain for everything else, always for
// `external_entries` (the arrays the caller owns) and everywhere when BlockedLayouts() is off.
// Needs shapes and dtypes. Returns the number of blocked entries.
size_t PlanLayout(Graph* g, const std::vector<uint32_t>& external_entries);

// The plan as text: one line per entry (node, output, storage id, bytes) and the totals.
std::string DumpMemoryPlan(const Graph& g);

}  // namespace mx

#endif  // MX_GRAPH_GRAPH_H_
