#include "graph/symbol.h"

#include <atomic>
#include <cctype>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "op/op.h"

namespace mx {

void DFSVisit(const std::vector<NodeEntry>& outputs,
              const std::function<void(const NodePtr&)>& fn) {
  // Iterative post-order: deep networks must not overflow the stack.
  std::unordered_set<const Node*> visited;
  std::vector<std::pair<NodePtr, size_t>> stack;
  for (const NodeEntry& head : outputs) {
    if (!head.node || visited.count(head.node.get())) continue;
    stack.emplace_back(head.node, 0);
    visited.insert(head.node.get());
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const NodePtr& child = node->inputs[next++].node;
        if (child && visited.insert(child.get()).second) stack.emplace_back(child, 0);
      } else {
        fn(node);
        stack.pop_back();
      }
    }
  }
}

std::string NameHint(const std::string& op_name) {
  std::string hint;
  for (size_t i = 0; i < op_name.size(); ++i) {
    const char c = op_name[i];
    if (c == '_' && i != 0) continue;
    hint += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hint;
}

std::string NewNodeName(const std::string& hint) {
  static std::mutex mu;
  static auto* counters = new std::unordered_map<std::string, int>();
  std::lock_guard<std::mutex> lock(mu);
  return hint + std::to_string((*counters)[hint]++);
}

Symbol Symbol::Variable(const std::string& name) {
  MX_CHECK(!name.empty(), kInvalidArgument) << "a variable needs a name";
  Symbol s;
  s.outputs.push_back({MakeVariable(name), 0});
  return s;
}

Symbol Symbol::CreateOp(const std::string& op_name,
                        const std::map<std::string, std::string>& params) {
  const Op* op = OpRegistry::Get()->Get(op_name);
  auto n = std::make_shared<Node>();
  n->attrs = MakeAttrs(op, params);
  Symbol s;
  for (int i = 0; i < n->num_visible_outputs(); ++i) {
    s.outputs.push_back({n, static_cast<uint32_t>(i)});
  }
  return s;
}

bool Symbol::IsAtomic() const {
  if (outputs.empty()) return false;
  const NodePtr& n = outputs[0].node;
  // An op without inputs (zeros, ...) counts as atomic until Compose has given it a name.
  if (n->is_variable() || !n->inputs.empty()) return false;
  if (n->num_inputs() == 0 && !n->attrs.name.empty()) return false;
  for (const NodeEntry& e : outputs) {
    if (e.node != n) return false;
  }
  return true;
}

namespace {

NodeEntry SingleOutput(const Symbol& s, const std::string& what) {
  MX_CHECK(s.outputs.size() == 1, kInvalidArgument)
      << what << " must have exactly one output, got a group of " << s.outputs.size();
  // An op symbol not composed yet has no inputs: using it would leave a hole in the graph.
  const Node& n = *s.outputs[0].node;
  MX_CHECK(n.is_variable() || static_cast<int>(n.inputs.size()) == n.num_inputs(), kInvalidArgument)
      << what << " is operator '" << n.attrs.op->name << "', which has not been composed yet";
  return s.outputs[0];
}

}  // namespace

void Symbol::Compose(const std::vector<Symbol>& args, const std::map<std::string, Symbol>& kwargs,
                     const std::string& name) {
  MX_CHECK(args.empty() || kwargs.empty(), kInvalidArgument)
      << "compose takes positional or keyword inputs, not both";
  if (IsAtomic()) {
    const NodePtr& n = outputs[0].node;
    // The node changes only once every check has passed: a failed compose leaves it as it was.
    const std::string node_name = name.empty() ? NewNodeName(NameHint(n->attrs.op->name)) : name;
    const std::vector<std::string> in_names = n->attrs.op->InputNames(n->attrs);
    MX_CHECK(args.size() <= in_names.size(), kInvalidArgument)
        << "operator '" << n->attrs.op->name << "' (node '" << node_name << "') takes "
        << in_names.size() << " inputs, got " << args.size();
    std::vector<NodeEntry> inputs(in_names.size());
    for (size_t i = 0; i < args.size(); ++i) {
      inputs[i] = SingleOutput(args[i], "input '" + in_names[i] + "'");
    }
    size_t used = 0;
    for (size_t i = 0; i < in_names.size(); ++i) {
      auto it = kwargs.find(in_names[i]);
      if (it == kwargs.end()) continue;
      inputs[i] = SingleOutput(it->second, "input '" + in_names[i] + "'");
      ++used;
    }
    if (used != kwargs.size()) {
      for (const auto& kv : kwargs) {
        bool known = false;
        for (const auto& in : in_names) known = known || in == kv.first;
        if (known) continue;
        std::string valid;
        for (const auto& in : in_names) valid += (valid.empty() ? "" : ", ") + in;
        MX_THROW(kInvalidArgument)
            << "operator '" << n->attrs.op->name << "' (node '" << node_name << "') has no input '"
            << kv.first << "'; its inputs are: " << valid;
      }
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].node) inputs[i] = {MakeVariable(node_name + "_" + in_names[i]), 0};
    }
    n->attrs.name = node_name;
    n->inputs = std::move(inputs);
    return;
  }
  // A composed graph: replace free variables by name (keywords) or in argument order.
  Symbol copy = Copy();
  std::map<std::string, NodeEntry> replace;
  if (!args.empty()) {
    const std::vector<std::string> arg_names = copy.ListArguments();
    MX_CHECK(args.size() <= arg_names.size(), kInvalidArgument)
        << "compose: " << args.size() << " inputs given but the symbol has " << arg_names.size()
        << " arguments";
    for (size_t i = 0; i < args.size(); ++i) {
      replace[arg_names[i]] = SingleOutput(args[i], "argument '" + arg_names[i] + "'");
    }
  }
  for (const auto& kv : kwargs) replace[kv.first] = SingleOutput(kv.second, kv.first);
  size_t replaced = 0;
  std::unordered_set<std::string> seen;
  DFSVisit(copy.outputs, [&](const NodePtr& node) {
    for (NodeEntry& e : node->inputs) {
      if (!e.node->is_variable()) continue;
      auto it = replace.find(e.node->attrs.name);
      if (it == replace.end()) continue;
      if (seen.insert(it->first).second) ++replaced;
      e = it->second;
    }
  });
  for (NodeEntry& e : copy.outputs) {
    auto it = e.node->is_variable() ? replace.find(e.node->attrs.name) : replace.end();
    if (it != replace.end()) {
      if (seen.insert(it->first).second) ++replaced;
      e = it->second;
    }
  }
  if (replaced != replace.size()) {
    std::string unknown, known;
    for (const auto& kv : replace) {
      if (!seen.count(kv.first)) unknown += (unknown.empty() ? "'" : ", '") + kv.first + "'";
    }
    for (const auto& a : ListArguments()) known += (known.empty() ? "" : ", ") + a;
    MX_THROW(kInvalidArgument) << "compose: " << unknown
                               << " names no argument of the symbol (arguments: " << known << ")";
  }
  outputs = std::move(copy.outputs);
  (void)name;  // a composed graph keeps its node names
}

