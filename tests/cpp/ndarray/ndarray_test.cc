#include "ndarray/ndarray.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <numeric>
#include <thread>

#include "array_test_util.h"
#include "base/error.h"
#include "engine/engine.h"
#include "storage/storage.h"

namespace mx {
namespace {

std::vector<float> Iota(size_t n, float start = 0) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

using test::Read;

NDArray FromVector(const Shape& s, const std::vector<float>& v, Context ctx = Context::CPU()) {
  NDArray a(s, ctx);
  a.SyncCopyFromCPU(v.data(), v.size());
  return a;
}

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/mx_ndarray_test_" + name;
}

TEST(NDArray, CopyInAndOut) {
  NDArray a = FromVector(Shape{2, 3}, Iota(6));
  EXPECT_EQ(Read(a), Iota(6));
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.dtype(), DType::kFloat32);
  EXPECT_EQ(a.ctx(), Context::CPU());
}

TEST(NDArray, ViewsShareMemoryAndOrdering) {
  NDArray a = FromVector(Shape{4, 3}, Iota(12));
  NDArray rows = a.Slice(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 3}));
  EXPECT_EQ(Read(rows), Iota(6, 3));
  NDArray row = a.At(2);
  EXPECT_EQ(row.shape(), (Shape{3}));
  EXPECT_EQ(Read(row), Iota(3, 6));
  NDArray flat = a.Reshape(Shape{12});
  // Writing through a view is seen by the base and the other views.
  row.SyncCopyFromCPU(std::vector<float>{-1, -2, -3}.data(), 3);
  std::vector<float> expect = Iota(12);
  expect[6] = -1;
  expect[7] = -2;
  expect[8] = -3;
  EXPECT_EQ(Read(flat), expect);
  EXPECT_EQ(Read(rows)[3], -1);
  EXPECT_TRUE(row.SharesChunkWith(a));
}

TEST(NDArray, BadViewsAreErrors) {
  NDArray a(Shape{4, 3}, Context::CPU());
  EXPECT_THROW(a.Slice(3, 5), Error);
  EXPECT_THROW(a.Slice(2, 1), Error);
  EXPECT_THROW(a.At(4), Error);
  EXPECT_THROW(a.At(-1), Error);
  EXPECT_THROW(a.Reshape(Shape{5, 2}), Error);
  EXPECT_THROW(NDArray(Shape{}, Context::CPU()).At(0), Error);
  try {
    a.Reshape(Shape{5});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(4,3)"), std::string::npos) << e.what();
  }
  float buf[5];
  EXPECT_THROW(a.SyncCopyToCPU(buf, 5), Error);
  EXPECT_THROW(a.SyncCopyFromCPU(buf, 5), Error);
}

TEST(NDArray, CopyBetweenCpuDevicesAndTypes) {
  NDArray a = FromVector(Shape{5}, Iota(5, 1));
  NDArray b = a.CopyTo(Context::CPU(1));
  EXPECT_EQ(b.ctx(), Context::CPU(1));
  EXPECT_EQ(Read(b), Iota(5, 1));
  NDArray d(Shape{5}, Context::CPU(), DType::kFloat64);
  NDArray::CopyFromTo(a, d);
  std::vector<double> back(5);
  d.SyncCopyToCPU(back.data(), 5);
  EXPECT_EQ(back[4], 5.0);
  NDArray i(Shape{5}, Context::CPU(), DType::kInt32);
  NDArray::CopyFromTo(d, i);
  std::vector<int32_t> ints(5);
  i.SyncCopyToCPU(ints.data(), 5);
  EXPECT_EQ(ints[2], 3);
  EXPECT_THROW(NDArray::CopyFromTo(a, NDArray(Shape{6}, Context::CPU())), Error);
}

TEST(NDArray, FillAndReinterpret) {
  NDArray a(Shape{2, 3}, Context::CPU());
  a.Fill(2.5);
  EXPECT_EQ(Read(a), std::vector<float>(6, 2.5f));
  NDArray i(Shape{4}, Context::CPU(), DType::kInt64);
  i.Fill(-7);
  std::vector<int64_t> ints(4);
  i.SyncCopyToCPU(ints.data(), 4);
  EXPECT_EQ(ints, std::vector<int64_t>(4, -7));
  NDArray bytes(Shape{64}, Context::CPU(), DType::kUint8);
  bytes.Fill(0);
  NDArray view = bytes.ReinterpretAs(Shape{4, 2}, DType::kFloat64);
  view.Fill(1.0);
  EXPECT_EQ(Read(bytes.ReinterpretAs(Shape{2}, DType::kFloat32))[1], 1.875f);  // 1.0 as double
  EXPECT_THROW(bytes.ReinterpretAs(Shape{9}, DType::kFloat64), Error);
  EXPECT_THROW(NDArray(Shape{2}, Context::CPU(), DType::kFloat16).Fill(1.0), Error);
}

