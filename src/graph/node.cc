#include "graph/node.h"

#include "op/op.h"

namespace mx {

// Note [Freeing deep graphs]: a node owns its inputs through shared_ptrs, so releasing the last
// reference to the head of a chain would destroy the chain recursively, one stack frame per
// node: a 200,000-node chain (a symbol loaded from JSON) overflows the stack. Instead a dying node
// takes the inputs it alone owns onto an explicit stack and, one at a time, takes theirs before
// letting them go, so each one dies with no inputs left to recurse into. An input someone else
// still holds is only released (its count drops); it is that owner's to free.
Node::~Node() {
  try {
    std::vector<NodePtr> orphans;
    auto adopt = [&orphans](std::vector<NodeEntry>* entries) {
      for (NodeEntry& e : *entries) {
        if (e.node != nullptr && e.node.use_count() == 1) orphans.push_back(std::move(e.node));
      }
    };
    adopt(&inputs);
    while (!orphans.empty()) {
      NodePtr n = std::move(orphans.back());
      orphans.pop_back();
      adopt(&n->inputs);
    }
  } catch (...) {
    // Out of memory for the stack: the inputs not yet taken are freed the recursive way.
  }
}

int Node::num_outputs() const { return is_variable() ? 1 : attrs.op->NumOutputs(attrs); }

int Node::num_visible_outputs() const {
  return is_variable() ? 1 : attrs.op->NumVisibleOutputs(attrs);
}

int Node::num_inputs() const { return is_variable() ? 0 : attrs.op->NumInputs(attrs); }

NodePtr MakeVariable(const std::string& name) {
  auto n = std::make_shared<Node>();
  n->attrs.name = name;
  return n;
}

NodePtr MakeNode(const std::string& op_name, const std::string& node_name,
                 std::vector<NodeEntry> inputs, const std::map<std::string, std::string>& params) {
  const Op* op = OpRegistry::Get()->Get(op_name);
  auto n = std::make_shared<Node>();
  n->attrs = MakeAttrs(op, params, node_name);
  const int expected = op->NumInputs(n->attrs);
  MX_CHECK(static_cast<int>(inputs.size()) == expected, kInvalidArgument)
      << "operator '" << op_name << "' (node '" << node_name << "') takes " << expected
      << " inputs, got " << inputs.size();
  n->inputs = std::move(inputs);
  return n;
}

}  // namespace mx