Symbol Symbol::Group(const std::vector<Symbol>& symbols) {
  Symbol g;
  for (const Symbol& s : symbols)
    g.outputs.insert(g.outputs.end(), s.outputs.begin(), s.outputs.end());
  return g;
}

Symbol Symbol::operator[](size_t index) const {
  MX_CHECK(index < outputs.size(), kInvalidArgument)
      << "output index " << index << " is out of range: the symbol has " << outputs.size()
      << " outputs";
  Symbol s;
  s.outputs.push_back(outputs[index]);
  return s;
}

Symbol Symbol::GetInternals() const {
  Symbol s;
  DFSVisit(outputs, [&s](const NodePtr& n) {
    for (int i = 0; i < n->num_visible_outputs(); ++i) {
      s.outputs.push_back({n, static_cast<uint32_t>(i)});
    }
  });
  return s;
}

Symbol Symbol::GetChildren() const {
  const NodeEntry e = SingleOutput(*this, "get_children's symbol");
  Symbol s;
  s.outputs = e.node->inputs;
  return s;
}

std::string Symbol::name() const {
  return outputs.size() == 1 ? outputs[0].node->attrs.name : std::string();
}

std::vector<NodePtr> Symbol::ListInputNodes(InputKind kind) const {
  // Auxiliary states are the variables some op mutates.
  std::unordered_set<const Node*> mutated;
  DFSVisit(outputs, [&](const NodePtr& n) {
    if (n->is_variable() || !n->attrs.op->mutate_inputs) return;
    for (int i : n->attrs.op->mutate_inputs(n->attrs)) mutated.insert(n->inputs.at(i).node.get());
  });
  std::vector<NodePtr> out;
  DFSVisit(outputs, [&](const NodePtr& n) {
    if (!n->is_variable()) return;
    const bool aux = mutated.count(n.get()) != 0;
    if (kind == InputKind::kAll || (kind == InputKind::kAuxStates) == aux) out.push_back(n);
  });
  return out;
}

