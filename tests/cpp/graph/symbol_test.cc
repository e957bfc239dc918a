// Symbols: creation, composition, auto-naming, listing, structure, attributes and their errors.
#include "graph/symbol.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "op/op.h"

namespace mx {
namespace {

using Strings = std::vector<std::string>;

// op(args...) composed positionally; `name` empty means auto-named.
Symbol Apply(const std::string& op, const std::vector<Symbol>& args,
             const std::map<std::string, std::string>& params = {}, const std::string& name = "") {
  Symbol s = Symbol::CreateOp(op, params);
  s.Compose(args, {}, name);
  return s;
}

Symbol Scalar(const std::string& op, const Symbol& x, const std::string& value) {
  return Apply(op, {x}, {{"scalar", value}});
}

// The number after `prefix` in `name`, or -1 when `name` is not prefix + digits.
int Counter(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0 || name.size() == prefix.size()) return -1;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
  }
  return std::stoi(name.substr(prefix.size()));
}

// Runs `f`, expecting mx::Error with `code` whose message contains every one of `parts`.
template <typename F>
void ExpectError(F&& f, ErrorCode code, const Strings& parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << parts.at(0) << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' does not mention '" << p << "'";
  }
}

bool Has(const std::string& op) { return OpRegistry::Get()->Find(op) != nullptr; }

TEST(Symbol, SeedExample) {
  // c = (a + b) / 10 + 1
  Symbol a = Symbol::Variable("A"), b = Symbol::Variable("B");
  Symbol sum = Apply("elemwise_add", {a, b});
  Symbol c = Scalar("_plus_scalar", Scalar("_div_scalar", sum, "10"), "1");
  EXPECT_EQ(c.ListArguments(), (Strings{"A", "B"}));
  EXPECT_TRUE(c.ListAuxiliaryStates().empty());
  const Strings outs = c.ListOutputs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_GE(Counter(c.name(), "_plusscalar"), 0) << c.name();
  EXPECT_EQ(outs[0], c.name() + "_output");
  EXPECT_GE(Counter(sum.name(), "elemwiseadd"), 0) << sum.name();
  EXPECT_GE(Counter(c.GetChildren().name(), "_divscalar"), 0);
}

TEST(Symbol, AutoNamesCountPerHint) {
  Symbol x = Symbol::Variable("x");
  Symbol p1 = Scalar("_plus_scalar", x, "1");
  Symbol m = Scalar("_mul_scalar", p1, "2");
  Symbol p2 = Scalar("_plus_scalar", m, "3");
  const int n = Counter(p1.name(), "_plusscalar");
  ASSERT_GE(n, 0);
  EXPECT_EQ(p2.name(), "_plusscalar" + std::to_string(n + 1));  // _mul_scalar has its own counter
  EXPECT_GE(Counter(m.name(), "_mulscalar"), 0);
  EXPECT_EQ(Apply("exp", {x}, {}, "given").name(), "given");
  EXPECT_EQ(NameHint("FullyConnected"), "fullyconnected");
  EXPECT_EQ(NameHint("_plus_scalar"), "_plusscalar");
}

TEST(Symbol, MissingInputsBecomeNamedVariables) {
  Symbol x = Symbol::Variable("x");
  Symbol s = Symbol::CreateOp("elemwise_mul", {});
  s.Compose({}, {{"lhs", x}}, "layer1");
  EXPECT_EQ(s.ListArguments(), (Strings{"x", "layer1_rhs"}));
  Symbol none = Symbol::CreateOp("elemwise_add", {});
  none.Compose({}, {}, "both");
  EXPECT_EQ(none.ListArguments(), (Strings{"both_lhs", "both_rhs"}));
}

TEST(Symbol, FullyConnectedNamesItsWeights) {
  if (!Has("FullyConnected")) GTEST_SKIP() << "FullyConnected is not registered yet";
  Symbol data = Symbol::Variable("data");
  Symbol fc = Apply("FullyConnected", {data}, {{"num_hidden", "8"}}, "fc1");
  EXPECT_EQ(fc.ListArguments(), (Strings{"data", "fc1_weight", "fc1_bias"}));
  EXPECT_EQ(fc.ListOutputs(), (Strings{"fc1_output"}));
  Symbol auto_fc = Apply("FullyConnected", {fc}, {{"num_hidden", "4"}});
  EXPECT_GE(Counter(auto_fc.name(), "fullyconnected"), 0) << auto_fc.name();
  EXPECT_EQ(auto_fc.ListArguments().back(), auto_fc.name() + "_bias");
}

