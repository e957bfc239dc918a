#include "io/idx_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "base/file.h"

namespace mx {
namespace io {
namespace {

// Deflate cannot expand data more than about 1032 times (a 258-byte match costs at least two
// bits): the most a gzip file of n bytes can decompress to, used to size buffers for data whose
// header may lie.
constexpr uint64_t kMaxGzipRatio = 1032;
// Bytes read per call: large enough that the calls cost nothing next to the copying.
constexpr size_t kChunk = size_t(1) << 20;

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// A file read as it is or, when it starts with gzip's magic bytes, through zlib.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    // A regular file only (never blocks on a FIFO): the size checks below need its size.
    fd_.fd = OpenRegularFile(path);
    struct stat st;
    MX_CHECK(::fstat(fd_.fd, &st) == 0, kIO)
        << "cannot open '" << path << "': " << std::strerror(errno);
    size_ = static_cast<uint64_t>(st.st_size);
    uint8_t magic[2] = {0, 0};
    const ssize_t n = ::pread(fd_.fd, magic, 2, 0);
    MX_CHECK(n >= 0, kIO) << "cannot read '" << path << "': " << std::strerror(errno);
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      // pread left the offset at 0, where zlib starts. gzdopen fails only for lack of memory,
      // leaving the descriptor open; on success the gzFile owns it.
      gz_.reset(gzdopen(fd_.fd, "rb"));
      MX_CHECK(gz_ != nullptr, kOutOfMemory) << "cannot read '" << path << "': out of memory";
      fd_.fd = -1;
      gzbuffer(gz_.get(), 1 << 16);
    }
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  bool gzip() const { return gz_ != nullptr; }
  // The size on disk (compressed, for a gzip'ed file).
  uint64_t disk_size() const { return size_; }

  // Reads up to `n` bytes into `dst`; fewer only at the end of the data. A corrupt or truncated
  // gzip stream is an error, found at the latest when a read reaches its end.
  size_t Read(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const size_t want = std::min(n - done, kChunk);
      const size_t got = gz_ != nullptr ? ReadGzip(dst + done, want) : ReadPlain(dst + done, want);
      done += got;
      if (got < want) break;
    }
    return done;
  }

 private:
  size_t ReadPlain(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::read(fd_.fd, dst + done, n - done);
      if (got < 0 && errno == EINTR) continue;
      MX_CHECK(got >= 0, kIO) << "cannot read '" << path_ << "': " << std::strerror(errno);
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

  size_t ReadGzip(uint8_t* dst, size_t n) {
    const int got = gzread(gz_.get(), dst, static_cast<unsigned>(n));
    int code = Z_OK;
    const char* msg = gzerror(gz_.get(), &code);
    // zlib returns the data before a truncation or damage and tells of it only through gzerror.
    MX_CHECK(got >= 0 && (code == Z_OK || code == Z_STREAM_END), kIO)
        << "cannot read '" << path_
        << "': " << (code == Z_ERRNO ? std::strerror(errno) : WithoutFdPrefix(msg))
        << (code == Z_DATA_ERROR ? " (corrupt gzip data)" : "")
        << (code == Z_BUF_ERROR ? " (truncated gzip file)" : "");
    return static_cast<size_t>(got);
  }

  // zlib prefixes its messages with the file's name, "<fd:3>" for a descriptor; ours name the
  // file already.
  static const char* WithoutFdPrefix(const char* msg) {
    const char* end = std::strstr(msg, ">: ");
    return std::strncmp(msg, "<fd:", 4) == 0 && end != nullptr ? end + 3 : msg;
  }

  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  };
  struct GzCloser {
    void operator()(gzFile f) const { gzclose_r(f); }
  };

  std::string path_;
  Fd fd_;
  std::unique_ptr<gzFile_s, GzCloser> gz_;
  uint64_t size_ = 0;
};

std::string WhatIsIt(uint32_t magic) {
  if (magic == kIdxImageMagic) return " (that of an IDX image file)";
  if (magic == kIdxLabelMagic) return " (that of an IDX label file)";
  return "";
}

// Reads and checks the header: the magic number first, so that a file of the other kind is named
// as such even when it is short.
std::vector<uint8_t> ReadHeader(InputFile* f, uint32_t expected, size_t header_size,
                                const char* kind) {
  std::vector<uint8_t> header(header_size);
  const size_t n = f->Read(header.data(), header_size);
  MX_CHECK(n >= 4, kIO) << "'" << f->path() << "' is not an IDX " << kind << " file: " << n
                        << " bytes is too short for a magic number";
  const uint32_t magic = BigEndian32(header.data());
  MX_CHECK(magic == expected, kIO)
      << "'" << f->path() << "' is not an IDX " << kind << " file: wrong magic number " << magic
      << WhatIsIt(magic) << ", expected " << expected
      << (f->gzip() ? " (in its gzip'ed data)" : " (nor is it gzip'ed: no 1f 8b at its start)");
  MX_CHECK(n == header_size, kIO) << "'" << f->path() << "': " << n << " bytes is shorter than the "
                                  << header_size << "-byte header of an IDX " << kind
                                  << " file (truncated?)";
  return header;
}

