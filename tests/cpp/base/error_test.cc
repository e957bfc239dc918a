#include "base/error.h"

#include <gtest/gtest.h>

#include "base/logging.h"

namespace mx {
namespace {

int Checked(int value) {
  MX_CHECK(value > 0, kInvalidArgument) << "value must be positive, got " << value;
  return value;
}

TEST(Error, CheckThrowsWithCodeAndMessage) {
  EXPECT_EQ(Checked(3), 3);
  try {
    Checked(-2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_STREQ(e.what(), "value must be positive, got -2");
  }
}

TEST(Error, CheckFormatsOnlyOnFailure) {
  int formatted = 0;
  auto count = [&] { return ++formatted; };
  Checked(1);
  MX_CHECK(true, kInternal) << count();
  EXPECT_EQ(formatted, 0);
}

TEST(Logging, SilentByDefaultAndParsesLevels) {
  EXPECT_EQ(ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_THROW(ParseLogLevel("loud"), Error);
  const LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kOff);
  int formatted = 0;
  auto count = [&] { return ++formatted; };
  MX_LOG(kInfo) << count();
  EXPECT_EQ(formatted, 0);
  SetLogLevel(LogLevel::kInfo);
  testing::internal::CaptureStderr();
  MX_LOG(kInfo) << "hello " << count();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "[mx I] hello 1\n");
  SetLogLevel(saved);
}

}  // namespace
}  // namespace mx