TEST(Symbol, KeywordCompositionFollowsInputOrder) {
  Symbol a = Symbol::Variable("a"), b = Symbol::Variable("b");
  Symbol d = Symbol::CreateOp("elemwise_sub", {});
  d.Compose({}, {{"rhs", a}, {"lhs", b}}, "d");
  EXPECT_EQ(d.ListArguments(), (Strings{"b", "a"}));
  EXPECT_EQ(d.GetChildren().ListOutputs(), (Strings{"b", "a"}));
}

TEST(Symbol, ComposingAGraphReplacesItsVariables) {
  Symbol data = Symbol::Variable("data");
  Symbol net = Scalar("_plus_scalar", Apply("exp", {data}), "1");
  const std::string net_json = net.ToJSON();
  Symbol other = Symbol::Variable("other");
  Symbol net2 = net;
  net2.Compose({}, {{"data", Apply("sqrt", {other})}}, "");
  EXPECT_EQ(net2.ListArguments(), (Strings{"other"}));
  EXPECT_EQ(net2.name(), net.name());                 // a composed graph keeps its node names
  EXPECT_EQ(net.ListArguments(), (Strings{"data"}));  // the original is untouched
  EXPECT_EQ(net.ToJSON(), net_json);
  Symbol net3 = net;
  net3.Compose({Symbol::Variable("pos")}, {}, "");
  EXPECT_EQ(net3.ListArguments(), (Strings{"pos"}));
  // A variable used twice is replaced everywhere.
  Symbol sq = Apply("elemwise_mul", {data, data});
  sq.Compose({}, {{"data", other}}, "");
  EXPECT_EQ(sq.ListArguments(), (Strings{"other"}));
}

TEST(Symbol, GroupsInternalsChildrenAndOutputs) {
  Symbol x = Symbol::Variable("x"), y = Symbol::Variable("y");
  Symbol e = Apply("exp", {x}, {}, "e");
  Symbol s = Apply("elemwise_add", {e, y}, {}, "s");
  Symbol g = Symbol::Group({s, e});
  EXPECT_EQ(g.NumOutputs(), 2u);
  EXPECT_EQ(g.ListOutputs(), (Strings{"s_output", "e_output"}));
  EXPECT_EQ(g.ListArguments(), (Strings{"x", "y"}));
  EXPECT_EQ(g.name(), "");
  EXPECT_EQ(g[1].name(), "e");
  EXPECT_EQ(s.GetInternals().ListOutputs(), (Strings{"x", "e_output", "y", "s_output"}));
  EXPECT_EQ(s.GetChildren().ListOutputs(), (Strings{"e_output", "y"}));
  EXPECT_EQ(x.GetChildren().NumOutputs(), 0u);
  // A two-output op lists both outputs and its children.
  Symbol bw = Apply("_backward_elemwise_mul", {y, x, e}, {}, "bw");
  EXPECT_EQ(bw.NumOutputs(), 2u);
  EXPECT_EQ(bw.ListOutputs().size(), 2u);
  EXPECT_EQ(bw.GetInternals().NumOutputs(), 5u);  // y, x, e's x already seen, e, bw x2
}

TEST(Symbol, Attributes) {
  Symbol w = Symbol::Variable("w");
  w.SetAttr("lr_mult", "2");
  Symbol s = Scalar("_mul_scalar", w, "3");
  s.SetAttr("group", "dev1");
  std::string v;
  EXPECT_TRUE(w.GetAttr("lr_mult", &v));
  EXPECT_EQ(v, "2");
  EXPECT_TRUE(s.GetAttr("scalar", &v));  // op parameters are attributes too
  EXPECT_EQ(v, "3");
  EXPECT_FALSE(s.GetAttr("wd_mult", &v));
  const auto all = s.ListAttrs();
  EXPECT_EQ(all.at("w").at("lr_mult"), "2");
  EXPECT_EQ(all.at(s.name()).at("group"), "dev1");
  ExpectError([&] { s.SetAttr("scalar", "4"); }, ErrorCode::kInvalidArgument,
              {"scalar", "parameter"});
  // A copy shares nothing: its attributes change independently.
  Symbol c = s.Copy();
  c.SetAttr("group", "dev2");
  EXPECT_TRUE(s.GetAttr("group", &v));
  EXPECT_EQ(v, "dev1");
}

