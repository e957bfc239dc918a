#include "ndarray/ndarray.h"

#include <cstring>
#include <type_traits>

#include "base/error.h"
#include "ndarray/copy.h"
#include "op/fill.h"

#if MX_USE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace mx {

using engine::Engine;
using engine::FnProperty;
using engine::RunContext;
using engine::VarHandle;

namespace {

// Memory libmx does not own (an imported DLPack tensor): `release(arg)` runs once, when the block
// is destroyed. Like PooledBlock it is moved into the chunk's last engine op, so the release waits
// for every op on the memory and happens whether that op runs or is skipped after an error.
class ExternalBlock {
 public:
  ExternalBlock() = default;
  ExternalBlock(void (*release)(void*), void* arg) : release_(release), arg_(arg) {}
  ExternalBlock(ExternalBlock&& o) noexcept : release_(o.release_), arg_(o.arg_) {
    o.release_ = nullptr;
  }
  ExternalBlock& operator=(ExternalBlock&& o) noexcept {
    std::swap(release_, o.release_);
    std::swap(arg_, o.arg_);
    return *this;
  }
  ExternalBlock(const ExternalBlock&) = delete;
  ExternalBlock& operator=(const ExternalBlock&) = delete;
  ~ExternalBlock() {
    if (release_ != nullptr) release_(arg_);
  }

 private:
  void (*release_)(void*) = nullptr;
  void* arg_ = nullptr;
};

}  // namespace

// The storage and engine variable shared by an array and its views.
struct NDArray::Chunk {
  Storage::Handle handle;
  // Memory from NDArray::FromExternal: `handle` then points into it and is not Storage's to free.
  bool external = false;
  ExternalBlock release;
  VarHandle var = nullptr;
  Context ctx;
  size_t bytes = 0;
  std::atomic<bool> allocated{false};
  std::mutex alloc_mu;

  Chunk(size_t nbytes, Context c, bool delay) : ctx(c), bytes(nbytes) {
    var = Engine::Get()->NewVar();
    if (!delay) Alloc();
  }

  void Alloc() {
    if (allocated.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(alloc_mu);
    if (allocated.load(std::memory_order_relaxed)) return;
    handle = Storage::Get()->Alloc(bytes, ctx);
    allocated.store(true, std::memory_order_release);
  }

  ~Chunk() {
    Engine* eng = Engine::Peek();
    if (eng == nullptr) {
      // The engine was shut down, so nothing is pending on this memory (`release`, a member,
      // runs right after this body).
      if (!external) Storage::Get()->Free(handle);
      return;
    }
    // The memory goes back to the pool (or to its external owner) only after every op pushed on
    // it has run: the block is owned by the capture of an op that writes the variable, and
    // released with that op whether it runs or is skipped because the variable carries an error.
    try {
      if (external) {
        eng->PushSync([block = std::move(release)](RunContext) {}, Context::CPU(), nullptr, 0, &var,
                      1, FnProperty::kNormal, 0, "free_external_ndarray");
      } else {
        // Returning a block to the pool is cheap: done on this thread when nothing is pending.
        eng->PushSync([block = PooledBlock(handle)](RunContext) {}, Context::CPU(), nullptr, 0,
                      &var, 1, FnProperty::kCheap, 0, "free_ndarray");
      }
      eng->DeleteVar(var);
    } catch (...) {
      // A destructor must not throw; losing one block beats crashing the host.
    }
  }
};

NDArray::NDArray(const Shape& shape, Context ctx, DType dtype, bool delay_alloc)
    : shape_(shape), dtype_(dtype) {
  MX_CHECK(shape.IsKnown(), kInvalidArgument)
      << "cannot create an array of unknown shape " << shape;
  ctx.Validate();
  chunk_ = std::make_shared<Chunk>(Bytes(), ctx, delay_alloc);
}

NDArray NDArray::FromExternal(void* dptr, const Shape& shape, DType dtype, Context ctx,
                              void (*release)(void*), void* release_arg) {
  MX_CHECK(shape.IsKnown(), kInvalidArgument)
      << "cannot create an array of unknown shape " << shape;
  ctx.Validate();
  NDArray r;
  r.shape_ = shape;
  r.dtype_ = dtype;
  const size_t bytes = r.Bytes();
  MX_CHECK(dptr != nullptr || bytes == 0, kInvalidArgument)
      << "external memory for an array of shape " << shape << " and " << DTypeName(dtype)
      << " is NULL";
#if MX_USE_CUDA
  if (ctx.is_gpu()) {
    int prev = 0;
    cudaGetDevice(&prev);
    cudaError_t err = cudaSetDevice(ctx.dev_id);
    if (err == cudaSuccess) err = cudaDeviceSynchronize();
    cudaSetDevice(prev);
    MX_CHECK(err == cudaSuccess, kFailed)
        << "waiting for " << ctx
        << " before using external memory failed: " << cudaGetErrorString(err);
  }
#endif
  r.chunk_ = std::make_shared<Chunk>(bytes, ctx, /*delay=*/true);
  // From here on nothing throws: the release is armed only once the array exists, so a failure
  // above leaves the memory with its owner.
  Chunk& c = *r.chunk_;
  c.handle.dptr = dptr;
  c.handle.size = bytes;
  c.handle.ctx = ctx;
  c.external = true;
  if (release != nullptr) c.release = ExternalBlock(release, release_arg);
  c.allocated.store(true, std::memory_order_release);
  return r;
}

Context NDArray::ctx() const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "the array is empty (none)";
  return chunk_->ctx;
}

