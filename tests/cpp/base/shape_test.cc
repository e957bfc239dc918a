#include "base/shape.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace mx {
namespace {

TEST(Shape, SizeAndString) {
  Shape s{128, 784};
  EXPECT_EQ(s.ndim(), 2);
  EXPECT_EQ(s.Size(), 128 * 784);
  EXPECT_EQ(s.ToString(), "(128,784)");
  EXPECT_TRUE(s.IsKnown());
  EXPECT_EQ(s.ProdDims(1, 2), 784);
}

TEST(Shape, ScalarHasSizeOne) {
  Shape s;
  EXPECT_EQ(s.ndim(), 0);
  EXPECT_EQ(s.Size(), 1);
  EXPECT_EQ(s.ToString(), "()");
  EXPECT_TRUE(s.IsKnown());
}

TEST(Shape, UnknownRankAndDims) {
  EXPECT_FALSE(Shape::Unknown().IsKnown());
  EXPECT_EQ(Shape::Unknown().ToString(), "?");
  Shape partial{-1, 3};
  EXPECT_FALSE(partial.IsKnown());
  EXPECT_EQ(partial.ToString(), "(?,3)");
  EXPECT_EQ(Shape::Filled(2, -1), (Shape{-1, -1}));
}

TEST(Shape, Equality) {
  EXPECT_EQ((Shape{2, 3}), (Shape{2, 3}));
  EXPECT_NE((Shape{2, 3}), (Shape{3, 2}));
  EXPECT_NE((Shape{2}), (Shape{2, 1}));
  EXPECT_NE(Shape(), Shape::Unknown());
}

TEST(Shape, RejectsTooManyDims) {
  std::vector<int64_t> dims(Shape::kMaxNDim + 1, 1);
  try {
    Shape s(dims);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("at most 12 dimensions, got 13"), std::string::npos);
  }
}

TEST(Shape, RejectsNegativeDims) { EXPECT_THROW(Shape({2, -5}), Error); }

}  // namespace
}  // namespace mx
