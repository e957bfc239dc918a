// TBlob: what a compute function sees of an array: a pointer, a shape, an element type, a device.
// It owns nothing; the NDArray or the executor's memory plan behind it keeps the memory alive for
// the duration of the engine op.
#ifndef MX_OP_TBLOB_H_
#define MX_OP_TBLOB_H_

#include "base/context.h"
#include "base/dtype.h"
#include "base/shape.h"

namespace mx {

struct TBlob {
  void* dptr = nullptr;
  Shape shape;
  DType dtype = DType::kFloat32;
  Context ctx;

  template <typename T>
  T* data() const {
    return static_cast<T*>(dptr);
  }
  int64_t Size() const { return shape.Size(); }
  size_t Bytes() const { return ByteSize(shape, DTypeSize(dtype)); }
};

}  // namespace mx

#endif  // MX_OP_TBLOB_H_
