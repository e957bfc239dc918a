#include "base/context.h"

#include <gtest/gtest.h>

#include <unordered_set>

#include "base/error.h"

namespace mx {
namespace {

TEST(Context, NamesAndOrder) {
  EXPECT_EQ(Context::CPU().ToString(), "cpu(0)");
  EXPECT_EQ(Context::GPU(1).ToString(), "gpu(1)");
  EXPECT_EQ(Context::CPUPinned().ToString(), "cpu_pinned(0)");
  EXPECT_EQ(Context::CPU(1), Context::CPU(1));
  EXPECT_NE(Context::CPU(0), Context::CPU(1));
  EXPECT_LT(Context::CPU(3), Context::GPU(0));
  std::unordered_set<Context> set{Context::CPU(0), Context::CPU(1), Context::GPU(0)};
  EXPECT_EQ(set.size(), 3u);
}

TEST(Context, CpuIsAlwaysValid) {
  EXPECT_NO_THROW(Context::CPU(0).Validate());
  EXPECT_NO_THROW(Context::CPU(1).Validate());
  EXPECT_THROW(Context::CPU(-1).Validate(), Error);
}

TEST(Context, MissingGpuIsAClearError) {
  try {
    Context::GPU(99).Validate();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gpu(99)"), std::string::npos) << e.what();
  }
}

TEST(Context, GpuCountNeverFails) {
  EXPECT_GE(GpuCount(), 0);
#if !MX_USE_CUDA
  EXPECT_EQ(GpuCount(), 0);
#endif
}

}  // namespace
}  // namespace mx
