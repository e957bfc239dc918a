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

// Products past 64 bits are errors that show the true shape, never a wrapped size: (2^32, 2^32)
// used to have Size() 0.
TEST(Shape, SizeOverflowIsAnErrorNamingTheShape) {
  const int64_t big = int64_t{1} << 40;
  for (const Shape& s :
       {Shape{INT64_MAX, 2}, Shape{big, big}, Shape{int64_t{1} << 32, 1 << 16, 1 << 16}}) {
    try {
      s.Size();
      ADD_FAILURE() << s << " has a size";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(s.ToString()), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ((Shape{big, big, 0}).Size(), 0);  // holds nothing, whatever the other dims
  EXPECT_EQ((Shape{INT64_MAX}).Size(), INT64_MAX);
  EXPECT_THROW((Shape{big, big}).ProdDims(0, 2), Error);
  EXPECT_EQ((Shape{big, big}).ProdDims(1, 2), big);
  EXPECT_EQ(ByteSize(Shape{2, 3}, 4), 24u);
  EXPECT_EQ(ByteSize(Shape{int64_t{1} << 61}, 4), size_t{1} << 63);
  try {
    ByteSize(Shape{int64_t{1} << 61}, 8);  // 2^64 bytes
    ADD_FAILURE() << "2^64 bytes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(2305843009213693952)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mx
