// Symbol JSON: round trips, the documented format, every kind of bad input, and a fuzz pass that
// truncates and corrupts a document (errors or valid symbols, never a crash).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "graph/symbol.h"
#include "op/op.h"

namespace mx {
namespace {

using Strings = std::vector<std::string>;

Symbol Apply(const std::string& op, const std::vector<Symbol>& args,
             const std::map<std::string, std::string>& params = {}, const std::string& name = "") {
  Symbol s = Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

// A small graph with parameters, user attributes, a shared input and a two-output node.
Symbol SmallNet() {
  Symbol a = Symbol::Variable("a"), b = Symbol::Variable("b");
  a.SetAttr("lr_mult", "2");
  Symbol sum = Apply("elemwise_add", {a, b}, {}, "sum");
  sum.SetAttr("ctx_group", "dev1");
  Symbol scaled = Apply("_div_scalar", {sum}, {{"scalar", "10"}}, "scaled");
  Symbol bw = Apply("_backward_elemwise_mul", {scaled, a, b}, {}, "bw");
  return Symbol::Group({Apply("_plus_scalar", {bw[1]}, {{"scalar", "1"}}, "out"), bw[0]});
}

std::string ErrorOf(const std::string& json) {
  try {
    Symbol::FromJSON(json);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_JSON_ERROR(json, part)                                           \
  do {                                                                          \
    const std::string msg = ErrorOf(json);                                      \
    EXPECT_NE(msg.find(part), std::string::npos)                                \
        << "JSON: " << (json) << "\nmessage: '" << msg << "' lacks " << (part); \
  } while (0)

// A document around `nodes` (the JSON of the nodes array's contents) with computed arg_nodes.
std::string Doc(const std::string& nodes, const std::string& arg_nodes, const std::string& heads) {
  return "{\"nodes\": [" + nodes + "], \"arg_nodes\": [" + arg_nodes + "], \"heads\": [" + heads +
         "]}";
}

const char* kVarA = R"({"op": "null", "name": "a", "inputs": []})";

TEST(SymbolJSON, RoundTripKeepsEverything) {
  const Symbol s = SmallNet();
  const std::string json = s.ToJSON();
  const Symbol t = Symbol::FromJSON(json);
  EXPECT_EQ(t.ToJSON(), json);
  EXPECT_EQ(t.ListArguments(), s.ListArguments());
  EXPECT_EQ(t.ListOutputs(), s.ListOutputs());
  EXPECT_EQ(t.ListAttrs(), s.ListAttrs());
  std::string v;
  const Symbol internals = t.GetInternals();
  ASSERT_TRUE(internals[0].GetAttr("lr_mult", &v));
  EXPECT_EQ(v, "2");
  // Parameters were parsed again, not just copied as strings.
  DFSVisit(t.outputs, [](const NodePtr& n) {
    if (n->is_variable()) return;
    EXPECT_EQ(n->attrs.op, OpRegistry::Get()->Find(n->attrs.op->name));
    if (!n->attrs.dict.empty()) {
      EXPECT_TRUE(n->attrs.parsed.has_value()) << n->attrs.name;
    }
  });
  // Loading gives fresh nodes: changing the copy leaves the original alone.
  Symbol(t[0]).SetAttr("tag", "x");
  EXPECT_FALSE(Symbol(s[0]).GetAttr("tag", &v));
}

TEST(SymbolJSON, DocumentedFormat) {
  Symbol a = Symbol::Variable("A");
  a.SetAttr("lr_mult", "0.5");
  const std::string json = Apply("_plus_scalar", {a}, {{"scalar", "1"}}, "p").ToJSON();
  for (const char* part :
       {R"("op": "null")", R"("name": "A")", R"("user_attrs": {"lr_mult": "0.5"})",
        R"("op": "_plus_scalar")", R"("attrs": {"scalar": "1"})", R"("inputs": [[0, 0, 0]])",
        R"("arg_nodes": [0])", R"("node_row_ptr": [0, 1, 2])", R"("heads": [[1, 0, 0]])",
        R"("format_version": ["int", 1])", R"("mx_version": ["int", )"}) {
    EXPECT_NE(json.find(part), std::string::npos) << part << " not in\n" << json;
  }
}

TEST(SymbolJSON, MLPRoundTrip) {
  for (const char* op : {"FullyConnected", "Activation", "SoftmaxOutput"}) {
    if (OpRegistry::Get()->Find(op) == nullptr) GTEST_SKIP() << op << " is not registered yet";
  }
  Symbol data = Symbol::Variable("data");
  Symbol fc1 = Apply("FullyConnected", {data}, {{"num_hidden", "128"}}, "fc1");
  Symbol act = Apply("Activation", {fc1}, {{"act_type", "relu"}}, "relu1");
  Symbol w2 = Symbol::Variable("fc2_weight");
  w2.SetAttr("lr_mult", "0.1");
  Symbol fc2 = Apply("FullyConnected", {act, w2}, {{"num_hidden", "10"}}, "fc2");
  Symbol net = Apply("SoftmaxOutput", {fc2}, {}, "softmax");
  const Strings args{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias", "softmax_label"};
  ASSERT_EQ(net.ListArguments(), args);
  const Symbol t = Symbol::FromJSON(net.ToJSON());
  EXPECT_EQ(t.ListArguments(), args);
  EXPECT_EQ(t.ListOutputs(), (Strings{"softmax_output"}));
  EXPECT_EQ(t.ListAttrs(), net.ListAttrs());
  EXPECT_EQ(t.ToJSON(), net.ToJSON());
  std::string v;
  EXPECT_TRUE(t.GetChildren()[0].GetAttr("num_hidden", &v));
  EXPECT_EQ(v, "10");
}

TEST(SymbolJSON, EscapesAndEmptySymbols) {
  Symbol odd = Symbol::Variable("q\"uo\\te\n\t\x01 \xc3\xa9");
  odd.SetAttr("k\x1f", "v\"");
  const Symbol t = Symbol::FromJSON(odd.ToJSON());
  EXPECT_EQ(t.name(), odd.name());
  EXPECT_EQ(t.ListAttrs(), odd.ListAttrs());
  EXPECT_EQ(Symbol::FromJSON(R"({"nodes": [{"op": "null", "name": "\u00e9\ud83d\ude00\/",)"
                             R"( "inputs": []}], "arg_nodes": [0], "heads": [[0, 0, 0]]})")
                .name(),
            "\xc3\xa9\xf0\x9f\x98\x80/");
  EXPECT_EQ(Symbol::FromJSON(Symbol::Group({}).ToJSON()).NumOutputs(), 0u);
}

TEST(SymbolJSON, ReadsMXNetConventions) {
  // MXNet kept variable attributes under "attrs" and user attributes of ops as "__key__"; files
  // without format_version or node_row_ptr are format 1.
  const std::string json = Doc(
      R"J({"op": "null", "name": "w", "attrs": {"__shape__": "(2,3)"}, "inputs": []},
         {"op": "_mul_scalar", "name": "m", "attrs": {"scalar": "2", "__lr_mult__": "3"},
          "inputs": [[0, 0, 0]]})J",
      "0", "[1, 0, 0]");
  const Symbol s = Symbol::FromJSON(json);
  EXPECT_EQ(s.ListAttrs().at("w").at("__shape__"), "(2,3)");
  EXPECT_EQ(s.outputs[0].node->user_attrs.at("__lr_mult__"), "3");
  EXPECT_EQ(s.outputs[0].node->attrs.dict.size(), 1u);
}

TEST(SymbolJSON, RejectsBadDocumentsNamingTheProblem) {
  const std::string mul = R"({"op": "_mul_scalar", "name": "m", "attrs": {"scalar": "2"}, )";
  EXPECT_JSON_ERROR("", "unexpected end of input");
  EXPECT_JSON_ERROR("not json", "not valid JSON");
  EXPECT_JSON_ERROR("{\"nodes\": [}", "line 1, column 12");
  EXPECT_JSON_ERROR("{} {}", "after the document");
  EXPECT_JSON_ERROR("[]", "the document: expected an object, got an array");
  EXPECT_JSON_ERROR("{\"a\": 1, \"a\": 2}", "duplicate key 'a'");
  EXPECT_JSON_ERROR("{\"heads\": [], \"arg_nodes\": []}", "missing key 'nodes'");
  EXPECT_JSON_ERROR("{\"nodes\": {}, \"heads\": [], \"arg_nodes\": []}",
                    "nodes: expected an array, got an object");
  EXPECT_JSON_ERROR("{\"nodes\": [], \"arg_nodes\": []}", "missing key 'heads'");
  EXPECT_JSON_ERROR(Doc(R"({"name": "a", "inputs": []})", "0", ""), "nodes[0]: missing key 'op'");
  EXPECT_JSON_ERROR(Doc(R"({"op": "null", "name": 5, "inputs": []})", "0", ""),
                    "nodes[0].name: expected a string, got a number");
  EXPECT_JSON_ERROR(Doc(R"({"op": "null", "name": "", "inputs": []})", "0", ""), "non-empty name");
  EXPECT_JSON_ERROR(Doc(R"({"op": "null", "name": "a", "inputs": [], "attrs": {"k": 1}})", "0", ""),
                    "nodes[0].attrs.k: expected a string");
  // Graph structure.
  EXPECT_JSON_ERROR(Doc(mul + R"("inputs": [[1, 0, 0]]}, )" + kVarA, "1", "[0, 0, 0]"),
                    "nodes[0].inputs[0]: node id 1 is not an earlier node");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[1, 0, 0]]})", "0", "[1, 0, 0]"),
      "nodes[1].inputs[0]: node id 1 is not an earlier node");  // a cycle
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[-1, 0, 0]]})", "0", ""),
                    "node id -1");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0, 1, 0]]})", "0", ""),
      "nodes[1].inputs[0]: output index 1 is out of range: node 0 ('a') has 1 output");
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0.5, 0, 0]]})", "0", ""),
                    "nodes[1].inputs[0][0]: expected an integer, got 0.5");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0, 99999999999999999999, 0]]})", "0",
          ""),
      "expected an integer");
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0]]})", "0", ""),
                    "expected [node_id, output_index, 0]");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0, 0, 0], [0, 0, 0]]})", "0", ""),
      "nodes[1] ('m'): operator '_mul_scalar' takes 1 inputs, got 2");
  EXPECT_JSON_ERROR(Doc(R"({"op": "null", "name": "a", "inputs": [[0, 0, 0]]})", "0", ""),
                    "a variable has no inputs");
  // Operators and their parameters.
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + R"(, {"op": "no_such_op", "name": "x", "inputs": []})", "0", ""),
      "nodes[1] ('x'): unknown operator 'no_such_op'");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + R"(, {"op": "_mul_scalar", "name": "x",)"
                               R"( "attrs": {"scalar": "big"}, "inputs": [[0, 0, 0]]})",
          "0", ""),
      "scalar");
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + R"(, {"op": "_mul_scalar", "name": "x",)"
                                             R"( "attrs": {"scalar": "1", "scaler": "2"},)"
                                             R"( "inputs": [[0, 0, 0]]})",
                        "0", ""),
                    "scaler");
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + ", " + mul +
                            R"("user_attrs": {"scalar": "3"}, "inputs": [[0, 0, 0]]})",
                        "0", ""),
                    "'scalar' is both a parameter and a user attribute");
  // arg_nodes, node_row_ptr, heads, versions.
  EXPECT_JSON_ERROR(Doc(kVarA, "", ""), "arg_nodes: lists 0 nodes but the graph has 1 variables");
  EXPECT_JSON_ERROR(Doc(kVarA, "0, 0", ""), "arg_nodes[1]: node 0 is listed twice");
  EXPECT_JSON_ERROR(Doc(kVarA, "3", ""), "arg_nodes[0]: node id 3 is out of range");
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0, 0, 0]]})", "0, 1", ""),
                    "arg_nodes[1]: node 1 ('m') is an operator");
  EXPECT_JSON_ERROR(Doc(kVarA, "0", "[1, 0, 0]"), "heads[0]: node id 1 is out of range");
  EXPECT_JSON_ERROR(Doc(kVarA, "0", "[0, 2, 0]"), "heads[0]: output index 2 is out of range");
  EXPECT_JSON_ERROR(Doc(kVarA, "0", "5"), "heads[0]: expected an array, got a number");
  // Entries are three numbers: a two-number head or input is damage, not a shorthand.
  EXPECT_JSON_ERROR(Doc(kVarA, "0", "[0, 0]"),
                    "heads[0]: expected [node_id, output_index, 0], got 2 elements");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0, 0]]})", "0", "[1, 0, 0]"),
      "nodes[1].inputs[0]: expected [node_id, output_index, 0], got 2 elements");
  EXPECT_JSON_ERROR(
      Doc(std::string(kVarA) + ", " + mul + R"("inputs": [[0, 0, 0, 0]]})", "0", "[1, 0, 0]"),
      "got 4 elements");
  // Two variables of one name would share every shape, type and array given by that name.
  EXPECT_JSON_ERROR(Doc(std::string(kVarA) + ", " + kVarA, "0, 1", "[0, 0, 0], [1, 0, 0]"),
                    "nodes[1]: variable 'a' is already nodes[0]: variable names must be unique");
  std::string rows = Symbol::Variable("a").ToJSON();
  rows.replace(rows.find("[0, 1]"), 6, "[0, 2]");
  EXPECT_JSON_ERROR(rows, "node_row_ptr[1]: expected 1");
  std::string future = Symbol::Variable("a").ToJSON();
  const std::string v1 = "\"format_version\": [\"int\", 1]";
  future.replace(future.find(v1), v1.size(), "\"format_version\": [\"int\", 99]");
  EXPECT_JSON_ERROR(future, "attrs.format_version: format version 99 is not supported");
  // Hostile nesting and strings.
  EXPECT_JSON_ERROR(std::string(100000, '['), "nesting deeper than");
  EXPECT_JSON_ERROR("{\"nodes\": \"\\x\"}", "bad escape");
  EXPECT_JSON_ERROR("{\"nodes\": \"\\ud800\"}", "unpaired surrogate");
  EXPECT_JSON_ERROR(std::string("{\"nodes\": \"a\nb\"}"), "control character");
  EXPECT_JSON_ERROR("{\"nodes\": 01}", "expected '}'");
  EXPECT_JSON_ERROR("{\"nodes\": -}", "expected a digit");
  // After all that, loading still works.
  EXPECT_EQ(Symbol::FromJSON(SmallNet().ToJSON()).ListArguments(), (Strings{"a", "b"}));
}