// Reads the `declared` bytes that follow the header, and checks that nothing follows them.
// `what` describes them for messages ("5 images of 28x28 pixels"). Nothing of the declared size
// is allocated before the file has shown it holds that much: a plain file's size is known, and a
// gzip'ed one grows its buffer as data arrives, up to what its compressed size can hold.
std::vector<uint8_t> ReadPayload(InputFile* f, size_t header_size, uint64_t declared,
                                 const std::string& what) {
  auto mismatch = [&](uint64_t actual, bool more) {
    MX_THROW(kIO) << "'" << f->path() << "': the header says " << what << " (" << declared
                  << " bytes) but the file holds " << (more ? "more than " : "") << actual
                  << " bytes after the header" << (actual < declared ? " (truncated?)" : "");
  };
  std::vector<uint8_t> out;
  if (!f->gzip()) {
    const uint64_t size = f->disk_size();
    const uint64_t actual = size > header_size ? size - header_size : 0;
    if (actual != declared) mismatch(actual, false);
    out.resize(declared);
    const size_t got = f->Read(out.data(), out.size());
    if (got != declared) mismatch(got, false);  // the file shrank while being read
    return out;
  }
  const uint64_t limit = std::max<uint64_t>(f->disk_size(), 1) * kMaxGzipRatio;
  out.reserve(std::min(declared, limit));
  uint64_t got = 0;
  while (got < declared) {
    const size_t want = std::min<uint64_t>(declared - got, kChunk);
    out.resize(got + want);
    const size_t n = f->Read(out.data() + got, want);
    got += n;
    if (n < want) break;
  }
  if (got < declared) mismatch(got, false);
  // One byte more, to find a stream longer than declared and to reach the end of a complete one
  // (where zlib checks its CRC and length).
  uint8_t extra = 0;
  if (f->Read(&extra, 1) != 0) mismatch(declared, true);
  return out;
}

// a * b * c, or an error when it does not fit in 64 bits.
uint64_t Product(const InputFile& f, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t ab = 0, abc = 0;
  MX_CHECK(!__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, &abc), kIO)
      << "'" << f.path() << "': the header says " << a << " images of " << b << "x" << c
      << " pixels, more than 2^64 bytes";
  return abc;
}

}  // namespace

std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path, size_t max_bytes) {
  InputFile f(path);
  std::vector<uint8_t> out;
  if (!f.gzip()) {
    MX_CHECK(f.disk_size() <= max_bytes, kIO)
        << "'" << path << "' holds " << f.disk_size() << " bytes, more than the " << max_bytes
        << " allowed";
    out.resize(f.disk_size());
    out.resize(f.Read(out.data(), out.size()));
    return out;
  }
  // Appending chunks grows the vector geometrically and touches only pages that hold data (a new
  // page costs about 11 us on our machines).
  std::vector<uint8_t> chunk(1 << 16);
  for (;;) {
    const size_t n = f.Read(chunk.data(), chunk.size());
    MX_CHECK(out.size() + n <= max_bytes, kIO)
        << "'" << path << "' decompresses to more than the " << max_bytes << " bytes allowed";
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    if (n < chunk.size()) break;
  }
  return out;
}

IdxImages ReadIdxImages(const std::string& path) {
  InputFile f(path);
  const std::vector<uint8_t> header = ReadHeader(&f, kIdxImageMagic, 16, "image");
  IdxImages images;
  images.count = BigEndian32(header.data() + 4);
  images.rows = BigEndian32(header.data() + 8);
  images.cols = BigEndian32(header.data() + 12);
  MX_CHECK(images.rows > 0 && images.cols > 0, kIO)
      << "'" << path << "': images of " << images.rows << "x" << images.cols << " pixels";
  const uint64_t declared = Product(f, images.count, images.rows, images.cols);
  images.pixels =
      ReadPayload(&f, 16, declared,
                  std::to_string(images.count) + " images of " + std::to_string(images.rows) + "x" +
                      std::to_string(images.cols) + " pixels");
  return images;
}

std::vector<uint8_t> ReadIdxLabels(const std::string& path) {
  InputFile f(path);
  const std::vector<uint8_t> header = ReadHeader(&f, kIdxLabelMagic, 8, "label");
  const uint64_t count = BigEndian32(header.data() + 4);
  return ReadPayload(&f, 8, count, std::to_string(count) + " labels");
}

}  // namespace io
}  // namespace mx
