// Reading MNIST's IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic
// number, counts) followed by unsigned bytes. Files may be gzip'ed or raw; zlib reads both.
// Every problem is mx::Error(kIO) naming the file and what is wrong with it.
#ifndef MX_IO_IDX_FILE_H_
#define MX_IO_IDX_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mx {
namespace io {

constexpr uint32_t kIdxImageMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kIdxLabelMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, row-major
};

// The (decompressed) contents of the regular file `path`, but at most max_bytes + 1 bytes: a
// caller that knows the size from a header learns that the file holds more without reading it
// all (a small gzip file may expand without bound).
std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path, size_t max_bytes = SIZE_MAX - 1);

IdxImages ReadIdxImages(const std::string& path);
std::vector<uint8_t> ReadIdxLabels(const std::string& path);

}  // namespace io
}  // namespace mx

#endif  // MX_IO_IDX_FILE_H_
