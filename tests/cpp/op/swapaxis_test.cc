// Cases for SwapAxis and its alias swapaxes.
#include <utility>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::At;
using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;
using layer::ForEachIndex;

OpCase Swap(const std::string& op, Shape s, int d1, int d2) {
  std::map<std::string, std::string> p{{"dim1", std::to_string(d1)}, {"dim2", std::to_string(d2)}};
  return OpCase(op, {s}, p).Ref([=](const Vals& x) {
    const std::vector<int64_t> in = s.ToVector();
    const int a = d1 < 0 ? d1 + s.ndim() : d1, b = d2 < 0 ? d2 + s.ndim() : d2;
    std::vector<int64_t> out = in;
    std::swap(out[a], out[b]);
    std::vector<double> y;
    ForEachIndex(out, [&](const std::vector<int64_t>& o) {
      std::vector<int64_t> src = o;
      std::swap(src[a], src[b]);
      y.push_back(x[0][At(in, src)]);
    });
    return Vals{y};
  });
}

}  // namespace

MX_OP_CASES(swapaxis) {
  return {
      Swap("SwapAxis", Shape{2, 3, 4}, 1, 2),
      Swap("SwapAxis", Shape{2, 3, 2, 5}, 3, 0),
      Swap("SwapAxis", Shape{3, 1, 4, 2, 3}, 1, 3),  // axes apart, with a middle and inner run
      Swap("SwapAxis", Shape{4, 5}, -1, 0),
      Swap("SwapAxis", Shape{2, 3}, 1, 1),  // the same axis: a copy
      Swap("swapaxes", Shape{3, 2, 2}, 0, 2),
  };
}

TEST(SwapAxis, BadAxesNameTheParameter) {
  ExpectError("SwapAxis", {{"dim1", "0"}, {"dim2", "3"}}, {Filled(Shape{2, 3, 4})},
              {"SwapAxis", "dim2=3", "3 axes"});
  ExpectError("swapaxes", {{"dim1", "-4"}}, {Filled(Shape{2, 3, 4})}, {"swapaxes", "dim1=-4"});
  ExpectError("SwapAxis", {{"axis", "1"}}, {Filled(Shape{2, 3})}, {"SwapAxis", "axis", "dim1"});
  ExpectWorks("SwapAxis", {{"dim1", "0"}, {"dim2", "2"}}, {Filled(Shape{2, 3, 4})});
}

TEST(SwapAxis, IntegerTypesAndDefaults) {
  NDArray x = MakeArray(Shape{2, 3}, {0, 1, 2, 10, 11, 12}, DType::kInt32);
  auto y = RunOp("SwapAxis", {{"dim1", "0"}, {"dim2", "1"}}, {x});
  EXPECT_EQ(y[0].dtype(), DType::kInt32);
  EXPECT_EQ(y[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(ToVector(y[0]), (std::vector<double>{0, 10, 1, 11, 2, 12}));
  // dim1 = dim2 = 0 by default: the identity.
  EXPECT_EQ(ToVector(RunOp("SwapAxis", {}, {x})[0]), ToVector(x));
}

}  // namespace test
}  // namespace mx
