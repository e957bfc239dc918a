// Cases for UpSampling (nearest): one input with square and rectangular scales, several inputs
// with their own factors, concatenated or summed.
#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

// Nearest upsampling of each input to (oh, ow), concatenated along the channels or summed.
std::vector<double> UpRef(const Vals& x, const std::vector<Shape>& shapes, int64_t oh, int64_t ow,
                          bool sum) {
  const int64_t n = shapes[0][0];
  int64_t oc = 0;
  for (const Shape& s : shapes) oc = sum ? s[1] : oc + s[1];
  std::vector<double> y(n * oc * oh * ow, 0.0);
  int64_t c0 = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const Shape& s = shapes[k];
    const int64_t fh = oh / s[2], fw = ow / s[3];
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t c = 0; c < s[1]; ++c) {
        for (int64_t i = 0; i < oh; ++i) {
          for (int64_t j = 0; j < ow; ++j) {
            y[((b * oc + c0 + c) * oh + i) * ow + j] +=
                x[k][((b * s[1] + c) * s[2] + i / fh) * s[3] + j / fw];
          }
        }
      }
    }
    if (!sum) c0 += s[1];
  }
  return y;
}

OpCase Up(std::vector<Shape> shapes, const std::string& scale, int64_t sh, int64_t sw,
          const std::string& mode = "") {
  std::map<std::string, std::string> p{
      {"scale", scale}, {"sample_type", "nearest"}, {"num_args", std::to_string(shapes.size())}};
  if (!mode.empty()) p["multi_input_mode"] = mode;
  const int64_t oh = shapes[0][2] * sh, ow = shapes[0][3] * sw;
  const bool sum = mode == "sum";
  return OpCase("UpSampling", shapes, p).Ref([=](const Vals& x) {
    return Vals{UpRef(x, shapes, oh, ow, sum)};
  });
}

}  // namespace

MX_OP_CASES(upsampling) {
  return {
      Up({Shape{2, 3, 3, 5}}, "2", 2, 2),
      Up({Shape{1, 2, 2, 3}}, "(2,3)", 2, 3),
      Up({Shape{1, 1, 3, 2}}, "(1,1,3,1)", 3, 1),  // the 4-tuple form uses its last two
      // Two inputs, the second already at the output size (factor 1): concatenated.
      Up({Shape{2, 2, 2, 3}, Shape{2, 3, 4, 6}}, "2", 2, 2),
      // Three inputs, upsampled by (3,3), (1,1) and (2,1) to the output size (6, 3).
      Up({Shape{1, 1, 2, 1}, Shape{1, 2, 6, 3}, Shape{1, 1, 3, 3}}, "(3,3)", 3, 3, "concat"),
      Up({Shape{1, 2, 2, 2}, Shape{1, 2, 4, 4}}, "2", 2, 2, "sum"),
      Up({Shape{2, 1, 1, 3}}, "3", 3, 3, "sum"),
  };
}

TEST(UpSampling, BilinearIsRejectedNamingTheAcceptedValue) {
  const std::map<std::string, std::string> p{
      {"scale", "2"}, {"sample_type", "bilinear"}, {"num_args", "1"}};
  ExpectError("UpSampling", p, {Filled(Shape{1, 1, 2, 2})},
              {"UpSampling", "bilinear", "not implemented", "'nearest'"});
  try {
    MakeAttrs(OpRegistry::Get()->Get("UpSampling"), p);
    FAIL() << "expected an error at parse time";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  }
  ExpectError("UpSampling", {{"scale", "2"}, {"sample_type", "cubic"}, {"num_args", "1"}},
              {Filled(Shape{1, 1, 2, 2})}, {"UpSampling", "cubic", "nearest"});
  ExpectWorks("UpSampling", {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "1"}},
              {Filled(Shape{1, 1, 2, 2})});
}

TEST(UpSampling, BadShapesNameTheInputAndShapes) {
  std::map<std::string, std::string> p{
      {"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "2"}};
  ExpectError("UpSampling", p, {Filled(Shape{1, 1, 2, 2}), Filled(Shape{1, 1, 3, 3})},
              {"UpSampling", "arg1", "(1,1,3,3)", "does not divide"});
  ExpectError("UpSampling", p, {Filled(Shape{1, 1, 2, 2}), Filled(Shape{2, 1, 2, 2})},
              {"UpSampling", "arg1", "batch"});
  p["multi_input_mode"] = "sum";
  ExpectError("UpSampling", p, {Filled(Shape{1, 1, 2, 2}), Filled(Shape{1, 2, 2, 2})},
              {"UpSampling", "sum", "channels", "arg1"});
  ExpectError("UpSampling", {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "1"}},
              {Filled(Shape{2, 2, 2})}, {"UpSampling", "4-D", "(2,2,2)"});
  ExpectError("UpSampling", {{"scale", "(2,0)"}, {"sample_type", "nearest"}, {"num_args", "1"}},
              {Filled(Shape{1, 1, 2, 2})}, {"UpSampling", "scale", "positive"});
  ExpectError("UpSampling", {{"scale", "(2,2,2)"}, {"sample_type", "nearest"}, {"num_args", "1"}},
              {Filled(Shape{1, 1, 2, 2})}, {"UpSampling", "scale", "1, 2 or 4"});
  ExpectError("UpSampling", {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "2"}},
              {Filled(Shape{1, 1, 2, 2})}, {"UpSampling", "takes 2 inputs"});
  ExpectWorks("UpSampling", p, {Filled(Shape{1, 2, 2, 2}), Filled(Shape{1, 2, 4, 2})});
}

TEST(UpSampling, InfersTheInputFromTheOutputWithOneInput) {
  const Op* op = OpRegistry::Get()->Get("UpSampling");
  NodeAttrs attrs =
      MakeAttrs(op, {{"scale", "(2,3)"}, {"sample_type", "nearest"}, {"num_args", "1"}});
  std::vector<Shape> in{Shape::Unknown()}, out{Shape{2, 3, 4, 9}};
  EXPECT_TRUE(op->infer_shape(attrs, &in, &out));
  EXPECT_EQ(in[0], (Shape{2, 3, 2, 3}));
}

}  // namespace test
}  // namespace mx
