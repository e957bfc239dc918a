// Fuzzes the MNIST IDX reader (src/io/idx_file.cc), plain and gzip'ed. Each input is written to an
// in-memory file and read as an image file and as a label file; then the harness gzips the same
// bytes and reads them again (so the fuzzer explores IDX headers behind gzip too, which it could
// not reach by mutating compressed bytes), and reads a gzip stream cut in half.
//
// Expected: every failure is mx::Error with code kIO naming the file; a file that loads holds
// exactly what its header says (count x rows x cols pixels, count labels); gzip'ed bytes read back
// as the bytes and load the same way as the plain file; a truncated gzip stream is an error,
// never silently shorter data.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "base/error.h"
#include "fuzz/fuzz_util.h"
#include "io/idx_file.h"

namespace {

using mx_fuzz::Fail;

// An outcome to compare the plain and the gzip'ed reads: "error", or what was loaded.
struct Outcome {
  bool ok = false;
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> bytes;
  bool operator==(const Outcome& o) const {
    return ok == o.ok && count == o.count && rows == o.rows && cols == o.cols && bytes == o.bytes;
  }
};

template <typename F>
bool Expect(const std::string& path, const char* what, F&& read) {
  try {
    read();
    return true;
  } catch (const mx::Error& e) {
    if (e.code() != mx::ErrorCode::kIO)
      Fail(std::string(what) + ": error code " + std::to_string(static_cast<int>(e.code())) +
           " instead of kIO: " + e.what());
    if (std::string(e.what()).find(path) == std::string::npos)
      Fail(std::string(what) + ": the error does not name the file: " + e.what());
    mx_fuzz::Note(what, e.what());
    return false;
  } catch (const std::exception& e) {
    Fail(std::string(what) + ": threw something other than mx::Error: " + e.what());
  }
}

Outcome Images(const std::string& path) {
  Outcome o;
  mx::io::IdxImages images;
  o.ok = Expect(path, "ReadIdxImages", [&] { images = mx::io::ReadIdxImages(path); });
  if (!o.ok) return o;
  if (images.count < 0 || images.rows <= 0 || images.cols <= 0)
    Fail("ReadIdxImages accepted " + std::to_string(images.count) + " images of " +
         std::to_string(images.rows) + "x" + std::to_string(images.cols));
  // In 128 bits: the product of three 32-bit header fields does not fit in 64.
  const unsigned __int128 pixels = static_cast<unsigned __int128>(images.count) *
                                   static_cast<uint64_t>(images.rows) *
                                   static_cast<uint64_t>(images.cols);
  if (pixels != images.pixels.size())
    Fail("ReadIdxImages accepted a header of " + std::to_string(images.count) + " images of " +
         std::to_string(images.rows) + "x" + std::to_string(images.cols) + " with " +
         std::to_string(images.pixels.size()) + " pixels");
  o.count = images.count;
  o.rows = images.rows;
  o.cols = images.cols;
  o.bytes = std::move(images.pixels);
  return o;
}

Outcome Labels(const std::string& path) {
  Outcome o;
  o.ok = Expect(path, "ReadIdxLabels", [&] { o.bytes = mx::io::ReadIdxLabels(path); });
  return o;
}

std::string Gzip(const uint8_t* data, size_t size) {
  // One stream for the whole run: a new one costs ~300 KiB of fresh pages per input, which on
  // these machines (~11 us a page) would halve the executions per second.
  static z_stream* z = [] {
    auto* s = new z_stream{};
    // windowBits 15 + 16: a gzip header and trailer, as the gzip tool writes.
    if (deflateInit2(s, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      Fail("deflateInit2 failed");
    return s;
  }();
  if (deflateReset(z) != Z_OK) Fail("deflateReset failed");
  std::string out(deflateBound(z, size), '\0');
  z->next_in = const_cast<Bytef*>(data);
  z->avail_in = static_cast<uInt>(size);
  z->next_out = reinterpret_cast<Bytef*>(&out[0]);
  z->avail_out = static_cast<uInt>(out.size());
  if (deflate(z, Z_FINISH) != Z_STREAM_END) Fail("deflate failed");
  out.resize(z->total_out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mx_fuzz::MemFile plain_file, gzip_file;
  const std::string& plain = plain_file.Write(data, size);
  const Outcome images = Images(plain);
  const Outcome labels = Labels(plain);
  if (labels.ok && size >= 8) {
    const bool gzipped = data[0] == 0x1f && data[1] == 0x8b;
    const uint64_t count = (uint64_t{data[4]} << 24) | (uint64_t{data[5]} << 16) |
                           (uint64_t{data[6]} << 8) | uint64_t{data[7]};
    if (!gzipped && labels.bytes.size() != count) Fail("ReadIdxLabels: count differs from header");
  }

  const std::string gz = Gzip(data, size);
  const std::string& gzip = gzip_file.Write(gz);
  std::vector<uint8_t> back;
  if (!Expect(gzip, "ReadMaybeGzipFile", [&] { back = mx::io::ReadMaybeGzipFile(gzip); }))
    Fail("a gzip'ed file does not read");
  if (back != std::vector<uint8_t>(data, data + size)) Fail("a gzip'ed file reads other bytes");
  // zlib reads a file without the gzip magic as it is: a plain file and its gzip'ed copy must give
  // the same result (a file that starts with the magic is itself a gzip stream, read through).
  if (!(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
    if (!(Images(gzip) == images)) Fail("ReadIdxImages: gzip'ed and plain copies differ");
    if (!(Labels(gzip) == labels)) Fail("ReadIdxLabels: gzip'ed and plain copies differ");
  }

  const std::string& cut = gzip_file.Write(gz.substr(0, gz.size() / 2));
  if (Expect(cut, "ReadMaybeGzipFile of a truncated stream",
             [&] { mx::io::ReadMaybeGzipFile(cut); }))
    Fail("a gzip stream cut in half reads without an error");
  return 0;
}
