#include "graph/node.h"

#include "op/op.h"

namespace mx {

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
