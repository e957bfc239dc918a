// Reading MNIST's IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic
// number, counts) followed by unsigned bytes. A file is read through zlib when it starts with
// gzip's magic bytes (1f 8b) and as it is otherwise: the name does not matter.
//
// Untrusted files cost no more than their real size: the sizes a header declares are checked
// against the file before anything of that size is allocated (a 20-byte file claiming 2^32
// images is an error), and a gzip stream is decompressed only up to the size its header declares
// (a stream that inflates further, a "gzip bomb", is an error once one byte more arrives).
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

// The whole contents of `path`, decompressed when it is gzip'ed (by its first bytes). More than
// `max_bytes` is an error, found after reading at most max_bytes + 1 of them.
std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path, size_t max_bytes = SIZE_MAX);

IdxImages ReadIdxImages(const std::string& path);
std::vector<uint8_t> ReadIdxLabels(const std::string& path);

}  // namespace io
}  // namespace mx

#endif  // MX_IO_IDX_FILE_H_
