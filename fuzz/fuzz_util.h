// Shared by the fuzz harnesses (fuzz/*_fuzz.cc); docs/design/fuzzing.md says how they are run.
//
// A harness is a plain LLVMFuzzerTestOneInput: under libFuzzer (the clang build, MX_BUILD_FUZZ)
// it is fuzzed, and in every other build fuzz/replay_main.cc feeds it the committed corpus and
// regressions, so both must see the same behaviour. A finding is either a sanitizer report or a
// broken expectation, which the harness reports with Fail(): it prints what was expected and
// aborts, so libFuzzer keeps the input as a crash and the replay test fails.
#ifndef MX_FUZZ_FUZZ_UTIL_H_
#define MX_FUZZ_FUZZ_UTIL_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "mx/c_api.h"

namespace mx_fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// MX_FUZZ_VERBOSE=1 prints every expected error (where an input stopped, and why): for writing
// seeds that reach as far as they should.
inline void Note(const std::string& call, const std::string& message) {
  static const bool verbose = std::getenv("MX_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s: %s\n", call.c_str(), message.c_str());
}

// A C ABI status must be MX_OK or one of `allowed`, with a message: any other code (above all
// MX_ERR_INTERNAL, or MX_ERR_FAILED from an exception nobody meant to throw) is a finding.
inline bool StatusOk(mx_status_t status, const char* call,
                     std::initializer_list<mx_status_t> allowed) {
  if (status == MX_OK) return true;
  for (const mx_status_t a : allowed) {
    if (status == a) {
      if (mx_get_last_error()[0] == '\0') Fail(std::string(call) + " failed without a message");
      Note(call, mx_get_last_error());
      return false;
    }
  }
  Fail(std::string(call) + " returned status " + std::to_string(status) + ": " +
       mx_get_last_error());
}

// A call that must succeed on what the harness built from an accepted input.
inline void MustSucceed(mx_status_t status, const char* call) {
  if (status != MX_OK) Fail(std::string(call) + " failed: " + mx_get_last_error());
}

// Synchronous ops: a finding is reported on the call that caused it, and runs are repeatable.
// An MX_ENGINE_TYPE the caller set wins.
inline void UseNaiveEngine() { setenv("MX_ENGINE_TYPE", "naive", 0); }

// An anonymous in-memory file, for loaders that take a path: Path() names it through /proc, so
// gzopen and std::ifstream open it like any file and nothing touches the disk.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("mx_fuzz", 0)) {
    if (fd_ < 0) Fail("memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& Write(const void* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) Fail("ftruncate failed");
    const char* p = static_cast<const char*>(data);
    for (size_t done = 0; done < size;) {
      const ssize_t n = pwrite(fd_, p + done, size - done, static_cast<off_t>(done));
      if (n <= 0) Fail("pwrite failed");
      done += static_cast<size_t>(n);
    }
    return path_;
  }
  const std::string& Write(const std::string& bytes) { return Write(bytes.data(), bytes.size()); }

 private:
  int fd_;
  std::string path_;
};

}  // namespace mx_fuzz

#endif  // MX_FUZZ_FUZZ_UTIL_H_
