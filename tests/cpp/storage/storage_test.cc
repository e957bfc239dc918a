#include "storage/storage.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "base/error.h"

// The poisoning test needs AddressSanitizer (the asan gate); elsewhere it skips itself.
#if defined(__SANITIZE_ADDRESS__)
#define MX_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MX_TEST_ASAN 1
#endif
#endif
#ifdef MX_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace mx {
namespace {

// A private device id, so statistics are not disturbed by other tests in this binary.
Context TestCtx(int id) { return Context::CPU(100 + id); }

TEST(Storage, BucketsAreBoundedAndAligned) {
  EXPECT_EQ(Storage::BucketSize(1), 64u);
  EXPECT_EQ(Storage::BucketSize(4096), 4096u);
  EXPECT_EQ(Storage::BucketSize(4097), 5120u);
  for (size_t s : {size_t(5000), size_t(1) << 20, (size_t(3) << 20) + 7, size_t(123456789)}) {
    const size_t b = Storage::BucketSize(s);
    EXPECT_GE(b, s);
    EXPECT_LE(b, s + s / 4 + 64) << s;
    EXPECT_EQ(b % 64, 0u);
  }
}

TEST(Storage, AlignedWritableAndReused) {
  const Context ctx = TestCtx(0);
  Storage* st = Storage::Get();
  Storage::Handle a = st->Alloc(1000, ctx);
  ASSERT_NE(a.dptr, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.dptr) % 64, 0u);
  std::memset(a.dptr, 7, 1000);
  void* first = a.dptr;
  st->Free(a);
  // Same bucket: the pooled block comes back without a system allocation.
  const uint64_t sys_before = st->Stats(ctx).num_system_allocs;
  Storage::Handle b = st->Alloc(1010, ctx);
  EXPECT_EQ(b.dptr, first);
  EXPECT_EQ(st->Stats(ctx).num_system_allocs, sys_before);
  st->Free(b);
}

TEST(Storage, StatisticsTrackUsePeakAndPool) {
  const Context ctx = TestCtx(1);
  Storage* st = Storage::Get();
  Storage::Handle a = st->Alloc(1 << 20, ctx);
  Storage::Handle b = st->Alloc(1 << 20, ctx);
  StorageStats s = st->Stats(ctx);
  EXPECT_EQ(s.bytes_in_use, 2u << 20);
  EXPECT_EQ(s.peak_in_use, 2u << 20);
  st->Free(a);
  s = st->Stats(ctx);
  EXPECT_EQ(s.bytes_in_use, 1u << 20);
  EXPECT_EQ(s.bytes_pooled, 1u << 20);
  EXPECT_EQ(s.peak_in_use, 2u << 20);
  st->Free(b);
  st->ReleasePool(ctx);
  s = st->Stats(ctx);
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.bytes_pooled, 0u);
  st->ResetPeak(ctx);
  EXPECT_EQ(st->Stats(ctx).peak_in_use, 0u);
}

// Note [Poisoned pool memory] in storage.cc: reads past an array's end, into the rest of its
// bucket, and reads of a block back in the pool are ASan reports, as they are for malloc'ed memory.
TEST(Storage, PooledHostMemoryIsPoisonedForASan) {
#ifndef MX_TEST_ASAN
  GTEST_SKIP() << "needs AddressSanitizer";
#else
  const Context ctx = TestCtx(3);
  Storage* st = Storage::Get();
  Storage::Handle a = st->Alloc(10, ctx);
  char* p = static_cast<char*>(a.dptr);
  EXPECT_EQ(__asan_region_is_poisoned(p, 10), nullptr);
  EXPECT_TRUE(__asan_address_is_poisoned(p + 10));
  EXPECT_TRUE(__asan_address_is_poisoned(p + 63));
  st->Free(a);
  EXPECT_TRUE(__asan_address_is_poisoned(p));
  // The same bucket again, for more bytes: they are usable, the rest is not.
  Storage::Handle b = st->Alloc(40, ctx);
  ASSERT_EQ(b.dptr, p);
  EXPECT_EQ(__asan_region_is_poisoned(p, 40), nullptr);
  EXPECT_TRUE(__asan_address_is_poisoned(p + 40));
  st->Free(b);
  st->ReleasePool(ctx);
#endif
}

TEST(Storage, ZeroBytesIsNull) {
  Storage::Handle h = Storage::Get()->Alloc(0, TestCtx(2));
  EXPECT_EQ(h.dptr, nullptr);
  Storage::Get()->Free(h);
}

TEST(Storage, OutOfMemoryIsAnErrorNamingSizeAndDevice) {
  const Context ctx = TestCtx(3);
  for (size_t size : {size_t(1) << 45, size_t(1) << 62}) {
    try {
      Storage::Get()->Alloc(size, ctx);
      FAIL() << "expected out of memory for " << size;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
      const std::string msg = e.what();
      EXPECT_NE(msg.find(std::to_string(size)), std::string::npos) << msg;
      EXPECT_NE(msg.find("cpu(103)"), std::string::npos) << msg;
    }
  }
  // Still works afterwards.
  Storage::Handle h = Storage::Get()->Alloc(128, ctx);
  EXPECT_NE(h.dptr, nullptr);
  Storage::Get()->Free(h);
}

// A host request beyond the machine's memory and swap is refused before the system is asked, so
// it is an error also where the kernel would overcommit and kill the process at the first touch.
TEST(Storage, HostRequestsBeyondTheMachineAreErrors) {
  const size_t size = size_t(1) << 44;  // 16 TiB
  try {
    Storage::Get()->Alloc(size, TestCtx(4));
    FAIL() << "16 TiB allocated";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("17592186044416 bytes (16.0 TiB)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("memory and swap"), std::string::npos) << msg;
  }
  EXPECT_EQ(Storage::Get()->Stats(TestCtx(4)).bytes_in_use, 0u);
}

TEST(Storage, GpuWithoutDeviceIsAnError) {
  if (GpuCount() > 0) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(Storage::Get()->Alloc(64, Context::GPU(0)), Error);
}

}  // namespace
}  // namespace mx