TEST(NDArray, GpuArraysNeedAGpu) {
  if (GpuCount() > 0) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(NDArray(Shape{2}, Context::GPU(0)), Error);
}

// Only reads block: a copy into an array whose writer is still running returns at once.
// An empty array has no memory: filling it (simple_bind zero-fills every argument) must not hand
// memset a null pointer, which UBSan reports even for 0 bytes.
TEST(NDArray, FillingAnEmptyArrayIsFine) {
  NDArray a(Shape{0, 3}, Context::CPU());
  a.Fill(0.0);
  a.Fill(2.0);
  a.WaitToRead();
  EXPECT_EQ(a.Size(), 0);
}

TEST(NDArray, WritesReturnAtOnce) {
  NDArray a = FromVector(Shape{3}, {1, 2, 3});
  std::atomic<bool> started{false}, release{false}, finished{false};
  engine::VarHandle v = a.var();
  engine::Engine::Get()->PushSync(
      [&](engine::RunContext) {
        started = true;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!release.load() && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        finished = true;
      },
      Context::CPU(), nullptr, 0, &v, 1);
  while (!started.load()) std::this_thread::yield();
  const std::vector<float> next{7, 8, 9};
  a.SyncCopyFromCPU(next.data(), 3);  // must not wait for the op above
  NDArray b = a.CopyTo(Context::CPU(1));
  EXPECT_FALSE(finished.load()) << "a write or a copy blocked on a pending op";
  release = true;
  EXPECT_EQ(Read(b), next);
}

TEST(NDArray, MemoryReturnsToThePool) {
  const Context ctx = Context::CPU(7);
  const uint64_t before = Storage::Get()->Stats(ctx).bytes_in_use;
  {
    NDArray a(Shape{1024, 1024}, ctx, DType::kFloat32, false);
    EXPECT_GE(Storage::Get()->Stats(ctx).bytes_in_use, before + (4u << 20));
    NDArray view = a.Slice(0, 10);
    a = NDArray();
    EXPECT_GE(Storage::Get()->Stats(ctx).bytes_in_use, before + (4u << 20)) << "view keeps it";
  }
  engine::Engine::Get()->WaitForAll();
  EXPECT_EQ(Storage::Get()->Stats(ctx).bytes_in_use, before);
}

