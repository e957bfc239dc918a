// Reading MNIST's IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic
// number, counts) followed by unsigned bytes. Files may be gzip'ed or raw; zlib reads both.
// Every problem is mx::Error(kIO) naming the file and what is wrong with it.
#ifndef MX_IO_IDX_FILE_H_
#define MX_IO_IDX_FILE_H_

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

// The whole (decompressed) contents of `path`.
std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path);

IdxImages ReadIdxImages(const std::string& path);
std::vector<uint8_t> ReadIdxLabels(const std::string& path);

}  // namespace io
}  // namespace mx

#endif  // MX_IO_IDX_FILE_H_
