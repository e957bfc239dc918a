// NDArray files: see docs/design/ndarray_format.md for the layout.
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "base/error.h"
#include "base/file.h"
#include "ndarray/ndarray.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libmx's file formats are little-endian; add byte swapping for this host"
#endif

namespace mx {
namespace {

constexpr char kMagic[8] = {'M', 'X', 'N', 'D', 'A', 'R', 'R', 'Y'};
constexpr uint32_t kVersion = 1;

uint32_t Crc32(const char* data, size_t n, uint32_t crc = 0) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ uint8_t(data[i])) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

class Writer {
 public:
  template <typename T>
  void Put(const T& v) {
    Bytes(&v, sizeof(T));
  }
  void Bytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  const std::string& str() const { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(const std::string& buf, const std::string& path) : buf_(buf), path_(path) {}
  template <typename T>
  T Get(const char* what) {
    T v;
    Bytes(&v, sizeof(T), what);
    return v;
  }
  void Bytes(void* p, size_t n, const char* what) {
    MX_CHECK(n <= buf_.size() - pos_, kIO)
        << "'" << path_ << "' is truncated: " << what << " needs " << n << " bytes at offset "
        << pos_ << ", the file has " << buf_.size() << " bytes";
    // An empty array's host buffer may be null, and memcpy's arguments never may.
    if (n != 0) std::memcpy(p, buf_.data() + pos_, n);
    pos_ += n;
  }
  size_t remaining() const { return buf_.size() - pos_; }

 private:
  const std::string& buf_;
  const std::string& path_;
  size_t pos_ = 0;
};

}  // namespace

std::string NDArray::SaveToBuffer(const std::vector<NDArray>& arrays,
                                  const std::vector<std::string>& names) {
  MX_CHECK(names.empty() || names.size() == arrays.size(), kInvalidArgument)
      << "save: " << arrays.size() << " arrays but " << names.size() << " names";
  Writer w;
  w.Bytes(kMagic, sizeof(kMagic));
  w.Put(kVersion);
  w.Put(uint64_t(arrays.size()));
  w.Put(uint64_t(names.size()));
  std::vector<char> host;
  for (const NDArray& a : arrays) {
    MX_CHECK(!a.is_none(), kInvalidArgument) << "save: an array is empty (none)";
    w.Put(int32_t(a.dtype()));
    w.Put(int32_t(a.ctx().dev_type));
    w.Put(int32_t(a.ctx().dev_id));
    w.Put(int32_t(a.shape().ndim()));
    for (int64_t d : a.shape()) w.Put(d);
    w.Put(uint64_t(a.Bytes()));
    host.resize(a.Bytes());
    a.SyncCopyToCPU(host.data(), a.Size());
    w.Bytes(host.data(), host.size());
  }
  for (const std::string& n : names) {
    w.Put(uint64_t(n.size()));
    w.Bytes(n.data(), n.size());
  }
  const uint32_t crc = Crc32(w.str().data(), w.str().size());
  w.Put(crc);
  return w.str();
}

void NDArray::Save(const std::string& path, const std::vector<NDArray>& arrays,
                   const std::vector<std::string>& names) {
  const std::string bytes = SaveToBuffer(arrays, names);
  // Written to a temporary name and renamed, so a crash never leaves a half-written file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MX_CHECK(out.good(), kIO) << "cannot open '" << path << "' for writing";
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    MX_CHECK(out.good(), kIO) << "failed writing '" << path << "'";
  }
  MX_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, kIO)
      << "cannot move '" << tmp << "' to '" << path << "'";
}

void NDArray::Load(const std::string& path, std::vector<NDArray>* arrays,
                   std::vector<std::string>* names) {
  // A regular file's bytes only: every size the file declares is checked against what it holds.
  const std::string buf = ReadRegularFile(path);
  LoadFromBuffer(buf, path, arrays, names);
}