// Counts in parameters are bounded, and must match the inputs the file gives: a file saying
// "num_args": "1000000000" is an error at once (it used to build a billion input names).
TEST(SymbolJSON, AbsurdCountsAreErrors) {
  auto node = [](const std::string& op, const std::string& attrs, const std::string& inputs) {
    return Doc(std::string(kVarA) + R"(, {"op": ")" + op + R"(", "name": "n", "attrs": )" + attrs +
                   R"(, "inputs": )" + inputs + "}",
               "0", "[1, 0, 0]");
  };
  EXPECT_JSON_ERROR(node("Concat", R"({"num_args": "1000000000"})", "[[0, 0, 0]]"), "num_args");
  EXPECT_JSON_ERROR(node("Concat", R"({"num_args": "1000000000"})", "[[0, 0, 0]]"), "65536");
  EXPECT_JSON_ERROR(node("Concat", R"({"num_args": "3"})", "[[0, 0, 0]]"),
                    "nodes[1] ('n'): operator 'Concat' takes 3 inputs, got 1");
  EXPECT_JSON_ERROR(node("add_n", R"({"num_args": "2147483647"})", "[[0, 0, 0]]"), "num_args");
  EXPECT_JSON_ERROR(node("ElementWiseSum", R"({"num_args": "99999999999"})", "[[0, 0, 0]]"),
                    "num_args");
  EXPECT_JSON_ERROR(node("SliceChannel", R"({"num_outputs": "1000000000"})", "[[0, 0, 0]]"),
                    "num_outputs");
  EXPECT_JSON_ERROR(
      node("UpSampling", R"({"num_args": "1000000000", "scale": "2", "sample_type": "nearest"})",
           "[[0, 0, 0]]"),
      "num_args");
  EXPECT_JSON_ERROR(node("Concat", R"({"num_args": "-1"})", "[]"), "num_args");
}

