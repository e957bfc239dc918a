// Cases for Pad: constant, edge and reflect, on 4-D and 5-D data, with uneven widths.
#include <algorithm>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::At;
using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;
using layer::ForEachIndex;

// numpy.pad semantics, written per output index.
std::vector<double> PadRef(const std::vector<double>& x, const Shape& s,
                           const std::vector<int64_t>& w, const std::string& mode, double value) {
  std::vector<int64_t> in = s.ToVector(), out = in;
  for (size_t a = 0; a < in.size(); ++a) out[a] += w[2 * a] + w[2 * a + 1];
  std::vector<double> y;
  ForEachIndex(out, [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> src(o.size());
    bool outside = false;
    for (size_t a = 0; a < o.size(); ++a) {
      int64_t i = o[a] - w[2 * a];
      const int64_t n = in[a];
      if (i < 0 || i >= n) {
        outside = true;
        if (mode == "edge") i = std::clamp<int64_t>(i, 0, n - 1);
        if (mode == "reflect") i = i < 0 ? -i : 2 * (n - 1) - i;
      }
      src[a] = i;
    }
    y.push_back(outside && mode == "constant" ? value : x[At(in, src)]);
  });
  return y;
}

std::string TupleString(const std::vector<int64_t>& w) {
  std::string s = "(";
  for (size_t i = 0; i < w.size(); ++i) s += (i ? "," : "") + std::to_string(w[i]);
  return s + ")";
}

OpCase Pad(Shape s, const std::string& mode, std::vector<int64_t> w, double value = 0,
           bool give_value = false) {
  std::map<std::string, std::string> p{{"mode", mode}, {"pad_width", TupleString(w)}};
  if (give_value) p["constant_value"] = ParamString(value);
  return OpCase("Pad", {s}, p).Ref([=](const Vals& x) {
    return Vals{PadRef(x[0], s, w, mode, value)};
  });
}

}  // namespace

MX_OP_CASES(pad) {
  return {
      Pad(Shape{2, 2, 3, 4}, "constant", {0, 0, 0, 0, 1, 2, 2, 1}),
      Pad(Shape{1, 3, 3, 2}, "constant", {0, 0, 0, 0, 0, 3, 1, 0}, 1.5, true),
      Pad(Shape{2, 2, 3, 4}, "edge", {0, 0, 0, 0, 2, 1, 3, 2}),
      // Reflect up to size - 1 on each side.
      Pad(Shape{2, 1, 3, 4}, "reflect", {0, 0, 0, 0, 2, 1, 3, 2}),
      Pad(Shape{1, 2, 2, 3, 4}, "constant", {0, 0, 0, 0, 1, 0, 0, 2, 1, 1}, -2, true),
      Pad(Shape{1, 2, 2, 3, 4}, "edge", {0, 0, 0, 0, 2, 1, 1, 0, 0, 3}),
      Pad(Shape{2, 1, 3, 3, 4}, "reflect", {0, 0, 0, 0, 1, 2, 2, 0, 1, 3}),
      Pad(Shape{1, 1, 2, 2}, "edge", {0, 0, 0, 0, 0, 0, 0, 0}),  // no padding: a copy
  };
}

TEST(Pad, BadParamsAndShapesNameTheProblem) {
  const NDArray x = Filled(Shape{1, 1, 3, 3});
  ExpectError("Pad", {{"mode", "edge"}, {"pad_width", "(1,0,0,0,1,1,1,1)"}}, {x},
              {"Pad", "pad_width=(1,0,0,0,1,1,1,1)", "batch or channel"});
  ExpectError("Pad", {{"mode", "edge"}, {"pad_width", "(0,0,0,0,1,1)"}}, {x},
              {"Pad", "pad_width", "8 entries", "(1,1,3,3)"});
  ExpectError("Pad", {{"mode", "reflect"}, {"pad_width", "(0,0,0,0,3,0,0,0)"}}, {x},
              {"Pad", "reflect", "axis 2", "(1,1,3,3)"});
  ExpectError("Pad", {{"mode", "edge"}, {"pad_width", "(0,0,0,0,-1,0,0,0)"}}, {x},
              {"Pad", "negative"});
  ExpectError("Pad", {{"mode", "edge"}, {"pad_width", "(0,0,0,0,1,1)"}}, {Filled(Shape{1, 3, 3})},
              {"Pad", "4-D or 5-D", "(1,3,3)"});
  ExpectError("Pad", {{"pad_width", "(0,0,0,0,1,1,1,1)"}}, {x}, {"Pad", "mode"});
  ExpectError("Pad", {{"mode", "wrap"}, {"pad_width", "(0,0,0,0,1,1,1,1)"}}, {x},
              {"Pad", "wrap", "constant", "edge", "reflect"});
  ExpectError("Pad", {{"mode", "edge"}, {"pad_width", "(0,0,0,0,1,0,0,0)"}},
              {Filled(Shape{1, 1, 0, 3})}, {"Pad", "edge", "empty axis 2", "(1,1,0,3)"});
  ExpectWorks("Pad", {{"mode", "constant"}, {"pad_width", "(0,0,0,0,1,0,0,0)"}},
              {Filled(Shape{1, 1, 0, 3})});
  ExpectWorks("Pad", {{"mode", "reflect"}, {"pad_width", "(0,0,0,0,2,2,2,2)"}}, {x});
}

TEST(Pad, InfersDataFromOutput) {
  const Op* op = OpRegistry::Get()->Get("Pad");
  NodeAttrs attrs = MakeAttrs(op, {{"mode", "constant"}, {"pad_width", "(0,0,0,0,1,2,3,4)"}});
  std::vector<Shape> in{Shape::Unknown()}, out{Shape{2, 3, 8, 9}};
  EXPECT_TRUE(op->infer_shape(attrs, &in, &out));
  EXPECT_EQ(in[0], (Shape{2, 3, 5, 2}));
}

}  // namespace test
}  // namespace mx