VarHandle NDArray::var() const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "the array is empty (none)";
  return chunk_->var;
}

bool NDArray::SameData(const NDArray& other) const {
  return chunk_ == other.chunk_ && byte_offset_ == other.byte_offset_ && shape_ == other.shape_ &&
         dtype_ == other.dtype_;
}

void NDArray::CheckAndAlloc() const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "the array is empty (none)";
  chunk_->Alloc();
}

TBlob NDArray::data() const {
  CheckAndAlloc();
  TBlob b;
  b.dptr = static_cast<char*>(chunk_->handle.dptr) + byte_offset_;
  b.shape = shape_;
  b.dtype = dtype_;
  b.ctx = chunk_->ctx;
  return b;
}

NDArray NDArray::Slice(int64_t begin, int64_t end) const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "cannot slice an empty array";
  MX_CHECK(shape_.ndim() >= 1, kInvalidArgument) << "cannot slice a scalar (shape ())";
  MX_CHECK(0 <= begin && begin <= end && end <= shape_[0], kInvalidArgument)
      << "slice [" << begin << ", " << end << ") is out of range for the first axis of shape "
      << shape_;
  NDArray r = *this;
  r.shape_[0] = end - begin;
  r.byte_offset_ +=
      static_cast<size_t>(begin * shape_.ProdDims(1, shape_.ndim())) * DTypeSize(dtype_);
  return r;
}

NDArray NDArray::At(int64_t index) const {
  MX_CHECK(shape_.ndim() >= 1, kInvalidArgument) << "cannot index a scalar (shape ())";
  MX_CHECK(0 <= index && index < shape_[0], kInvalidArgument)
      << "index " << index << " is out of range for the first axis of shape " << shape_;
  NDArray r = Slice(index, index + 1);
  r.shape_ = Shape(shape_.begin() + 1, shape_.ndim() - 1);
  return r;
}

NDArray NDArray::Reshape(const Shape& shape) const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "cannot reshape an empty array";
  MX_CHECK(shape.IsKnown() && shape.Size() == shape_.Size(), kInvalidArgument)
      << "cannot reshape an array of shape " << shape_ << " (" << shape_.Size() << " elements) to "
      << shape << " (" << (shape.IsKnown() ? shape.Size() : -1) << " elements)";
  NDArray r = *this;
  r.shape_ = shape;
  return r;
}

NDArray NDArray::ReinterpretAs(const Shape& shape, DType dtype) const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "cannot view an empty array";
  MX_CHECK(shape.IsKnown() && ByteSize(shape, DTypeSize(dtype)) <= Bytes(), kInvalidArgument)
      << "a view of shape " << shape << " and " << DTypeName(dtype) << " does not fit in "
      << Bytes() << " bytes";
  NDArray r = *this;
  r.shape_ = shape;
  r.dtype_ = dtype;
  return r;
}

void NDArray::WaitToRead() const {
  if (chunk_ == nullptr) return;
  Engine::Get()->WaitForVar(chunk_->var);
}