// Every prefix and many single-character corruptions either load or throw mx::Error.
TEST(SymbolJSON, FuzzTruncatedAndCorrupted) {
  const std::string json = SmallNet().ToJSON();
  size_t loaded = 0, rejected = 0;
  auto attempt = [&](const std::string& text) {
    try {
      const Symbol s = Symbol::FromJSON(text);
      ++loaded;
      // Whatever loads is a consistent graph: it lists, saves and loads again.
      s.ListArguments();
      s.ListOutputs();
      EXPECT_EQ(Symbol::FromJSON(s.ToJSON()).ToJSON(), s.ToJSON());
    } catch (const Error& e) {
      ++rejected;
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    }
  };
  for (size_t n = 0; n < json.size(); ++n) attempt(json.substr(0, n));
  const std::string replacements = std::string("x\"[]{},:0179-.e\\ ") + '\0' + "\xff";
  for (size_t i = 0; i < json.size(); ++i) {
    for (const char r : replacements) {
      std::string text = json;
      text[i] = r;
      attempt(text);
    }
  }
  // Random multi-byte damage, reproducible from the printed seed.
  const unsigned seed = std::random_device{}();
  std::printf("fuzz seed %u\n", seed);
  std::mt19937 rng(seed);
  for (int k = 0; k < 2000; ++k) {
    std::string text = json;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          text.erase(pos, 1 + rng() % 8);
          break;
        default:
          text.insert(pos, 1, replacements[rng() % replacements.size()]);
      }
      if (text.empty()) text = "{";
    }
    attempt(text);
  }
  EXPECT_GT(loaded, 0u);  // e.g. a changed digit in a parameter value
  EXPECT_GT(rejected, json.size());
}

}  // namespace
}  // namespace mx
