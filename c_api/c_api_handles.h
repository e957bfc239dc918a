// The structs behind the C ABI's opaque handles, and checked access to them.
//
// Each handle carries a magic number that is set while it is alive and cleared when it is freed,
// so passing NULL, a freed handle (until its memory is reused) or a handle of the wrong kind is
// an MX_ERR_INVALID_ARGUMENT naming the argument instead of a crash.
#ifndef MX_C_API_C_API_HANDLES_H_
#define MX_C_API_C_API_HANDLES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "graph/symbol.h"
#include "mx/c_api.h"
#include "ndarray/ndarray.h"

struct mx_ndarray {
  static constexpr uint32_t kMagic = 0x4E444152;  // "NDAR"
  uint32_t magic = kMagic;
  mx::NDArray array;
  std::vector<int64_t> dims;  // the shape as the C ABI hands it out

  explicit mx_ndarray(mx::NDArray a) : array(std::move(a)) {
    dims.assign(array.shape().begin(), array.shape().end());
  }
  ~mx_ndarray() { magic = 0; }
};

struct mx_symbol {
  static constexpr uint32_t kMagic = 0x53594D42;  // "SYMB"
  uint32_t magic = kMagic;
  mx::Symbol symbol;

  explicit mx_symbol(mx::Symbol s) : symbol(std::move(s)) {}
  ~mx_symbol() { magic = 0; }
};

namespace mx {
namespace capi {

// The array behind `h`; throws naming `arg` for NULL or a dead handle.
inline const NDArray& ArrayOf(mx_ndarray_t h, const char* arg) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument '" << arg << "' must not be NULL";
  MX_CHECK(h->magic == mx_ndarray::kMagic, kInvalidArgument)
      << "argument '" << arg << "' is not a live mx_ndarray_t (freed, or another kind of handle)";
  return h->array;
}

// A new handle owning `a`.
inline mx_ndarray_t NewHandle(NDArray a) { return new mx_ndarray(std::move(a)); }

// The symbol behind `h` (mutable: compose and attributes change it in place); throws naming
// `arg` for NULL or a dead handle.
inline Symbol& SymbolOf(mx_symbol_t h, const char* arg) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument '" << arg << "' must not be NULL";
  MX_CHECK(h->magic == mx_symbol::kMagic, kInvalidArgument)
      << "argument '" << arg << "' is not a live mx_symbol_t (freed, or another kind of handle)";
  return h->symbol;
}

// A new handle owning `s`.
inline mx_symbol_t NewHandle(Symbol s) { return new mx_symbol(std::move(s)); }

// Checks a C list of handles (names the list and the index of a bad one) without copying it.
inline void CheckArrays(const mx_ndarray_t* handles, int32_t n, const char* arg) {
  MX_CHECK(n >= 0, kInvalidArgument) << "argument '" << arg << "': negative count " << n;
  MX_CHECK(n == 0 || handles != nullptr, kInvalidArgument)
      << "argument '" << arg << "' must not be NULL when its count is " << n;
  for (int32_t i = 0; i < n; ++i) {
    if (handles[i] != nullptr && handles[i]->magic == mx_ndarray::kMagic) continue;
    const std::string name = std::string(arg) + "[" + std::to_string(i) + "]";
    ArrayOf(handles[i], name.c_str());  // throws, naming it
  }
}

// Arrays from a C list of handles, each checked.
inline std::vector<NDArray> ArraysOf(const mx_ndarray_t* handles, int32_t n, const char* arg) {
  CheckArrays(handles, n, arg);
  std::vector<NDArray> out;
  out.reserve(n);
  for (int32_t i = 0; i < n; ++i) out.push_back(handles[i]->array);
  return out;
}

// The C context as a core Context, validated (unknown type, missing GPU).
Context ToContext(mx_context_t ctx);
inline mx_context_t FromContext(Context c) {
  return mx_context_t{static_cast<int32_t>(c.dev_type), c.dev_id};
}

}  // namespace capi
}  // namespace mx

#endif  // MX_C_API_C_API_HANDLES_H_
