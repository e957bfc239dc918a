#include "engine/inline_function.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>

namespace mx {
namespace engine {
namespace {

using Fn = InlineFunction<int(int), 64>;

TEST(InlineFunction, SmallCaptureStaysInline) {
  int base = 40;
  Fn f = [base](int x) { return base + x; };
  EXPECT_FALSE(f.IsHeapAllocated());
  EXPECT_EQ(f(2), 42);
}

TEST(InlineFunction, LargeCaptureGoesToHeapAndStillWorks) {
  std::array<int, 64> big{};
  big[63] = 5;
  Fn f = [big](int x) { return big[63] + x; };
  EXPECT_TRUE(f.IsHeapAllocated());
  Fn g = std::move(f);
  EXPECT_FALSE(static_cast<bool>(f));  // NOLINT(bugprone-use-after-move): checking the state
  EXPECT_EQ(g(1), 6);
}

TEST(InlineFunction, MoveOnlyCaptureIsDestroyedOnce) {
  auto counter = std::make_shared<int>(0);
  {
    std::weak_ptr<int> weak = counter;
    auto owned = std::make_unique<std::shared_ptr<int>>(counter);
    Fn f = [p = std::move(owned)](int x) { return **p + x; };
    Fn g = std::move(f);
    Fn h;
    h = std::move(g);
    EXPECT_EQ(counter.use_count(), 2);
    EXPECT_EQ(h(3), 3);
    h.Reset();
    EXPECT_EQ(counter.use_count(), 1);
    EXPECT_FALSE(weak.expired());
  }
}

}  // namespace
}  // namespace engine
}  // namespace mx