std::vector<std::string> Symbol::ListArguments() const {
  std::vector<std::string> names;
  for (const NodePtr& n : ListInputNodes(InputKind::kArguments)) names.push_back(n->attrs.name);
  return names;
}

std::vector<std::string> Symbol::ListAuxiliaryStates() const {
  std::vector<std::string> names;
  for (const NodePtr& n : ListInputNodes(InputKind::kAuxStates)) names.push_back(n->attrs.name);
  return names;
}

std::vector<std::string> Symbol::ListOutputs() const {
  std::vector<std::string> names;
  for (const NodeEntry& e : outputs) {
    if (e.node->is_variable()) {
      names.push_back(e.node->attrs.name);
    } else {
      names.push_back(e.node->attrs.name + "_" +
                      e.node->attrs.op->OutputNames(e.node->attrs).at(e.index));
    }
  }
  return names;
}

void Symbol::SetAttr(const std::string& key, const std::string& value) {
  MX_CHECK(!outputs.empty(), kInvalidArgument) << "cannot set an attribute on an empty symbol";
  for (const NodeEntry& e : outputs) {
    MX_CHECK(e.node->is_variable() || !e.node->attrs.dict.count(key), kInvalidArgument)
        << "'" << key << "' is a parameter of operator '" << e.node->attrs.op->name
        << "' and cannot be changed as an attribute";
    e.node->user_attrs[key] = value;
  }
}

bool Symbol::GetAttr(const std::string& key, std::string* value) const {
  if (outputs.size() != 1) return false;
  const Node& n = *outputs[0].node;
  auto it = n.attrs.dict.find(key);
  if (it != n.attrs.dict.end()) {
    *value = it->second;
    return true;
  }
  auto ut = n.user_attrs.find(key);
  if (ut == n.user_attrs.end()) return false;
  *value = ut->second;
  return true;
}

std::map<std::string, std::map<std::string, std::string>> Symbol::ListAttrs() const {
  std::map<std::string, std::map<std::string, std::string>> out;
  DFSVisit(outputs, [&](const NodePtr& n) {
    auto& m = out[n->attrs.name];
    for (const auto& kv : n->attrs.dict) m[kv.first] = kv.second;
    for (const auto& kv : n->user_attrs) m[kv.first] = kv.second;
    if (m.empty()) out.erase(n->attrs.name);
  });
  return out;
}

Symbol Symbol::Copy() const {
  std::unordered_map<const Node*, NodePtr> copies;
  DFSVisit(outputs, [&](const NodePtr& n) {
    auto c = std::make_shared<Node>(*n);
    for (NodeEntry& e : c->inputs) e.node = copies.at(e.node.get());
    copies[n.get()] = c;
  });
  Symbol s;
  for (const NodeEntry& e : outputs) s.outputs.push_back({copies.at(e.node.get()), e.index});
  return s;
}

}  // namespace mx
