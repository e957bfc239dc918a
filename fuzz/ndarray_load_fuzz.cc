// Fuzzes the NDArray file reader (docs/design/ndarray_format.md) on bytes in memory
// (NDArray::LoadFromBuffer, what mx_ndarray_load runs on a file's contents).
//
// The file ends with a CRC-32 of everything before it, which almost every mutation breaks; so each
// input is loaded twice: as it is (the magic, version and checksum checks) and with its last four
// bytes replaced by the right checksum (everything behind them: counts, dtypes, dims, byte counts,
// names).
//
// Expected: a bad file is mx::Error with code kIO and never anything else; mx_ndarray_load on a
// file of the same bytes agrees; a file that loads is consistent (one name per array or none) and
// saving what was loaded gives bytes that load to the same arrays and save the same way again.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "base/error.h"
#include "fuzz/fuzz_util.h"
#include "ndarray/ndarray.h"

namespace {

using mx_fuzz::Fail;

// Loads `bytes`; false when the reader rejected them (with the one error it may give).
bool Load(const std::string& bytes, std::vector<mx::NDArray>* arrays,
          std::vector<std::string>* names) {
  try {
    mx::NDArray::LoadFromBuffer(bytes, "fuzz input", arrays, names);
    return true;
  } catch (const mx::Error& e) {
    if (e.code() != mx::ErrorCode::kIO)
      Fail(std::string("a bad file gave error code ") + std::to_string(static_cast<int>(e.code())) +
           " instead of kIO: " + e.what());
    if (std::strstr(e.what(), "fuzz input") == nullptr)
      Fail(std::string("the error does not name the file: ") + e.what());
    mx_fuzz::Note("NDArray::LoadFromBuffer", e.what());
    return false;
  } catch (const std::exception& e) {
    Fail(std::string("a bad file threw something other than mx::Error: ") + e.what());
  }
}

std::string Save(const std::vector<mx::NDArray>& arrays, const std::vector<std::string>& names) {
  try {
    return mx::NDArray::SaveToBuffer(arrays, names);
  } catch (const std::exception& e) {
    Fail(std::string("saving loaded arrays failed: ") + e.what());
  }
}

// The C ABI reads a file and hands its bytes to the same reader: the outcome must be the same.
void CheckCApi(const std::string& bytes, bool loads) {
  static mx_fuzz::MemFile file;
  int32_t num = 0;
  mx_ndarray_t* handles = nullptr;
  const char** names = nullptr;
  const mx_status_t status = mx_ndarray_load(file.Write(bytes).c_str(), &num, &handles, &names);
  if (loads != (status == MX_OK) || (status != MX_OK && status != MX_ERR_IO))
    Fail(std::string("mx_ndarray_load disagrees with NDArray::LoadFromBuffer: status ") +
         std::to_string(status) + " " + (status == MX_OK ? "" : mx_get_last_error()));
  for (int32_t i = 0; status == MX_OK && i < num; ++i) mx_ndarray_free(handles[i]);
}

void Check(const std::string& bytes) {
  std::vector<mx::NDArray> arrays;
  std::vector<std::string> names;
  const bool loads = Load(bytes, &arrays, &names);
  CheckCApi(bytes, loads);
  if (!loads) return;
  if (!names.empty() && names.size() != arrays.size()) Fail("names and arrays differ in number");
  const std::string saved = Save(arrays, names);
  std::vector<mx::NDArray> arrays2;
  std::vector<std::string> names2;
  if (!Load(saved, &arrays2, &names2)) Fail("what was saved from a loaded file does not load");
  if (names2 != names || arrays2.size() != arrays.size()) Fail("a reload changed the names");
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays2[i].shape() != arrays[i].shape() || arrays2[i].dtype() != arrays[i].dtype())
      Fail("a reload changed array " + std::to_string(i));
  }
  // The data round trip is checked byte for byte by saving once more.
  if (Save(arrays2, names2) != saved) Fail("saving a reloaded file gave other bytes");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mx_fuzz::UseNaiveEngine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Check(bytes);
  if (size >= 4) {
    // zlib's crc32 is the format's CRC-32 (IEEE): the same checksum NDArray::Save writes.
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, data, static_cast<uInt>(size - 4)));
    std::string fixed = bytes;
    std::memcpy(&fixed[size - 4], &crc, 4);
    if (fixed != bytes) Check(fixed);
  }
  return 0;
}