TEST(Symbol, Errors) {
  Symbol x = Symbol::Variable("x");
  ExpectError([] { Symbol::CreateOp("elemwise_ad", {}); }, ErrorCode::kNotFound,
              {"elemwise_ad", "elemwise_add"});
  ExpectError(
      [] {
        Symbol::CreateOp("_plus_scalar", {{"scalr", "1"}});
      },
      ErrorCode::kInvalidArgument, {"_plus_scalar", "scalr"});
  ExpectError(
      [] {
        Symbol::CreateOp("_plus_scalar", {{"scalar", "one"}});
      },
      ErrorCode::kInvalidArgument, {"scalar"});
  ExpectError([] { Symbol::Variable(""); }, ErrorCode::kInvalidArgument, {"name"});

  Symbol add = Symbol::CreateOp("elemwise_add", {});
  ExpectError(
      [&] {
        add.Compose({x, x, x}, {}, "add");
      },
      ErrorCode::kInvalidArgument, {"elemwise_add", "takes 2 inputs, got 3"});
  ExpectError(
      [&] {
        add.Compose({}, {{"left", x}}, "add");
      },
      ErrorCode::kInvalidArgument, {"no input 'left'", "lhs, rhs"});
  ExpectError(
      [&] {
        add.Compose({x}, {{"rhs", x}}, "add");
      },
      ErrorCode::kInvalidArgument, {"positional or keyword"});
  Symbol pending = Symbol::CreateOp("exp", {});
  ExpectError([&] { add.Compose({pending}, {}, "add"); }, ErrorCode::kInvalidArgument,
              {"'exp'", "not been composed"});
  Symbol bw = Apply("_backward_elemwise_mul", {x, x, x});
  ExpectError([&] { add.Compose({bw}, {}, "add"); }, ErrorCode::kInvalidArgument,
              {"exactly one output"});
  // Failed composes left the op symbol as it was: it still composes.
  EXPECT_TRUE(add.IsAtomic());
  EXPECT_EQ(add.name(), "");
  add.Compose({x}, {}, "add");
  EXPECT_EQ(add.ListArguments(), (Strings{"x", "add_rhs"}));

  ExpectError(
      [&] {
        add.Compose({}, {{"nope", x}}, "");
      },
      ErrorCode::kInvalidArgument, {"'nope'", "x, add_rhs"});
  ExpectError(
      [&] {
        add.Compose({x, x, x}, {}, "");
      },
      ErrorCode::kInvalidArgument, {"3 inputs", "2 arguments"});
  ExpectError([&] { add[1]; }, ErrorCode::kInvalidArgument, {"index 1", "1 outputs"});
  ExpectError(
      [&] {
        Symbol::Group({add, x}).GetChildren();
      },
      ErrorCode::kInvalidArgument, {"exactly one output"});
  ExpectError([&] { pending.ToJSON(); }, ErrorCode::kInvalidArgument, {"not been composed"});
  // The library keeps working.
  EXPECT_EQ(Scalar("_plus_scalar", add, "1").ListArguments(), (Strings{"x", "add_rhs"}));
}

TEST(Symbol, OpsWithoutInputsAreNamedByCompose) {
  const char* op = Has("_zeros") ? "_zeros" : nullptr;
  if (op == nullptr) GTEST_SKIP() << "no input-less op is registered yet";
  Symbol z = Symbol::CreateOp(op, {{"shape", "(2,3)"}});
  EXPECT_TRUE(z.IsAtomic());
  z.Compose({}, {}, "");
  EXPECT_GE(Counter(z.name(), "_zeros"), 0) << z.name();
  EXPECT_FALSE(z.IsAtomic());
  EXPECT_TRUE(z.ListArguments().empty());
}

TEST(Symbol, DeepGraphsDoNotOverflowTheStack) {
  Symbol s = Symbol::Variable("x");
  for (int i = 0; i < 3000; ++i) s = Apply("negative", {s}, {}, "n" + std::to_string(i));
  EXPECT_EQ(s.ListArguments(), (Strings{"x"}));
  EXPECT_EQ(Symbol::FromJSON(s.ToJSON()).GetInternals().NumOutputs(), 3001u);
}

}  // namespace
}  // namespace mx
