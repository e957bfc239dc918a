// Element types and dispatch over them.
//
//   MX_DTYPE_SWITCH(arr.dtype(), T, { Fill(arr.data<T>(), n, T(1)); });
#ifndef MX_BASE_DTYPE_H_
#define MX_BASE_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"

namespace mx {

// Values equal the C ABI's MX_DTYPE_* (and MXNet's type flags).
enum class DType : int32_t {
  kFloat32 = 0,
  kFloat64 = 1,
  kFloat16 = 2,
  kUint8 = 3,
  kInt32 = 4,
  kInt8 = 5,
  kInt64 = 6,
};
constexpr int kNumDTypes = 7;

// IEEE half, stored only: arithmetic on it arrives with the ops that need it.
struct Half {
  uint16_t bits;
};

bool IsValidDType(int32_t value);
// Throws mx::Error (kInvalidArgument) naming the value and the valid types.
DType CheckedDType(int32_t value);
size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);
// Throws mx::Error naming `name` and the valid names.
DType DTypeFromName(const std::string& name);

// clang-format off
template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<Half> { static constexpr DType value = DType::kFloat16; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUint8; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::kInt8; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
// clang-format on

}  // namespace mx

// clang-format off
// Runs `...` with `T` bound to the C++ type of `dtype` (all types, float16 as mx::Half).
#define MX_DTYPE_SWITCH(dtype, T, ...)                                                  \
  switch (dtype) {                                                                      \
    case ::mx::DType::kFloat32: { using T = float; __VA_ARGS__; break; }               \
    case ::mx::DType::kFloat64: { using T = double; __VA_ARGS__; break; }              \
    case ::mx::DType::kFloat16: { using T = ::mx::Half; __VA_ARGS__; break; }          \
    case ::mx::DType::kUint8: { using T = uint8_t; __VA_ARGS__; break; }               \
    case ::mx::DType::kInt32: { using T = int32_t; __VA_ARGS__; break; }               \
    case ::mx::DType::kInt8: { using T = int8_t; __VA_ARGS__; break; }                 \
    case ::mx::DType::kInt64: { using T = int64_t; __VA_ARGS__; break; }               \
    default: MX_THROW(kInternal) << "unhandled dtype " << static_cast<int>(dtype);     \
  }
// clang-format on

#endif  // MX_BASE_DTYPE_H_
