#include "base/dtype.h"

namespace mx {
namespace {

struct DTypeInfo {
  const char* name;
  size_t size;
};

// Indexed by the DType value.
constexpr DTypeInfo kInfo[kNumDTypes] = {
    {"float32", 4}, {"float64", 8}, {"float16", 2}, {"uint8", 1},
    {"int32", 4},   {"int8", 1},    {"int64", 8},
};

std::string ValidNames() {
  std::string names;
  for (const auto& info : kInfo) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

}  // namespace

static_assert(sizeof(Half) == 2, "Half must be two bytes");

bool IsValidDType(int32_t value) { return value >= 0 && value < kNumDTypes; }

DType CheckedDType(int32_t value) {
  MX_CHECK(IsValidDType(value), kInvalidArgument) << "unknown dtype " << value << ": expected 0.."
                                                  << kNumDTypes - 1 << " (" << ValidNames() << ")";
  return static_cast<DType>(value);
}

size_t DTypeSize(DType dtype) {
  return kInfo[static_cast<int>(CheckedDType(static_cast<int32_t>(dtype)))].size;
}

const char* DTypeName(DType dtype) {
  return kInfo[static_cast<int>(CheckedDType(static_cast<int32_t>(dtype)))].name;
}

DType DTypeFromName(const std::string& name) {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (name == kInfo[i].name) return static_cast<DType>(i);
  }
  MX_THROW(kInvalidArgument) << "unknown dtype '" << name << "': expected one of " << ValidNames();
}

}  // namespace mx
