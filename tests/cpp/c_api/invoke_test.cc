// Imperative calls through the C ABI: the per-thread attribute cache (Note [Attribute cache] in
// c_api_op.cc) never mixes up parameter sets and never caches a failure, and a repeated small op
// allocates nothing once warm (its lists, pending-call records and engine blocks are reused).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "mx/c_api.h"

// Counts the C++ allocations of the thread that calls Invoke (libmx is linked in statically).
// Other threads are not counted: an engine worker, an OpenMP thread or the CUDA runtime may
// allocate at any time on a loaded machine, and none of that is the Invoke path (small ops run
// on the pushing thread).
namespace {
std::atomic<long> g_news{0};
thread_local bool t_counted = false;
}  // namespace

void* operator new(std::size_t n) {
  if (t_counted) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct Array {
  explicit Array(int64_t n, float fill) : size(n) {
    const int64_t shape[1] = {n};
    EXPECT_EQ(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, mx_context_t{MX_CPU, 0}, &h), MX_OK);
    std::vector<float> v(static_cast<size_t>(n), fill);
    EXPECT_EQ(mx_ndarray_copy_from_host(h, v.data(), v.size() * sizeof(float)), MX_OK);
  }
  ~Array() { mx_ndarray_free(h); }
  std::vector<float> Get() const {
    std::vector<float> v(static_cast<size_t>(size));
    EXPECT_EQ(mx_ndarray_copy_to_host(h, v.data(), v.size() * sizeof(float)), MX_OK);
    return v;
  }
  int64_t size;
  mx_ndarray_t h = nullptr;
};

mx_status_t MulScalar(const Array& in, const std::string& scalar, const Array& out) {
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {scalar.c_str()};
  return mx_op_invoke_into("_mul_scalar", 1, &in.h, 1, keys, vals, 1, &out.h);
}

TEST(InvokeCache, ParameterSetsAreNeverMixedUp) {
  Array x(4, 1.5f), y(4, 0.0f);
  // Alternating values hit the cache; 200 distinct ones also evict and refill its 64 slots.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      const int s = (i % 2 == 0) ? 2 : i;
      ASSERT_EQ(MulScalar(x, std::to_string(s), y), MX_OK) << mx_get_last_error();
      EXPECT_EQ(y.Get()[0], 1.5f * static_cast<float>(s)) << "scalar " << s;
    }
  }
  // The same strings under another key order or op are other entries.
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"2"};
  ASSERT_EQ(mx_op_invoke_into("_plus_scalar", 1, &x.h, 1, keys, vals, 1, &y.h), MX_OK);
  EXPECT_EQ(y.Get()[0], 3.5f);
  ASSERT_EQ(mx_op_invoke_into("_mul_scalar", 1, &x.h, 1, keys, vals, 1, &y.h), MX_OK);
  EXPECT_EQ(y.Get()[0], 3.0f);
}

TEST(InvokeCache, AFailureIsNotCached) {
  Array x(4, 1.0f), y(4, 0.0f);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(MulScalar(x, "abc", y), MX_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mx_get_last_error()).find("scalar"), std::string::npos)
        << mx_get_last_error();
  }
  const char* keys[2] = {"scalar", "scalar"};
  const char* vals[2] = {"1", "2"};
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(mx_op_invoke_into("_mul_scalar", 1, &x.h, 2, keys, vals, 1, &y.h),
              MX_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mx_get_last_error()).find("given twice"), std::string::npos)
        << mx_get_last_error();
  }
  const char* null_vals[1] = {nullptr};
  EXPECT_EQ(mx_op_invoke_into("_mul_scalar", 1, &x.h, 1, keys, null_vals, 1, &y.h),
            MX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(mx_op_invoke_into("no_such_op", 1, &x.h, 0, nullptr, nullptr, 1, &y.h),
            MX_ERR_NOT_FOUND);
  // Still fine afterwards.
  ASSERT_EQ(MulScalar(x, "4", y), MX_OK);
  EXPECT_EQ(y.Get()[0], 4.0f);
}

TEST(InvokeCache, AFreedArrayIsRejectedByIndex) {
  Array x(4, 1.0f), y(4, 0.0f);
  mx_ndarray_t dead = nullptr;
  const int64_t shape[1] = {4};
  ASSERT_EQ(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, mx_context_t{MX_CPU, 0}, &dead), MX_OK);
  mx_ndarray_t in[2] = {x.h, nullptr};
  EXPECT_EQ(mx_op_invoke_into("elemwise_add", 2, in, 0, nullptr, nullptr, 1, &y.h),
            MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mx_get_last_error()).find("inputs[1]"), std::string::npos)
      << mx_get_last_error();
  ASSERT_EQ(mx_ndarray_free(dead), MX_OK);
}

TEST(InvokeSteadyState, ASmallOpAllocatesNothingOnceWarm) {
  Array a(16, 1.0f), b(16, 2.0f), out(16, 0.0f);
  mx_ndarray_t in[2] = {a.h, b.h};
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"3"};
  auto run = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(mx_op_invoke_into("elemwise_add", 2, in, 0, nullptr, nullptr, 1, &out.h), MX_OK);
      ASSERT_EQ(mx_op_invoke_into("_mul_scalar", 1, &a.h, 1, keys, vals, 1, &out.h), MX_OK);
    }
    ASSERT_EQ(mx_engine_wait_all(), MX_OK);
  };
  run(200);  // warm: caches, pools and scratch lists grow once
  const long before = g_news.load();
  t_counted = true;
  run(2000);
  t_counted = false;
  EXPECT_EQ(g_news.load() - before, 0) << "allocations in 4000 warm calls";
  EXPECT_EQ(out.Get()[0], 3.0f);
}

}  // namespace
