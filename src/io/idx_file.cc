#include "io/idx_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "base/error.h"

namespace mx {
namespace io {
namespace {

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose_r(f); }
};

std::string WhatIsIt(uint32_t magic) {
  if (magic == kIdxImageMagic) return " (that of an IDX image file)";
  if (magic == kIdxLabelMagic) return " (that of an IDX label file)";
  return "";
}

// The magic number first: a file of the other kind is named as such even when it is short.
void CheckHeader(const std::vector<uint8_t>& bytes, const std::string& path, uint32_t expected,
                 size_t header_size, const char* kind) {
  MX_CHECK(bytes.size() >= 4, kIO)
      << "'" << path << "' is not an IDX " << kind << " file: " << bytes.size()
      << " bytes is too short for a magic number";
  const uint32_t magic = BigEndian32(bytes.data());
  MX_CHECK(magic == expected, kIO)
      << "'" << path << "' is not an IDX " << kind << " file: wrong magic number " << magic
      << WhatIsIt(magic) << ", expected " << expected;
  MX_CHECK(bytes.size() >= header_size, kIO)
      << "'" << path << "': " << bytes.size() << " bytes is shorter than the " << header_size
      << "-byte header of an IDX " << kind << " file (truncated?)";
}

}  // namespace

std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path) {
  errno = 0;
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  MX_CHECK(f != nullptr, kIO) << "cannot open '" << path
                              << "': " << (errno != 0 ? std::strerror(errno) : "out of memory");
  gzbuffer(f.get(), 1 << 16);
  // Appending chunks grows the vector geometrically and touches only pages that hold data (a new
  // page costs about 11 us on our machines: a zero-filled 1 MiB chunk per read cost 3-10 ms).
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 16);
  for (;;) {
    const int n = gzread(f.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(f.get(), &code);
      MX_THROW(kIO) << "cannot read '" << path
                    << "': " << (code == Z_ERRNO ? std::strerror(errno) : msg)
                    << (code == Z_DATA_ERROR ? " (corrupt gzip data)" : "");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // zlib returns the data before a truncation and only reports it through gzerror.
  int code = 0;
  const char* msg = gzerror(f.get(), &code);
  MX_CHECK(code == Z_OK, kIO) << "cannot read '" << path << "': " << msg
                              << (code == Z_BUF_ERROR ? " (truncated gzip file)" : "");
  return out;
}

IdxImages ReadIdxImages(const std::string& path) {
  std::vector<uint8_t> bytes = ReadMaybeGzipFile(path);
  CheckHeader(bytes, path, kIdxImageMagic, 16, "image");
  IdxImages images;
  images.count = BigEndian32(bytes.data() + 4);
  images.rows = BigEndian32(bytes.data() + 8);
  images.cols = BigEndian32(bytes.data() + 12);
  MX_CHECK(images.rows > 0 && images.cols > 0, kIO)
      << "'" << path << "': images of " << images.rows << "x" << images.cols << " pixels";
  // Three 32-bit fields: their product can pass 2^64, and a wrapped product can equal the size of
  // a short file (2^31 x 2^20 x 1835008 wraps to 0), which readers would then index far past.
  uint64_t expected = 0;
  const bool huge = __builtin_mul_overflow(uint64_t(images.count) * uint64_t(images.rows),
                                           uint64_t(images.cols), &expected);
  const uint64_t actual = bytes.size() - 16;
  MX_CHECK(!huge && actual == expected, kIO)
      << "'" << path << "': the header says " << images.count << " images of " << images.rows << "x"
      << images.cols << " pixels (" << (huge ? std::string("over 2^64") : std::to_string(expected))
      << " bytes) but the file holds " << actual << " bytes after the header"
      << (huge || actual < expected ? " (truncated?)" : "");
  bytes.erase(bytes.begin(), bytes.begin() + 16);
  images.pixels = std::move(bytes);
  return images;
}

std::vector<uint8_t> ReadIdxLabels(const std::string& path) {
  std::vector<uint8_t> bytes = ReadMaybeGzipFile(path);
  CheckHeader(bytes, path, kIdxLabelMagic, 8, "label");
  const uint64_t count = BigEndian32(bytes.data() + 4);
  const uint64_t actual = bytes.size() - 8;
  MX_CHECK(actual == count, kIO) << "'" << path << "': the header says " << count
                                 << " labels but the file holds " << actual
                                 << " bytes after the header"
                                 << (actual < count ? " (truncated?)" : "");
  bytes.erase(bytes.begin(), bytes.begin() + 8);
  return bytes;
}

}  // namespace io
}  // namespace mx
