// Cases for Crop: to h_w (one input) or to a second input's size (two), at an offset or centred.
#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

// The (h, w) window of NCHW `x` (shape `s`) starting at (y0, x0).
std::vector<double> CropRef(const std::vector<double>& x, const Shape& s, int64_t h, int64_t w,
                            int64_t y0, int64_t x0) {
  std::vector<double> y;
  for (int64_t bc = 0; bc < s[0] * s[1]; ++bc) {
    for (int64_t i = 0; i < h; ++i) {
      for (int64_t j = 0; j < w; ++j) y.push_back(x[(bc * s[2] + y0 + i) * s[3] + x0 + j]);
    }
  }
  return y;
}

OpCase Crop(std::vector<Shape> shapes, std::map<std::string, std::string> p, int64_t h, int64_t w,
            int64_t y0, int64_t x0) {
  p["num_args"] = std::to_string(shapes.size());
  const Shape s = shapes[0];
  return OpCase("Crop", std::move(shapes), std::move(p)).Ref([=](const Vals& x) {
    return Vals{CropRef(x[0], s, h, w, y0, x0)};
  });
}

}  // namespace

MX_OP_CASES(crop) {
  return {
      Crop({Shape{2, 3, 5, 7}}, {{"h_w", "(2,3)"}, {"offset", "(1,2)"}}, 2, 3, 1, 2),
      Crop({Shape{1, 2, 4, 4}}, {{"h_w", "(4,1)"}}, 4, 1, 0, 0),  // offset defaults to (0,0)
      // Centred: (6-3)/2 = 1 and (7-4)/2 = 1, rounded down.
      Crop({Shape{1, 2, 6, 7}}, {{"h_w", "(3,4)"}, {"center_crop", "true"}}, 3, 4, 1, 1),
      // crop_like's height and width; its gradient is zero (checked against finite differences).
      Crop({Shape{2, 3, 5, 6}, Shape{1, 1, 3, 3}}, {{"offset", "(2,1)"}}, 3, 3, 2, 1),
      Crop({Shape{1, 2, 7, 4}, Shape{3, 5, 2, 3}}, {{"center_crop", "true"}}, 2, 3, 2, 0),
  };
}

TEST(Crop, BadParamsAndShapesNameTheProblem) {
  ExpectError("Crop", {{"num_args", "1"}, {"h_w", "(6,2)"}}, {Filled(Shape{1, 1, 5, 5})},
              {"Crop", "larger", "(1,1,5,5)"});
  ExpectError("Crop", {{"num_args", "1"}, {"h_w", "(2,2)"}, {"offset", "(4,0)"}},
              {Filled(Shape{1, 1, 5, 5})}, {"Crop", "offset=(4,0)", "(1,1,5,5)"});
  ExpectError("Crop", {{"num_args", "1"}}, {Filled(Shape{1, 1, 5, 5})},
              {"Crop", "h_w", "positive"});
  ExpectError("Crop", {{"num_args", "1"}, {"h_w", "(2,2,2)"}}, {Filled(Shape{1, 1, 5, 5})},
              {"Crop", "h_w", "two"});
  ExpectError("Crop", {{"num_args", "3"}}, {Filled(Shape{1, 1, 5, 5})}, {"Crop", "num_args"});
  ExpectError("Crop", {{"num_args", "1"}, {"h_w", "(2,2)"}}, {Filled(Shape{5, 5})},
              {"Crop", "arg0", "4-D", "(5,5)"});
  ExpectError("Crop", {{"num_args", "2"}}, {Filled(Shape{1, 1, 5, 5}), Filled(Shape{1, 6, 6})},
              {"Crop", "arg1", "4-D"});
  ExpectError("Crop", {{"num_args", "2"}}, {Filled(Shape{1, 1, 5, 5}), Filled(Shape{1, 1, 6, 2})},
              {"Crop", "larger", "(1,1,5,5)"});
  ExpectWorks("Crop", {{"num_args", "2"}}, {Filled(Shape{1, 1, 5, 5}), Filled(Shape{1, 1, 5, 2})});
}

TEST(Crop, InputNamesFollowNumArgs) {
  const Op* op = OpRegistry::Get()->Get("Crop");
  EXPECT_EQ(op->InputNames(MakeAttrs(op, {{"num_args", "2"}})),
            (std::vector<std::string>{"arg0", "arg1"}));
  EXPECT_EQ(op->InputNames(MakeAttrs(op, {{"num_args", "1"}})), (std::vector<std::string>{"arg0"}));
}

}  // namespace test
}  // namespace mx
