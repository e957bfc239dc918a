// The structs behind the training handles (initializers, optimizers, metrics), shared by the
// files of the C ABI that take them (c_api_train.cc, c_api_kvstore.cc).
//
// Handles carry a magic number while alive, as the other handles do (c_api_handles.h), so a
// freed or wrong handle is an error naming the argument rather than a crash.
#ifndef MX_C_API_C_API_TRAIN_HANDLES_H_
#define MX_C_API_C_API_TRAIN_HANDLES_H_

#include <cstdint>
#include <memory>

#include "base/error.h"
#include "train/initializer.h"
#include "train/metric.h"
#include "train/optimizer.h"

struct mx_initializer {
  static constexpr uint32_t kMagic = 0x494E4954;  // "INIT"
  uint32_t magic = kMagic;
  std::unique_ptr<mx::train::Initializer> impl;
  ~mx_initializer() { magic = 0; }
};

// Shared: a key-value store given the optimizer keeps it alive after its handle is freed.
struct mx_optimizer {
  static constexpr uint32_t kMagic = 0x4F505449;  // "OPTI"
  uint32_t magic = kMagic;
  std::shared_ptr<mx::train::Optimizer> impl;
  ~mx_optimizer() { magic = 0; }
};

struct mx_metric {
  static constexpr uint32_t kMagic = 0x4D545243;  // "MTRC"
  uint32_t magic = kMagic;
  std::unique_ptr<mx::train::Metric> impl;
  ~mx_metric() { magic = 0; }
};

namespace mx {
namespace capi {

// `h` if it is a live handle of its kind; throws naming `arg` otherwise.
template <typename H>
H* Live(H* h, const char* arg, const char* type) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument '" << arg << "' must not be NULL";
  MX_CHECK(h->magic == H::kMagic, kInvalidArgument)
      << "argument '" << arg << "' is not a live " << type << " (freed, or another kind of handle)";
  return h;
}

}  // namespace capi
}  // namespace mx

#endif  // MX_C_API_C_API_TRAIN_HANDLES_H_
