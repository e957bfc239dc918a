// C ABI: arrays and memory statistics.
#include <cstring>
#include <string>

#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "storage/storage.h"

using mx::NDArray;
using mx::capi::ArrayOf;
using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;
using mx::capi::NewHandle;

namespace mx {
namespace capi {

Context ToContext(mx_context_t ctx) {
  MX_CHECK(ctx.device_type >= MX_CPU && ctx.device_type <= MX_CPU_PINNED, kInvalidArgument)
      << "unknown device type " << ctx.device_type
      << ": expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)";
  const Context c{static_cast<DeviceType>(ctx.device_type), ctx.device_id};
  c.Validate();
  return c;
}

namespace {

Shape ShapeOf(const int64_t* dims, int32_t ndim, const char* arg) {
  MX_CHECK(ndim >= 0 && ndim <= Shape::kMaxNDim, kInvalidArgument)
      << "argument 'ndim' is " << ndim << ": expected 0.." << Shape::kMaxNDim;
  MX_CHECK(ndim == 0 || dims != nullptr, kInvalidArgument)
      << "argument '" << arg << "' must not be NULL when ndim is " << ndim;
  return Shape(dims, ndim);
}

// Per-thread results of mx_ndarray_load, valid until the thread's next call.
struct LoadResult {
  std::vector<mx_ndarray_t> handles;
  std::vector<std::string> names;
  std::vector<const char*> name_ptrs;
};
thread_local LoadResult tls_load;

}  // namespace
}  // namespace capi
}  // namespace mx

extern "C" {

MX_API mx_status_t mx_storage_get_stats(mx_context_t ctx, mx_storage_stats_t* out_stats) {
  return Guard([&] {
    CheckOut(out_stats, "out_stats");
    MX_CHECK(out_stats->struct_size >= sizeof(size_t) + sizeof(uint64_t), kInvalidArgument)
        << "out_stats->struct_size is " << out_stats->struct_size
        << ": set it to sizeof(mx_storage_stats_t)";
    const mx::StorageStats s = mx::Storage::Get()->Stats(mx::capi::ToContext(ctx));
    mx_storage_stats_t full;
    full.struct_size = out_stats->struct_size;
    full.bytes_in_use = s.bytes_in_use;
    full.peak_in_use = s.peak_in_use;
    full.bytes_pooled = s.bytes_pooled;
    full.num_allocs = s.num_allocs;
    full.num_system_allocs = s.num_system_allocs;
    // An older caller's shorter struct receives the fields it knows.
    std::memcpy(out_stats, &full, std::min(sizeof(full), out_stats->struct_size));
  });
}

MX_API mx_status_t mx_storage_release_pool(mx_context_t ctx) {
  return Guard([&] { mx::Storage::Get()->ReleasePool(mx::capi::ToContext(ctx)); });
}

MX_API mx_status_t mx_storage_reset_peak(mx_context_t ctx) {
  return Guard([&] { mx::Storage::Get()->ResetPeak(mx::capi::ToContext(ctx)); });
}

MX_API mx_status_t mx_ndarray_create(const int64_t* shape, int32_t ndim, int32_t dtype,
                                     mx_context_t ctx, mx_ndarray_t* out_array) {
  return Guard([&] {
    CheckOut(out_array, "out_array");
    const mx::Shape s = mx::capi::ShapeOf(shape, ndim, "shape");
    *out_array = NewHandle(NDArray(s, mx::capi::ToContext(ctx), mx::CheckedDType(dtype), true));
  });
}

MX_API mx_status_t mx_ndarray_free(mx_ndarray_t array) {
  return Guard([&] {
    if (array == nullptr) return;
    ArrayOf(array, "array");
    delete array;
  });
}

MX_API mx_status_t mx_ndarray_get_shape(mx_ndarray_t array, int32_t* out_ndim,
                                        const int64_t** out_dims) {
  return Guard([&] {
    ArrayOf(array, "array");
    CheckOut(out_ndim, "out_ndim");
    CheckOut(out_dims, "out_dims");
    *out_ndim = static_cast<int32_t>(array->dims.size());
    *out_dims = array->dims.data();
  });
}

MX_API mx_status_t mx_ndarray_get_dtype(mx_ndarray_t array, int32_t* out_dtype) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_dtype, "out_dtype");
    *out_dtype = static_cast<int32_t>(a.dtype());
  });
}

MX_API mx_status_t mx_ndarray_get_context(mx_ndarray_t array, mx_context_t* out_ctx) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_ctx, "out_ctx");
    *out_ctx = mx::capi::FromContext(a.ctx());
  });
}

MX_API mx_status_t mx_ndarray_copy_from_host(mx_ndarray_t array, const void* data, size_t size) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    MX_CHECK(size == a.Bytes(), kInvalidArgument)
        << "copy from host: the array of shape " << a.shape() << " and dtype "
        << mx::DTypeName(a.dtype()) << " holds " << a.Bytes() << " bytes, got " << size;
    if (size > 0) CheckArg(data, "data");
    a.SyncCopyFromCPU(data, static_cast<size_t>(a.Size()));
  });
}

MX_API mx_status_t mx_ndarray_copy_to_host(mx_ndarray_t array, void* data, size_t size) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    MX_CHECK(size == a.Bytes(), kInvalidArgument)
        << "copy to host: the array of shape " << a.shape() << " and dtype "
        << mx::DTypeName(a.dtype()) << " holds " << a.Bytes() << " bytes, got a buffer of " << size;
    if (size > 0) CheckArg(data, "data");
    a.SyncCopyToCPU(data, static_cast<size_t>(a.Size()));
  });
}

