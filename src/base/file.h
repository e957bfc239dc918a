// Reading files without trusting them: loaders (array files, symbol files, IDX files) open paths
// a user or a file names, so a path may be a device that never ends (/dev/zero), a FIFO nobody
// writes, or a directory. Only regular files are read, and only as many bytes as they hold.
//
//   std::string bytes = ReadRegularFile(path);  // mx::Error(kIO) naming path on any problem
#ifndef MX_BASE_FILE_H_
#define MX_BASE_FILE_H_

#include <string>

namespace mx {

// Opens `path` for reading and returns the descriptor (close it with close(2)). Throws mx::Error
// (kIO) naming the path when it cannot be opened or is not a regular file. Never blocks: a FIFO
// is refused without waiting for a writer.
int OpenRegularFile(const std::string& path);

// The contents of the regular file `path`: exactly the bytes its size says. Throws mx::Error
// (kIO) naming the path as OpenRegularFile does, or when reading fails.
std::string ReadRegularFile(const std::string& path);

}  // namespace mx

#endif  // MX_BASE_FILE_H_
