// C ABI: data iterators.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "io/mnist_iter.h"
#include "io/ndarray_iter.h"

static_assert(MX_LAST_BATCH_PAD == static_cast<int>(mx::io::LastBatch::kPad), "");
static_assert(MX_LAST_BATCH_DISCARD == static_cast<int>(mx::io::LastBatch::kDiscard), "");
static_assert(MX_LAST_BATCH_ROLL_OVER == static_cast<int>(mx::io::LastBatch::kRollOver), "");

struct mx_data_iter {
  static constexpr uint32_t kMagic = 0x44495452;  // "DITR"
  uint32_t magic = kMagic;
  std::unique_ptr<mx::io::DataIter> iter;
  std::vector<int64_t> data_dims, label_dims;  // the shapes as mx_data_iter_get_shapes hands out

  explicit mx_data_iter(std::unique_ptr<mx::io::DataIter> it) : iter(std::move(it)) {
    data_dims = iter->provide_data().ToVector();
    if (iter->has_label()) label_dims = iter->provide_label().ToVector();
  }
  ~mx_data_iter() { magic = 0; }
};

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

namespace {

mx::io::DataIter& IterOf(mx_data_iter_t h, const char* arg) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument '" << arg << "' must not be NULL";
  MX_CHECK(h->magic == mx_data_iter::kMagic, kInvalidArgument)
      << "argument '" << arg << "' is not a live mx_data_iter_t (freed, or another kind of handle)";
  return *h->iter;
}

// The caller's options, which may be an older (shorter) version of the struct: fields it does
// not know keep their zero defaults. `min_size` covers the fields of the first version.
template <typename Options>
Options ReadOptions(const Options* given, size_t min_size, const char* type_name) {
  CheckArg(given, "options");
  MX_CHECK(given->struct_size >= min_size, kInvalidArgument)
      << "options->struct_size is " << given->struct_size << ": set it to sizeof(" << type_name
      << ")";
  Options o;
  std::memset(&o, 0, sizeof o);
  std::memcpy(&o, given, std::min(sizeof o, given->struct_size));
  return o;
}

mx::Shape ShapeArg(const int64_t* dims, int32_t ndim, const char* name) {
  MX_CHECK(ndim >= 1 && ndim <= mx::Shape::kMaxNDim, kInvalidArgument)
      << "options->" << name << "_ndim is " << ndim << ": expected 1.." << mx::Shape::kMaxNDim;
  MX_CHECK(dims != nullptr, kInvalidArgument) << "options->" << name << "_shape must not be NULL";
  for (int32_t i = 0; i < ndim; ++i) {
    MX_CHECK(dims[i] >= 0, kInvalidArgument)
        << "options->" << name << "_shape[" << i << "] is " << dims[i] << ": dims must be >= 0";
  }
  return mx::Shape(dims, ndim);
}

mx::io::BatchIterParams Params(int64_t batch_size, int32_t shuffle, uint64_t seed,
                               int32_t last_batch_handle, int32_t synchronous) {
  MX_CHECK(batch_size >= 1, kInvalidArgument)
      << "options->batch_size is " << batch_size << ": expected at least 1";
  MX_CHECK(last_batch_handle >= MX_LAST_BATCH_PAD && last_batch_handle <= MX_LAST_BATCH_ROLL_OVER,
           kInvalidArgument)
      << "options->last_batch_handle is " << last_batch_handle
      << ": expected MX_LAST_BATCH_PAD (0), MX_LAST_BATCH_DISCARD (1) or "
         "MX_LAST_BATCH_ROLL_OVER (2)";
  mx::io::BatchIterParams p;
  p.batch_size = batch_size;
  p.shuffle = shuffle != 0;
  p.seed = seed;
  p.last_batch = static_cast<mx::io::LastBatch>(last_batch_handle);
  p.prefetch = synchronous == 0;
  return p;
}

}  // namespace