TEST(NDArray, SaveLoadListAndMap) {
  const std::string path = TempPath("list");
  NDArray a = FromVector(Shape{2, 2}, {1, 2, 3, 4});
  NDArray b(Shape{3}, Context::CPU(), DType::kInt64);
  std::vector<int64_t> ints{-1, 0, 1LL << 40};
  b.SyncCopyFromCPU(ints.data(), 3);
  NDArray::Save(path, {a, b}, {});
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  NDArray::Load(path, &arrays, &names);
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_TRUE(names.empty());
  EXPECT_EQ(arrays[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(Read(arrays[0]), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(arrays[1].dtype(), DType::kInt64);
  std::vector<int64_t> back(3);
  arrays[1].SyncCopyToCPU(back.data(), 3);
  EXPECT_EQ(back, ints);

  NDArray::Save(path, {a, b}, {"arg:w", "aux:s"});
  NDArray::Load(path, &arrays, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"arg:w", "aux:s"}));
  std::remove(path.c_str());
}

TEST(NDArray, CorruptFilesAreErrorsNeverCrashes) {
  const std::string path = TempPath("good");
  NDArray::Save(path, {FromVector(Shape{2, 3}, Iota(6)), FromVector(Shape{1}, {5})}, {"a", "b"});
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string bad = TempPath("bad");
  auto write = [&](const std::string& content) {
    std::ofstream out(bad, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  };
  auto expect_io_error = [&](const std::string& what) {
    std::vector<NDArray> arrays;
    std::vector<std::string> names;
    try {
      NDArray::Load(bad, &arrays, &names);
      ADD_FAILURE() << what << ": loaded without error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIO) << what;
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  };
  // Every truncation.
  for (size_t n = 0; n < bytes.size(); ++n) {
    write(bytes.substr(0, n));
    expect_io_error("truncated to " + std::to_string(n));
  }
  // Every single-byte corruption.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string c = bytes;
    c[i] = static_cast<char>(c[i] ^ 0x5A);
    write(c);
    expect_io_error("byte " + std::to_string(i) + " flipped");
  }
  write(bytes + "x");
  expect_io_error("trailing byte");
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  EXPECT_THROW(NDArray::Load(TempPath("missing"), &arrays, &names), Error);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

// The error Load reports for `path` (kIO expected).
std::string LoadError(const std::string& path) {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  try {
    NDArray::Load(path, &arrays, &names);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << path << " loaded";
  return "";
}

// The in-memory writer and reader are the file's: same bytes, same errors (naming the source).
TEST(NDArray, BufferSaveAndLoadAreTheFileFormat) {
  const std::string path = TempPath("buffer");
  const std::vector<NDArray> arrays{FromVector(Shape{2, 2}, {1, 2, 3, 4})};
  NDArray::Save(path, arrays, {"w"});
  std::string file;
  {
    std::ifstream in(path, std::ios::binary);
    file.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string bytes = NDArray::SaveToBuffer(arrays, {"w"});
  EXPECT_EQ(bytes, file);
  std::vector<NDArray> back;
  std::vector<std::string> names;
  NDArray::LoadFromBuffer(bytes, "memory", &back, &names);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(Read(back[0]), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(names, (std::vector<std::string>{"w"}));
  try {
    NDArray::LoadFromBuffer(bytes.substr(0, 20), "memory", &back, &names);
    ADD_FAILURE() << "a truncated buffer loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO);
    EXPECT_NE(std::string(e.what()).find("'memory'"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

// Fuzz findings (fuzz/regressions/ndarray_load/, docs/design/fuzzing.md).
std::string Regression(const std::string& name) {
  return std::string(MX_FUZZ_REGRESSIONS_DIR) + "/ndarray_load/" + name;
}

// One float32 array of shape (0,3): its empty data was copied out of the file with
// memcpy(nullptr, ..., 0), undefined behaviour that UBSan reports.
TEST(NDArray, LoadsZeroSizeArrays) {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  NDArray::Load(Regression("zero_size_array.params"), &arrays, &names);
  ASSERT_EQ(arrays.size(), 1u);
  EXPECT_EQ(arrays[0].shape(), (Shape{0, 3}));
  const std::string path = TempPath("zero_size");
  NDArray::Save(path, arrays, {"empty"});
  NDArray::Load(path, &arrays, &names);
  EXPECT_EQ(arrays[0].shape(), (Shape{0, 3}));
  EXPECT_EQ(names, (std::vector<std::string>{"empty"}));
  std::remove(path.c_str());
}

// Dims (2^32, 2^32) with 0 data bytes and a right checksum: the product wraps to 0 elements
// (signed overflow in Shape::Size), which matched the byte count, so the array loaded.
TEST(NDArray, DimsWhoseProductOverflowsAreCorrupt) {
  const std::string msg = LoadError(Regression("dims_product_overflow.params"));
  EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
}

// Paths that are not regular files are refused without reading: /dev/zero used to be read
// forever, and a FIFO without a writer blocked the caller in open().
TEST(NDArray, LoadRefusesDevicesPipesAndDirectories) {
  EXPECT_NE(LoadError("/dev/zero").find("character device"), std::string::npos);
  EXPECT_NE(LoadError(testing::TempDir()).find("directory"), std::string::npos);
  const std::string fifo = TempPath("fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(LoadError(fifo).find("pipe"), std::string::npos);
  std::remove(fifo.c_str());
}

// A checksummed header whose dims multiply past 64 bits is a corrupt file (kIO), not a wrapped
// size that happens to match the byte count.
TEST(NDArray, LoadRejectsDimsWhoseProductOverflows) {
  const std::string path = TempPath("overflow");
  NDArray::Save(path, {FromVector(Shape{1, 1}, {7})}, {});
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Header 28 bytes, then dtype, device type, device id, ndim, and the two dims at offset 44.
  const int64_t dims[2] = {int64_t{1} << 32, int64_t{1} << 32};  // product 2^64 wraps to 0
  std::memcpy(&bytes[44], dims, sizeof dims);
  const uint64_t zero = 0;
  std::memcpy(&bytes[60], &zero, 8);  // and a byte count of 0 to match the wrapped product
  bytes.erase(68, 4);                 // no data
  bytes.resize(bytes.size() - 4);     // new checksum
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) {
    crc ^= static_cast<uint8_t>(c);
    for (int k = 0; k < 8; ++k) crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  crc = ~crc;
  bytes.append(reinterpret_cast<const char*>(&crc), 4);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EXPECT_NE(LoadError(path).find("(4294967296,4294967296)"), std::string::npos);
  std::remove(path.c_str());
}

// Element and byte counts past 64 bits are errors naming the shape.
TEST(NDArray, ShapesWhoseSizeOverflowsAreErrors) {
  const int64_t big = int64_t{1} << 40;
  for (const auto& [shape, dtype] : {std::make_pair(Shape{INT64_MAX, 2}, DType::kUint8),
                                     std::make_pair(Shape{big, big}, DType::kFloat32),
                                     std::make_pair(Shape{int64_t{1} << 61}, DType::kFloat64)}) {
    try {
      NDArray a(shape, Context::CPU(), dtype);
      ADD_FAILURE() << shape << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(shape.ToString()), std::string::npos) << e.what();
    }
  }
  // A valid shape too big for the machine: out of memory at the first write, naming the size.
  NDArray huge(Shape{big}, Context::CPU());
  try {
    huge.CheckAndAlloc();
    ADD_FAILURE() << "4 TiB allocated";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
    EXPECT_NE(std::string(e.what()).find("4398046511104 bytes"), std::string::npos) << e.what();
  }
}

// ---- external memory (imported DLPack tensors) ----------------------------------------------

using engine::Engine;

void CountRelease(void* counter) { ++*static_cast<std::atomic<int>*>(counter); }

// Pushes a write of `var` that blocks its worker until `gate` is opened: an op that stays pending
// for as long as the test wants, with no sleeping or thread timing involved.
void PushGatedWrite(engine::VarHandle var, const std::shared_future<void>& gate) {
  Engine::Get()->PushSync([gate](engine::RunContext) { gate.wait(); }, Context::CPU(), nullptr, 0,
                          &var, 1, engine::FnProperty::kNormal, 0, "gated_write");
}

TEST(NDArray, ExternalMemoryIsReleasedOnceAfterItsLastUserAndPendingOps) {
  if (std::string(Engine::Get()->Name()) == "naive") GTEST_SKIP() << "the gate would block";
  std::vector<float> buffer = Iota(6);
  std::atomic<int> released{0};
  const StorageStats before = Storage::Get()->Stats(Context::CPU());
  std::promise<void> gate;
  {
    NDArray a = NDArray::FromExternal(buffer.data(), Shape{2, 3}, DType::kFloat32, Context::CPU(),
                                      CountRelease, &released);
    EXPECT_EQ(a.data().dptr, buffer.data());  // no copy
    EXPECT_EQ(Storage::Get()->Stats(Context::CPU()).bytes_in_use, before.bytes_in_use);
    EXPECT_EQ(Read(a.At(1)), Iota(3, 3));
    NDArray view = a.Slice(1, 2);
    {
      NDArray copy = a;  // a copy going away releases nothing
    }
    a = NDArray();
    EXPECT_EQ(Read(view), Iota(3, 3));  // the view alone keeps the memory
    PushGatedWrite(view.var(), gate.get_future().share());
    // The last user goes while the gated write is pending.
  }
  EXPECT_EQ(released.load(), 0) << "released while an op on the memory was pending";
  gate.set_value();
  Engine::Get()->WaitForAll();
  EXPECT_EQ(released.load(), 1);
}

TEST(NDArray, ExternalMemoryIsReleasedEvenWhenItsLastOpFailed) {
  std::vector<float> buffer = Iota(4);
  std::atomic<int> released{0};
  {
    NDArray a = NDArray::FromExternal(buffer.data(), Shape{4}, DType::kFloat32, Context::CPU(),
                                      CountRelease, &released);
    engine::VarHandle v = a.var();
    // The release op behind this one is skipped (the variable carries the error): the release
    // must happen anyway.
    Engine::Get()->PushSync(
        [](engine::RunContext) { throw Error(ErrorCode::kFailed, "the producer's op failed"); },
        Context::CPU(), nullptr, 0, &v, 1, engine::FnProperty::kNormal, 0, "failing_write");
  }
  EXPECT_THROW(Engine::Get()->WaitForAll(), Error);
  EXPECT_EQ(released.load(), 1);
}

TEST(NDArray, FromExternalThatFailsLeavesTheMemoryWithItsOwner) {
  float value = 1;
  std::atomic<int> released{0};
  EXPECT_THROW(NDArray::FromExternal(&value, Shape::Unknown(), DType::kFloat32, Context::CPU(),
                                     CountRelease, &released),
               Error);
  EXPECT_THROW(NDArray::FromExternal(&value, Shape{1}, DType::kFloat32, Context::GPU(9999),
                                     CountRelease, &released),
               Error);
  EXPECT_THROW(NDArray::FromExternal(nullptr, Shape{2}, DType::kFloat32, Context::CPU(),
                                     CountRelease, &released),
               Error);
  Engine::Get()->WaitForAll();
  EXPECT_EQ(released.load(), 0);
  // A null release (a DLPack tensor without a deleter) is fine; empty memory may be NULL.
  NDArray empty = NDArray::FromExternal(nullptr, Shape{0, 3}, DType::kFloat32, Context::CPU(),
                                        nullptr, nullptr);
  EXPECT_EQ(empty.Size(), 0);
}

}  // namespace
}  // namespace mx
