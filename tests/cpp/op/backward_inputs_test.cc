// Hidden backward ops are reached by name like any op (mx_op_invoke), so they check their inputs
// as the forward op checks its own: the fuzz findings of fuzz/regressions/op_params/backward_*.txt,
// where a backward kernel read (or wrote) past an array given with the wrong shape.
#include <gtest/gtest.h>

#include "layer_test_util.h"

namespace mx {
namespace test {
namespace {

using layer::ExpectError;
using layer::ExpectWorks;
using layer::Filled;

TEST(BackwardInputs, CropNeedsNchwDataThatHoldsTheCrop) {
  ExpectError("_backward_Crop", {{"num_args", "2"}}, {Filled(Shape{2, 3}), Filled(Shape{2, 3})},
              {"_backward_Crop", "4-D", "(2,3)"});
  ExpectError("_backward_Crop", {{"num_args", "2"}},
              {Filled(Shape{1, 1, 6, 2}), Filled(Shape{1, 1, 5, 5})}, {"larger"});
  ExpectWorks("_backward_Crop", {{"num_args", "2"}},
              {Filled(Shape{1, 1, 2, 2}), Filled(Shape{1, 1, 5, 5})});
}

TEST(BackwardInputs, ConvolutionWeightAndOgradFitTheData) {
  const std::map<std::string, std::string> p{{"kernel", "(3,3)"}, {"num_filter", "2"}};
  // weight (2,1,3,3) expected: a smaller one was written past its end (its gradient).
  ExpectError("_backward_Convolution", p,
              {Filled(Shape{1, 2, 3, 3}), Filled(Shape{1, 1, 5, 5}), Filled(Shape{1, 1, 3, 3})},
              {"weight", "(1,1,3,3)", "(2,1,3,3)"});
  ExpectError("_backward_Convolution", p,
              {Filled(Shape{1, 2, 2, 2}), Filled(Shape{1, 1, 5, 5}), Filled(Shape{2, 1, 3, 3})},
              {"(1,2,2,2)", "(1,2,3,3)"});
  ExpectWorks("_backward_Convolution", p,
              {Filled(Shape{1, 2, 3, 3}), Filled(Shape{1, 1, 5, 5}), Filled(Shape{2, 1, 3, 3})});
}

TEST(BackwardInputs, DeconvolutionInputsFitTheForwardShapes) {
  const std::map<std::string, std::string> p{{"kernel", "(1,1)"}, {"num_filter", "1"}};
  ExpectError("_backward_Deconvolution", p,
              {Filled(Shape{2, 3}), Filled(Shape{2, 3}), Filled(Shape{2, 3})},
              {"_backward_Deconvolution"});
  ExpectWorks("_backward_Deconvolution", p,
              {Filled(Shape{1, 1, 3, 3}), Filled(Shape{1, 2, 3, 3}), Filled(Shape{2, 1, 1, 1})});
}

TEST(BackwardInputs, FullyConnectedWeightFitsTheData) {
  const std::map<std::string, std::string> p{{"num_hidden", "4"}};
  ExpectError("_backward_FullyConnected", p,
              {Filled(Shape{2, 4}), Filled(Shape{2, 3}), Filled(Shape{1, 3})},
              {"weight", "(1,3)", "(4,3)"});
  ExpectWorks("_backward_FullyConnected", p,
              {Filled(Shape{2, 4}), Filled(Shape{2, 3}), Filled(Shape{4, 3})});
}

TEST(BackwardInputs, BatchNormStatisticsFitTheChannels) {
  ExpectError("_backward_BatchNorm", {},
              {Filled(Shape{2, 3}), Filled(Shape{2, 3}), Filled(Shape{1}), Filled(Shape{3}),
               Filled(Shape{3})},
              {"gamma", "(1)", "(3)"});
  ExpectWorks("_backward_BatchNorm", {},
              {Filled(Shape{2, 3}), Filled(Shape{2, 3}), Filled(Shape{3}), Filled(Shape{3}),
               Filled(Shape{3})});
}

TEST(BackwardInputs, CastOgradHasTheDataShape) {
  ExpectError("_backward_Cast", {}, {Filled(Shape{0}), Filled(Shape{4})}, {"(0)", "(4)"});
  ExpectWorks("_backward_Cast", {}, {Filled(Shape{4}), Filled(Shape{4}, 1.0, DType::kInt32)});
}

TEST(BackwardInputs, SliceAxisOgradHasTheSliceShape) {
  const std::map<std::string, std::string> p{{"axis", "0"}, {"begin", "0"}, {"end", "2"}};
  ExpectError("_backward_slice_axis", p, {Filled(Shape{1, 3}), Filled(Shape{4, 3})},
              {"ograd", "(1,3)", "(2,3)"});
  ExpectWorks("_backward_slice_axis", p, {Filled(Shape{2, 3}), Filled(Shape{4, 3})});
}

}  // namespace
}  // namespace test
}  // namespace mx