void NDArray::LoadFromBuffer(const std::string& buf, const std::string& path,
                             std::vector<NDArray>* arrays, std::vector<std::string>* names) {
  MX_CHECK(buf.size() >= sizeof(kMagic) + 4 && std::memcmp(buf.data(), kMagic, 8) == 0, kIO)
      << "'" << path << "' is not a libmx array file (bad magic)";
  MX_CHECK(buf.size() >= 8 + 4 + 16 + 4, kIO) << "'" << path << "' is truncated";
  uint32_t stored_crc;
  std::memcpy(&stored_crc, buf.data() + buf.size() - 4, 4);
  Reader r(buf, path);
  char magic[8];
  r.Bytes(magic, 8, "magic");
  const auto version = r.Get<uint32_t>("version");
  MX_CHECK(version == kVersion, kIO) << "'" << path << "' has format version " << version
                                     << "; this libmx reads version " << kVersion;
  MX_CHECK(Crc32(buf.data(), buf.size() - 4) == stored_crc, kIO)
      << "'" << path << "' is corrupt (checksum mismatch)";
  const auto count = r.Get<uint64_t>("array count");
  const auto name_count = r.Get<uint64_t>("name count");
  // Each array takes at least 24 bytes: a count beyond that is corruption, not a huge file.
  MX_CHECK(count <= r.remaining() / 24 && (name_count == 0 || name_count == count), kIO)
      << "'" << path << "' is corrupt: " << count << " arrays and " << name_count << " names";
  std::vector<NDArray> out;
  for (uint64_t i = 0; i < count; ++i) {
    const auto dtype = r.Get<int32_t>("dtype");
    const auto dev_type = r.Get<int32_t>("device type");
    const auto dev_id = r.Get<int32_t>("device id");
    const auto ndim = r.Get<int32_t>("ndim");
    MX_CHECK(IsValidDType(dtype) && ndim >= 0 && ndim <= Shape::kMaxNDim, kIO)
        << "'" << path << "' is corrupt: array " << i << " has dtype " << dtype << " and ndim "
        << ndim;
    std::vector<int64_t> dims(ndim);
    for (auto& d : dims) {
      d = r.Get<int64_t>("dimension");
      MX_CHECK(d >= 0, kIO) << "'" << path << "' is corrupt: array " << i << " has dim " << d;
    }
    const Shape shape(dims);
    const auto nbytes = r.Get<uint64_t>("byte count");
    const size_t elem = DTypeSize(static_cast<DType>(dtype));
    int64_t elements = -1;  // stays -1 when the dims' product overflows: corrupt as well
    try {
      elements = shape.Size();
    } catch (const Error&) {
    }
    MX_CHECK(elements >= 0 && nbytes <= r.remaining() && nbytes % elem == 0 &&
                 nbytes / elem == static_cast<uint64_t>(elements),
             kIO)
        << "'" << path << "' is corrupt: array " << i << " of shape " << shape << " claims "
        << nbytes << " bytes";
    // Arrays go back to the device they were saved from when this process has it, else the CPU.
    Context ctx{static_cast<DeviceType>(dev_type), dev_id};
    try {
      ctx.Validate();
    } catch (const Error&) {
      ctx = Context::CPU();
    }
    NDArray a(shape, ctx, static_cast<DType>(dtype));
    std::vector<char> host(nbytes);
    r.Bytes(host.data(), nbytes, "array data");
    a.SyncCopyFromCPU(host.data(), a.Size());
    out.push_back(a);
  }
  std::vector<std::string> out_names;
  for (uint64_t i = 0; i < name_count; ++i) {
    const auto len = r.Get<uint64_t>("name length");
    MX_CHECK(len <= r.remaining(), kIO) << "'" << path << "' is corrupt: name " << i;
    std::string n(len, '\0');
    r.Bytes(&n[0], len, "name");
    out_names.push_back(std::move(n));
  }
  MX_CHECK(r.remaining() == 4, kIO)
      << "'" << path << "' is corrupt: " << r.remaining() - 4 << " unexpected bytes at the end";
  *arrays = std::move(out);
  if (names != nullptr) *names = std::move(out_names);
}

}  // namespace mx
