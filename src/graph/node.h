// Graph nodes: the vocabulary shared by symbols, passes and operator gradients.
//
// A node is either a variable (no op: data, weights, labels are all just arguments) or an op
// applied to input entries. A NodeEntry names one output of a node. Gradients of ops are written as
// new nodes of other registered ops (Op::gradient), so every graph pass and executor treats
// backward exactly like forward.
#ifndef MX_GRAPH_NODE_H_
#define MX_GRAPH_NODE_H_

#include <any>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mx {

class Op;
struct Node;
using NodePtr = std::shared_ptr<Node>;

// An op's parameters: the strings the user gave, and the op's typed parameter struct parsed once
// from them (std::any holding e.g. FullyConnectedParam).
struct NodeAttrs {
  const Op* op = nullptr;
  std::string name;
  std::map<std::string, std::string> dict;  // ordered: JSON and op info print it stably
  std::any parsed;

  template <typename P>
  const P& get() const {
    return *std::any_cast<P>(&parsed);
  }
};

struct NodeEntry {
  NodePtr node;
  uint32_t index = 0;
};

struct Node {
  Node() = default;
  Node(const Node&) = default;
  Node& operator=(const Node&) = default;
  // Frees the inputs only this node holds iteratively (Note [Freeing deep graphs] in node.cc).
  ~Node();

  NodeAttrs attrs;
  std::vector<NodeEntry> inputs;
  // User attributes that are not op parameters (lr_mult, wd_mult, __shape__, ...).
  std::map<std::string, std::string> user_attrs;

  bool is_variable() const { return attrs.op == nullptr; }
  int num_outputs() const;
  // The outputs a symbol of this node exposes (Op::SetNumVisibleOutputs); hidden ones follow.
  int num_visible_outputs() const;
  int num_inputs() const;
};

// A variable node named `name`.
NodePtr MakeVariable(const std::string& name);
// An op node: looks up `op_name`, parses `params` (errors name the op and the key), connects
// `inputs`. Used by gradients and by symbol composition.
NodePtr MakeNode(const std::string& op_name, const std::string& node_name,
                 std::vector<NodeEntry> inputs,
                 const std::map<std::string, std::string>& params = {});
// Output `index` of a node made by MakeNode, in one step.
inline NodeEntry MakeEntry(const std::string& op_name, const std::string& node_name,
                           std::vector<NodeEntry> inputs,
                           const std::map<std::string, std::string>& params = {},
                           uint32_t index = 0) {
  return NodeEntry{MakeNode(op_name, node_name, std::move(inputs), params), index};
}

}  // namespace mx

#endif  // MX_GRAPH_NODE_H_
