#include "base/dtype.h"

#include <gtest/gtest.h>

namespace mx {
namespace {

TEST(DType, SizesAndNames) {
  EXPECT_EQ(DTypeSize(DType::kFloat32), 4u);
  EXPECT_EQ(DTypeSize(DType::kFloat64), 8u);
  EXPECT_EQ(DTypeSize(DType::kFloat16), 2u);
  EXPECT_EQ(DTypeSize(DType::kUint8), 1u);
  EXPECT_EQ(DTypeSize(DType::kInt32), 4u);
  EXPECT_EQ(DTypeSize(DType::kInt8), 1u);
  EXPECT_EQ(DTypeSize(DType::kInt64), 8u);
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = static_cast<DType>(i);
    EXPECT_EQ(DTypeFromName(DTypeName(t)), t);
  }
}

TEST(DType, SwitchBindsTheRightType) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = static_cast<DType>(i);
    size_t size = 0;
    DType back = DType::kFloat32;
    MX_DTYPE_SWITCH(t, T, {
      size = sizeof(T);
      back = DTypeOf<T>::value;
    });
    EXPECT_EQ(size, DTypeSize(t));
    EXPECT_EQ(back, t);
  }
}

TEST(DType, UnknownValuesAreErrors) {
  EXPECT_FALSE(IsValidDType(-1));
  EXPECT_FALSE(IsValidDType(kNumDTypes));
  try {
    DTypeFromName("bfloat7");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'bfloat7'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos);
  }
  EXPECT_THROW(CheckedDType(99), Error);
}

}  // namespace
}  // namespace mx