void NDArray::WaitToWrite() const {
  if (chunk_ == nullptr) return;
  // Readers do not make WaitForVar wait, so an empty write is pushed behind them.
  Engine* eng = Engine::Get();
  eng->PushSync([](RunContext) {}, Context::CPU(), nullptr, 0, &chunk_->var, 1, FnProperty::kCheap,
                0, "wait_to_write");
  eng->WaitForVar(chunk_->var);
}

void NDArray::SyncCopyFromCPU(const void* src, size_t size) const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "cannot copy into an empty array";
  MX_CHECK(size == static_cast<size_t>(Size()), kInvalidArgument)
      << "copy from host: the array of shape " << shape_ << " holds " << Size() << " elements, got "
      << size;
  if (size == 0) return;
  MX_CHECK(src != nullptr, kInvalidArgument) << "copy from host: source is NULL";
  // Stage the caller's data so the call returns at once and the caller may reuse its buffer.
  const Context stage_ctx = ctx().is_gpu() ? Context::CPUPinned() : Context::CPU();
  PooledBlock stage(Bytes(), stage_ctx);
  std::memcpy(stage.dptr(), src, Bytes());
  TBlob from = data();
  from.dptr = stage.dptr();
  from.ctx = stage_ctx;
  const TBlob to = data();
  VarHandle v = chunk_->var;
  Engine::Get()->PushSync(
      [from, to, stage = std::move(stage)](const RunContext& rctx) {
        CopyBlob(from, to, rctx);
        // The staging block returns to the pool with this function: the copy must be done.
        WaitForCopies(rctx);
      },
      ctx(), nullptr, 0, &v, 1, CopyProperty(stage_ctx, ctx(), Size()), 0, "copy_from_host");
}

void NDArray::SyncCopyToCPU(void* dst, size_t size) const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "cannot copy from an empty array";
  MX_CHECK(size == static_cast<size_t>(Size()), kInvalidArgument)
      << "copy to host: the array of shape " << shape_ << " holds " << Size()
      << " elements, got a buffer of " << size;
  if (size == 0) return;
  MX_CHECK(dst != nullptr, kInvalidArgument) << "copy to host: destination is NULL";
  if (ctx().is_host()) {
    WaitToRead();
    std::memcpy(dst, data().dptr, Bytes());
    return;
  }
  NDArray host(shape_, Context::CPUPinned(), dtype_, false);
  CopyFromTo(*this, host);
  host.WaitToRead();
  std::memcpy(dst, host.data().dptr, Bytes());
}

void NDArray::Fill(double value) const {
  MX_CHECK(chunk_ != nullptr, kInvalidArgument) << "cannot fill an empty array";
  MX_CHECK(dtype_ != DType::kFloat16 || value == 0.0, kUnsupported)
      << "filling a float16 array with " << value << " is not supported yet";
  const TBlob blob = data();
  VarHandle v = chunk_->var;
  Engine::Get()->PushSync(
      [blob, value](const RunContext& rctx) { FillBlob(rctx, blob, OpReq::kWrite, value, "fill"); },
      chunk_->ctx, nullptr, 0, &v, 1,
      blob.ctx.is_gpu() ? engine::FnProperty::kNormal : engine::CpuWorkProperty(blob.Size()), 0,
      "fill");
}

void NDArray::CopyFromTo(const NDArray& from, const NDArray& to, int priority) {
  MX_CHECK(!from.is_none() && !to.is_none(), kInvalidArgument) << "copy: an array is empty";
  MX_CHECK(from.shape() == to.shape(), kInvalidArgument)
      << "copy: source has shape " << from.shape() << " but destination has shape " << to.shape();
  if (from.SameData(to)) return;
  const TBlob src = from.data();
  const TBlob dst = to.data();
  VarHandle read = from.var();
  VarHandle write = to.var();
  // A device-to-host copy runs on the source device's copy workers.
  const Context run_ctx = from.ctx().is_gpu() ? from.ctx() : to.ctx();
  Engine::Get()->PushSync([src, dst](const RunContext& rctx) { CopyBlob(src, dst, rctx); }, run_ctx,
                          &read, 1, &write, 1, CopyProperty(from.ctx(), to.ctx(), from.Size()),
                          priority, "copy");
}

NDArray NDArray::CopyTo(Context ctx) const {
  NDArray r(shape_, ctx, dtype_);
  CopyFromTo(*this, r);
  return r;
}

}  // namespace mx
