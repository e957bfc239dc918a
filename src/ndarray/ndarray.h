// NDArray: a lazy n-dimensional array.
//
// An NDArray is a shape, an element type and a byte offset into a shared Chunk: the storage plus
// one engine variable. Views (Slice, At, Reshape) share the chunk and therefore the variable, so
// the engine orders work on a view and on its base correctly. Every operation pushes to the engine
// and returns at once; only reads into host memory (SyncCopyToCPU) and waits block.
//
//   NDArray a(Shape{2, 3}, Context::CPU());
//   a.SyncCopyFromCPU(values, 6);        // returns at once: the data is staged and copied lazily
//   NDArray row = a.At(1);               // a view of shape (3,)
//   float out[3];
//   row.SyncCopyToCPU(out, 3);           // blocks until the copy above has run
#ifndef MX_NDARRAY_NDARRAY_H_
#define MX_NDARRAY_NDARRAY_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/context.h"
#include "base/dtype.h"
#include "base/shape.h"
#include "engine/engine.h"
#include "op/tblob.h"
#include "storage/storage.h"

namespace mx {

class NDArray {
 public:
  NDArray() = default;  // "none": no chunk
  // Storage is allocated at the first write when `delay_alloc` (the default), else now.
  NDArray(const Shape& shape, Context ctx, DType dtype = DType::kFloat32, bool delay_alloc = true);

  // An array over memory libmx did not allocate and does not own (an imported DLPack tensor): no
  // copy. `dptr` must hold the array's bytes on `ctx` (a GPU's device memory, or host memory) and
  // stay valid until `release(release_arg)` runs. That runs exactly once, when the last array
  // sharing the memory (views, copies of this object) is gone and every engine op pushed on it
  // has finished (after GPU work on it is complete), on an engine thread, or on the destroying
  // thread once the engine is shut down; it must not wait on the engine. If this throws, `release`
  // is never called and the caller keeps ownership. On a GPU it first waits for the whole device
  // (cudaDeviceSynchronize): the memory's producer may still have work on its own streams that
  // libmx's streams would otherwise not wait for. The memory is not counted by Storage's
  // statistics: the producer allocated it.
  static NDArray FromExternal(void* dptr, const Shape& shape, DType dtype, Context ctx,
                              void (*release)(void*), void* release_arg);

  bool is_none() const { return chunk_ == nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Context ctx() const;
  engine::VarHandle var() const;
  int64_t Size() const { return shape_.Size(); }
  size_t Bytes() const { return ByteSize(shape_, DTypeSize(dtype_)); }
  // True if both share a chunk (one is a view of the other or they are the same array).
  bool SharesChunkWith(const NDArray& other) const { return chunk_ == other.chunk_; }
  // True if both describe the same memory region.
  bool SameData(const NDArray& other) const;

  // Allocates the chunk's storage if that has not happened yet (call before pushing a write).
  void CheckAndAlloc() const;
  // The blob kernels see. Allocates if needed.
  TBlob data() const;

  // ---- views: share memory and the engine variable ----
  // Rows [begin, end) of the first axis.
  NDArray Slice(int64_t begin, int64_t end) const;
  // Row `index` of the first axis, without that axis.
  NDArray At(int64_t index) const;
  // The same elements with another shape (same size).
  NDArray Reshape(const Shape& shape) const;
  // The first bytes of this array's memory seen as `shape` of `dtype` (executors carve entries
  // out of planned storage blocks this way). Throws if they do not fit.
  NDArray ReinterpretAs(const Shape& shape, DType dtype) const;

  // ---- blocking ----
  void WaitToRead() const;
  void WaitToWrite() const;
  // Copies `size` elements of host memory in. Returns at once: the data is first copied to a
  // staging buffer, so `data` may be reused immediately.
  void SyncCopyFromCPU(const void* data, size_t size) const;
  // Copies the array to host memory; blocks until every pending write to it has run.
  void SyncCopyToCPU(void* data, size_t size) const;

  // Pushes a write of `value` to every element (converted to the dtype; float16 takes 0 only).
  void Fill(double value) const;

  // Pushes a copy of `from` into `to` (same shape; any devices; converts dtype on the host).
  static void CopyFromTo(const NDArray& from, const NDArray& to, int priority = 0);
  // A new array on `ctx` holding a copy of this one.
  NDArray CopyTo(Context ctx) const;

  // ---- files: see docs/design/ndarray_format.md ----
  static void Save(const std::string& path, const std::vector<NDArray>& arrays,
                   const std::vector<std::string>& names);
  static void Load(const std::string& path, std::vector<NDArray>* arrays,
                   std::vector<std::string>* names);
  // The same on the bytes of a file held in memory (the fuzz harness feeds it bytes directly);
  // `path` only names the file in error messages.
  static std::string SaveToBuffer(const std::vector<NDArray>& arrays,
                                  const std::vector<std::string>& names);
  static void LoadFromBuffer(const std::string& buf, const std::string& path,
                             std::vector<NDArray>* arrays, std::vector<std::string>* names);

 private:
  struct Chunk;
  std::shared_ptr<Chunk> chunk_;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
  size_t byte_offset_ = 0;
};

}  // namespace mx

#endif  // MX_NDARRAY_NDARRAY_H_