MX_API mx_status_t mx_ndarray_copy_to(mx_ndarray_t from, mx_ndarray_t to) {
  return Guard([&] { NDArray::CopyFromTo(ArrayOf(from, "from"), ArrayOf(to, "to")); });
}

MX_API mx_status_t mx_ndarray_slice(mx_ndarray_t array, int64_t begin, int64_t end,
                                    mx_ndarray_t* out_view) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_view, "out_view");
    *out_view = NewHandle(a.Slice(begin, end));
  });
}

MX_API mx_status_t mx_ndarray_at(mx_ndarray_t array, int64_t index, mx_ndarray_t* out_view) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_view, "out_view");
    *out_view = NewHandle(a.At(index));
  });
}

MX_API mx_status_t mx_ndarray_reshape(mx_ndarray_t array, const int64_t* shape, int32_t ndim,
                                      mx_ndarray_t* out_view) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_view, "out_view");
    MX_CHECK(ndim >= 0 && ndim <= mx::Shape::kMaxNDim, kInvalidArgument)
        << "reshape: argument 'ndim' is " << ndim << ": expected 0.." << mx::Shape::kMaxNDim;
    MX_CHECK(ndim == 0 || shape != nullptr, kInvalidArgument)
        << "reshape: argument 'shape' must not be NULL when ndim is " << ndim;
    std::vector<int64_t> dims(shape, shape + ndim);
    int infer = -1;
    for (int32_t i = 0; i < ndim; ++i) {
      if (dims[i] == -1) {
        MX_CHECK(infer < 0, kInvalidArgument) << "reshape: at most one dim may be -1";
        infer = i;
      } else {
        MX_CHECK(dims[i] >= 0, kInvalidArgument) << "reshape: invalid dim " << dims[i];
      }
    }
    // The product of the given dims, checked: a wrapped product could match the array's size by
    // accident. A zero dim makes it 0 whatever the others are.
    int64_t known = 1;
    bool overflow = false, zero = false;
    for (int32_t i = 0; i < ndim; ++i) {
      if (i != infer) overflow = __builtin_mul_overflow(known, dims[i], &known) || overflow;
      zero = zero || dims[i] == 0;
    }
    if (zero) known = 0;
    MX_CHECK(zero || !overflow, kInvalidArgument)
        << "cannot reshape to " << mx::Shape(dims)
        << ": the product of its dims does not fit in 64 bits";
    if (infer >= 0) {
      MX_CHECK(known > 0 && a.Size() % known == 0, kInvalidArgument)
          << "cannot reshape an array of shape " << a.shape() << " (" << a.Size()
          << " elements) so that -1 fills the rest of " << mx::Shape(dims);
      dims[infer] = a.Size() / known;
    }
    *out_view = NewHandle(a.Reshape(mx::Shape(dims)));
  });
}

MX_API mx_status_t mx_ndarray_wait_to_read(mx_ndarray_t array) {
  return Guard([&] { ArrayOf(array, "array").WaitToRead(); });
}

MX_API mx_status_t mx_ndarray_wait_to_write(mx_ndarray_t array) {
  return Guard([&] { ArrayOf(array, "array").WaitToWrite(); });
}

MX_API mx_status_t mx_ndarray_get_data(mx_ndarray_t array, void** out_data) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_data, "out_data");
    MX_CHECK(a.ctx().is_host(), kInvalidArgument)
        << "mx_ndarray_get_data needs a host array; this one is on " << a.ctx()
        << " (copy it to the CPU first)";
    a.WaitToRead();
    *out_data = a.data().dptr;
  });
}

MX_API mx_status_t mx_ndarray_save(const char* path, int32_t num, const mx_ndarray_t* arrays,
                                   const char* const* names) {
  return Guard([&] {
    CheckArg(path, "path");
    const std::vector<NDArray> list = mx::capi::ArraysOf(arrays, num, "arrays");
    std::vector<std::string> keys;
    if (names != nullptr) {
      for (int32_t i = 0; i < num; ++i) {
        MX_CHECK(names[i] != nullptr, kInvalidArgument) << "names[" << i << "] is NULL";
        keys.emplace_back(names[i]);
      }
    }
    NDArray::Save(path, list, keys);
  });
}

MX_API mx_status_t mx_ndarray_load(const char* path, int32_t* out_num, mx_ndarray_t** out_arrays,
                                   const char*** out_names) {
  return Guard([&] {
    CheckArg(path, "path");
    CheckOut(out_num, "out_num");
    CheckOut(out_arrays, "out_arrays");
    CheckOut(out_names, "out_names");
    std::vector<NDArray> arrays;
    std::vector<std::string> names;
    NDArray::Load(path, &arrays, &names);
    auto& r = mx::capi::tls_load;
    r.handles.clear();
    for (auto& a : arrays) r.handles.push_back(NewHandle(a));
    r.names = std::move(names);
    r.name_ptrs.clear();
    for (auto& n : r.names) r.name_ptrs.push_back(n.c_str());
    *out_num = static_cast<int32_t>(r.handles.size());
    *out_arrays = r.handles.data();
    *out_names = r.names.empty() ? nullptr : r.name_ptrs.data();
  });
}

}  // extern "C"
