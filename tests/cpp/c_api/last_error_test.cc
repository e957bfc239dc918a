// The C ABI's error boundary: every exception becomes a status, messages are per thread.
#include <dmlc/logging.h>
#include <dmlc/parameter.h>
#include <gtest/gtest.h>

#include <atomic>
#include <new>
#include <string>
#include <thread>

#include "c_api/c_api_common.h"

namespace mx {
namespace {

using capi::Guard;

TEST(CApiGuard, ConvertsEveryExceptionKind) {
  EXPECT_EQ(Guard([] {}), MX_OK);

  EXPECT_EQ(Guard([] { MX_THROW(kNotFound) << "no op named 'Foo'"; }), MX_ERR_NOT_FOUND);
  EXPECT_STREQ(mx_get_last_error(), "no op named 'Foo'");

  EXPECT_EQ(Guard([] { throw std::bad_alloc(); }), MX_ERR_OUT_OF_MEMORY);
  EXPECT_NE(std::string(mx_get_last_error()).find("out of memory"), std::string::npos);

  EXPECT_EQ(Guard([] { throw dmlc::ParamError("bad key"); }), MX_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(mx_get_last_error(), "bad key");

  EXPECT_EQ(Guard([] { throw 42; }), MX_ERR_FAILED);
  EXPECT_STREQ(mx_get_last_error(), "unknown exception");
}

TEST(CApiGuard, DmlcCheckThrowsAndLosesTheTimestamp) {
  const int two = 2;
  EXPECT_EQ(Guard([&] { CHECK_EQ(two, 3) << "two is not three"; }), MX_ERR_FAILED);
  const std::string msg = mx_get_last_error();
  EXPECT_NE(msg.find("two is not three"), std::string::npos) << msg;
  EXPECT_NE(msg[0], '[') << "timestamp should be stripped: " << msg;
  EXPECT_EQ(msg.find("Stack trace"), std::string::npos) << msg;
}

TEST(CApiLastError, IsThreadLocal) {
  // Thread A fails and keeps its message while thread B fails differently and thread C succeeds.
  std::atomic<int> stage{0};
  std::string seen_by_a, seen_by_c;
  size_t size = 0;
  std::thread a([&] {
    EXPECT_NE(mx_dtype_size(42, &size), MX_OK);
    stage = 1;
    while (stage.load() < 2) std::this_thread::yield();
    seen_by_a = mx_get_last_error();
  });
  std::thread b([&] {
    while (stage.load() < 1) std::this_thread::yield();
    EXPECT_NE(mx_dtype_from_name("float33", nullptr), MX_OK);
    stage = 2;
  });
  std::thread c([&] {
    while (stage.load() < 2) std::this_thread::yield();
    EXPECT_EQ(mx_dtype_size(0, &size), MX_OK);
    seen_by_c = mx_get_last_error();
  });
  a.join();
  b.join();
  c.join();
  EXPECT_NE(seen_by_a.find("unknown dtype 42"), std::string::npos) << seen_by_a;
  EXPECT_EQ(seen_by_c, "");
}

}  // namespace
}  // namespace mx
