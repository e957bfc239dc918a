// The registry self-test: every op is complete and has a test case.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "op/op.h"
#include "op_harness.h"

namespace mx {
namespace {

TEST(OpRegistry, EveryOpIsCompleteAndTested) {
  std::set<std::string> tested;
  for (const auto& c : test::AllCases()) tested.insert(c.op);
  for (const Op* op : OpRegistry::Get()->List()) {
    SCOPED_TRACE(op->name);
    EXPECT_FALSE(op->doc.empty()) << "no description";
    EXPECT_TRUE(static_cast<bool>(op->parse)) << "no parameter parser";
    EXPECT_TRUE(static_cast<bool>(op->input_names)) << "no inputs";
    EXPECT_TRUE(static_cast<bool>(op->num_outputs)) << "no output count";
    EXPECT_TRUE(static_cast<bool>(op->infer_shape)) << "no shape inference";
    EXPECT_TRUE(static_cast<bool>(op->infer_type)) << "no type inference";
    EXPECT_NE(op->Compute(DeviceType::kCPU), nullptr) << "no CPU compute";
    EXPECT_TRUE(op->gradient || op->not_differentiable)
        << "neither a gradient nor marked not differentiable";
    if (op->backward_of.empty()) {
      EXPECT_TRUE(tested.count(op->name)) << "no test case (add one with MX_OP_CASES)";
    } else {
      // Backward ops are exercised by their forward op's gradient check.
      const Op* fwd = OpRegistry::Get()->Find(op->backward_of);
      ASSERT_NE(fwd, nullptr) << "backward of unknown op " << op->backward_of;
      EXPECT_TRUE(tested.count(fwd->name)) << "forward op " << fwd->name << " has no test case";
    }
  }
}

TEST(OpRegistry, UnknownOpSuggestsANeighbour) {
  try {
    OpRegistry::Get()->Get("elemwise_ad");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("did you mean 'elemwise_add'"), std::string::npos)
        << e.what();
  }
}

TEST(OpRegistry, UnknownParameterNamesOpKeyAndValidKeys) {
  const Op* op = OpRegistry::Get()->Get("_plus_scalar");
  try {
    MakeAttrs(op, {{"scalr", "1"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("_plus_scalar"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scalr"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scalar"), std::string::npos) << msg;
  }
  EXPECT_THROW(MakeAttrs(op, {}), Error) << "missing required key";
  // A bad enum value names the parameter, the value and the accepted values.
  try {
    MakeAttrs(OpRegistry::Get()->Get("Activation"), {{"act_type", "relux"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("parameter 'act_type'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("relux"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'sigmoid'"), std::string::npos) << msg;
  }
  EXPECT_THROW(MakeAttrs(op, {{"scalar", "abc"}}), Error) << "bad value";
  EXPECT_THROW(MakeAttrs(OpRegistry::Get()->Get("exp"), {{"x", "1"}}), Error) << "no params";
}

// Input and output counts taken from parameters are bounded by kMaxOpArity: "num_args":
// "1000000000" used to build a billion input names (a hang) wherever the inputs were listed.
TEST(OpRegistry, VariadicCountsAreBounded) {
  struct Case {
    const char* op;
    const char* count;
    std::map<std::string, std::string> others;
  };
  const std::vector<Case> cases = {
      {"Concat", "num_args", {}},
      {"_backward_Concat", "num_args", {}},
      {"add_n", "num_args", {}},
      {"ElementWiseSum", "num_args", {}},
      {"UpSampling", "num_args", {{"scale", "2"}, {"sample_type", "nearest"}}},
      {"_backward_UpSampling", "num_args", {{"scale", "2"}, {"sample_type", "nearest"}}},
      {"SliceChannel", "num_outputs", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    const Op* op = OpRegistry::Get()->Get(c.op);
    for (const std::string& absurd :
         {std::to_string(kMaxOpArity + 1), std::string("1000000000"), std::string("0")}) {
      auto params = c.others;
      params[c.count] = absurd;
      try {
        MakeAttrs(op, params);
        ADD_FAILURE() << c.count << "=" << absurd << " accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find(c.count), std::string::npos) << e.what();
      }
    }
    auto params = c.others;
    params[c.count] = std::to_string(kMaxOpArity);
    const NodeAttrs attrs = MakeAttrs(op, params);  // the limit itself is fine
    EXPECT_LE(op->NumInputs(attrs), kMaxOpArity + 1);
    EXPECT_LE(op->NumOutputs(attrs), kMaxOpArity);
  }
  // A new op with a count parameter belongs in the list above (Crop's is 1 or 2).
  std::set<std::string> listed{"Crop", "_backward_Crop"};
  for (const Case& c : cases) listed.insert(c.op);
  for (const Op* op : OpRegistry::Get()->List()) {
    for (const ParamDoc& p : op->params) {
      if (p.name == "num_args" || p.name == "num_outputs") {
        EXPECT_TRUE(listed.count(op->name)) << op->name << "." << p.name << " is not tested";
      }
    }
  }
}

}  // namespace
}  // namespace mx
