#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace mx {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a pipe (FIFO)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace

int OpenRegularFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, maybe forever. It
  // has no effect on reading a regular file, the only kind we go on with.
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  MX_CHECK(fd.get() >= 0, kIO) << "cannot open '" << path
                               << "' for reading: " << std::strerror(errno);
  struct stat st;
  MX_CHECK(fstat(fd.get(), &st) == 0, kIO)
      << "cannot stat '" << path << "': " << std::strerror(errno);
  MX_CHECK(S_ISREG(st.st_mode), kIO) << "cannot read '" << path << "': it is " << KindOf(st.st_mode)
                                     << ", and libmx reads only regular files";
  return fd.release();
}

std::string ReadRegularFile(const std::string& path) {
  Fd fd(OpenRegularFile(path));
  struct stat st;
  MX_CHECK(fstat(fd.get(), &st) == 0, kIO)
      << "cannot stat '" << path << "': " << std::strerror(errno);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = read(fd.get(), &out[done], out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    MX_CHECK(n >= 0, kIO) << "cannot read '" << path << "': " << std::strerror(errno);
    MX_CHECK(n > 0, kIO) << "cannot read '" << path << "': it shrank from " << out.size() << " to "
                         << done << " bytes while being read";
    done += static_cast<size_t>(n);
  }
  return out;
}

}  // namespace mx