extern "C" {

MX_API mx_status_t mx_data_iter_create_ndarray(const mx_data_iter_ndarray_options_t* options,
                                               mx_data_iter_t* out_iter) {
  return Guard([&] {
    CheckOut(out_iter, "out_iter");
    const auto o = ReadOptions(options, offsetof(mx_data_iter_ndarray_options_t, synchronous) + 4,
                               "mx_data_iter_ndarray_options_t");
    CheckArg(o.data, "options->data");
    const mx::Shape data_shape = ShapeArg(o.data_shape, o.data_ndim, "data");
    mx::Shape label_shape = mx::Shape::Unknown();
    if (o.label != nullptr) {
      label_shape = ShapeArg(o.label_shape, o.label_ndim, "label");
    } else {
      MX_CHECK(o.label_ndim == 0 && o.label_shape == nullptr, kInvalidArgument)
          << "options->label is NULL but a label shape is given: set options->label";
    }
    const auto params = Params(o.batch_size, o.shuffle, o.seed, o.last_batch_handle, o.synchronous);
    *out_iter = new mx_data_iter(
        mx::io::CreateNDArrayIter(o.data, data_shape, o.label, label_shape, params));
  });
}

MX_API mx_status_t mx_data_iter_create_mnist(const mx_data_iter_mnist_options_t* options,
                                             mx_data_iter_t* out_iter) {
  return Guard([&] {
    CheckOut(out_iter, "out_iter");
    const auto o = ReadOptions(options, offsetof(mx_data_iter_mnist_options_t, synchronous) + 4,
                               "mx_data_iter_mnist_options_t");
    CheckArg(o.image_path, "options->image_path");
    CheckArg(o.label_path, "options->label_path");
    const auto params = Params(o.batch_size, o.shuffle, o.seed, o.last_batch_handle, o.synchronous);
    const int32_t parts = o.num_parts == 0 ? 1 : o.num_parts;
    MX_CHECK(parts >= 1 && o.part_index >= 0 && o.part_index < parts, kInvalidArgument)
        << "options->part_index is " << o.part_index << " and options->num_parts " << o.num_parts
        << ": expected 0 <= part_index < num_parts";
    *out_iter = new mx_data_iter(mx::io::CreateMNISTIter(o.image_path, o.label_path, o.flat != 0,
                                                         params, parts, o.part_index));
  });
}

MX_API mx_status_t mx_data_iter_reset(mx_data_iter_t iter) {
  return Guard([&] { IterOf(iter, "iter").Reset(); });
}

MX_API mx_status_t mx_data_iter_next(mx_data_iter_t iter, int32_t* out_has_batch) {
  return Guard([&] {
    mx::io::DataIter& it = IterOf(iter, "iter");
    CheckOut(out_has_batch, "out_has_batch");
    *out_has_batch = it.Next() ? 1 : 0;
  });
}

MX_API mx_status_t mx_data_iter_get_data(mx_data_iter_t iter, mx_ndarray_t* out_data) {
  return Guard([&] {
    const mx::io::DataIter& it = IterOf(iter, "iter");
    CheckOut(out_data, "out_data");
    *out_data = mx::capi::NewHandle(it.data());
  });
}

MX_API mx_status_t mx_data_iter_get_label(mx_data_iter_t iter, mx_ndarray_t* out_label) {
  return Guard([&] {
    const mx::io::DataIter& it = IterOf(iter, "iter");
    CheckOut(out_label, "out_label");
    const mx::NDArray& label = it.label();
    *out_label = label.is_none() ? nullptr : mx::capi::NewHandle(label);
  });
}

MX_API mx_status_t mx_data_iter_get_pad(mx_data_iter_t iter, int64_t* out_pad) {
  return Guard([&] {
    const mx::io::DataIter& it = IterOf(iter, "iter");
    CheckOut(out_pad, "out_pad");
    *out_pad = it.pad();
  });
}

MX_API mx_status_t mx_data_iter_get_shapes(mx_data_iter_t iter, int32_t* out_data_ndim,
                                           const int64_t** out_data_dims, int32_t* out_label_ndim,
                                           const int64_t** out_label_dims) {
  return Guard([&] {
    IterOf(iter, "iter");
    CheckOut(out_data_ndim, "out_data_ndim");
    CheckOut(out_data_dims, "out_data_dims");
    CheckOut(out_label_ndim, "out_label_ndim");
    CheckOut(out_label_dims, "out_label_dims");
    *out_data_ndim = static_cast<int32_t>(iter->data_dims.size());
    *out_data_dims = iter->data_dims.data();
    *out_label_ndim = static_cast<int32_t>(iter->label_dims.size());
    *out_label_dims = iter->label_dims.empty() ? nullptr : iter->label_dims.data();
  });
}

MX_API mx_status_t mx_data_iter_free(mx_data_iter_t iter) {
  return Guard([&] {
    if (iter == nullptr) return;
    IterOf(iter, "iter");
    delete iter;
  });
}

}  // extern "C"
