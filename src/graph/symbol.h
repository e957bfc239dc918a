// Symbols: stateless computation graphs.
//
// A Symbol is a list of output entries of a graph of Nodes. Variables (data, weights, labels) are
// just arguments; an op symbol is created from an op name and string parameters, then composed
// with its inputs. Inputs left out become variables named "<node>_<input>":
//
//   Symbol data = Symbol::Variable("data");
//   Symbol fc = Symbol::CreateOp("FullyConnected", {{"num_hidden", "128"}});
//   fc.Compose({data}, {}, "fc1");        // arguments: data, fc1_weight, fc1_bias
//   Symbol act = Symbol::CreateOp("Activation", {{"act_type", "relu"}});
//   act.Compose({fc}, {}, "");            // auto-named "activation0"
//
// Names are given by the core, so every binding produces the same ones: an op without a name
// is called "<hint><n>" where the hint is the op name in lower case without inner underscores
// ("fullyconnected0", "_plusscalar0") and n counts per hint in this process.
#ifndef MX_GRAPH_SYMBOL_H_
#define MX_GRAPH_SYMBOL_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/node.h"

namespace mx {

class Symbol {
 public:
  std::vector<NodeEntry> outputs;

  // ---- creation ----
  static Symbol Variable(const std::string& name);
  // An op node whose inputs are bound later by Compose. Parameters are parsed now (errors name
  // the op and the key).
  static Symbol CreateOp(const std::string& op_name,
                         const std::map<std::string, std::string>& params);
  // Binds inputs. For an op symbol just created: `args` fill inputs in order, `kwargs` by input
  // name; missing inputs become variables "<name>_<input>". For any other symbol: its free
  // variables named in `kwargs` are replaced (`args` replace them in ListArguments order); the
  // graph is copied first, so other symbols sharing it are unaffected. `name` may be empty.
  void Compose(const std::vector<Symbol>& args, const std::map<std::string, Symbol>& kwargs,
               const std::string& name);
  // The outputs of several symbols as one.
  static Symbol Group(const std::vector<Symbol>& symbols);

  // ---- structure ----
  size_t NumOutputs() const { return outputs.size(); }
  Symbol operator[](size_t index) const;
  // Every output of every node, in topological order (variables included).
  Symbol GetInternals() const;
  // The inputs of this (single-output) symbol's node, as one symbol; empty for a variable.
  Symbol GetChildren() const;
  // The name of the node of a single-output symbol ("" for a group).
  std::string name() const;
  // True when this symbol is an op created by CreateOp and not composed yet.
  bool IsAtomic() const;

  // ---- listing (stable order: depth-first, inputs in order, first visit wins) ----
  std::vector<std::string> ListArguments() const;
  std::vector<std::string> ListOutputs() const;
  std::vector<std::string> ListAuxiliaryStates() const;
  // Variable nodes: all, the arguments (read-only) or the auxiliary states (mutated by ops).
  enum class InputKind { kAll, kArguments, kAuxStates };
  std::vector<NodePtr> ListInputNodes(InputKind kind) const;

  // ---- attributes (lr_mult, wd_mult, __shape__, user keys) ----
  // Sets `key` on the node of a single-output symbol (on all output nodes of a group).
  void SetAttr(const std::string& key, const std::string& value);
  // The attribute of the single output's node: op parameters first, then user attributes.
  bool GetAttr(const std::string& key, std::string* value) const;
  // Every node's user attributes, keyed "<node>$<key>" (MXNet's attr_dict flattening).
  std::map<std::string, std::map<std::string, std::string>> ListAttrs() const;

  // ---- JSON (docs/design/symbol_json.md) ----
  std::string ToJSON() const;
  // Throws mx::Error (kInvalidArgument) for malformed or inconsistent JSON.
  static Symbol FromJSON(const std::string& json);

  // Copies the graph (new nodes, same attributes): composition never changes a symbol that
  // other symbols share.
  Symbol Copy() const;
};

// Visits every node reachable from `outputs` once, inputs before the nodes that use them.
void DFSVisit(const std::vector<NodeEntry>& outputs, const std::function<void(const NodePtr&)>& fn);

// The auto-naming counters: "<hint><n>".
std::string NewNodeName(const std::string& hint);
// The hint for an op: lower case, inner underscores removed ("_plus_scalar" -> "_plusscalar").
std::string NameHint(const std::string& op_name);

}  // namespace mx

#endif  // MX_GRAPH_SYMBOL_H_
