// TBlob: what a compute function sees of an array: a pointer, a shape, an element type, a device.
// It owns nothing; the NDArray or the executor's memory plan behind it keeps the memory alive for
// the duration of the engine op.
#ifndef MX_OP_TBLOB_H_
#define MX_OP_TBLOB_H_

#include "base/context.h"
#include "base/dtype.h"
#include "base/shape.h"

namespace mx {

// How a blob's elements are ordered. Arrays outside executors are always plain (row-major over
// the shape). Inside an executor, the layout pass (src/graph/pass/plan_layout.cc) may keep a 4-D
// float32 activation with a multiple of 16 channels in oneDNN's channel-blocked order between
// ops that read it (op/layout.h): element (n, c, h, w) at ((n*C/16 + c/16)*H*W + h*W + w)*16 +
// c%16. The bytes are the same; only the order differs.
enum class Layout : uint8_t {
  kPlain = 0,
  kBlocked16 = 1,  // nChw16c
};

struct TBlob {
  void* dptr = nullptr;
  Shape shape;
  DType dtype = DType::kFloat32;
  Context ctx;
  Layout layout = Layout::kPlain;

  template <typename T>
  T* data() const {
    return static_cast<T*>(dptr);
  }
  int64_t Size() const { return shape.Size(); }
  size_t Bytes() const { return ByteSize(shape, DTypeSize(dtype)); }
};

}  // namespace mx

#endif  // MX_OP_TBLOB_H_
