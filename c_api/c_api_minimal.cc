// C ABI of the minimal build (MX_MINIMAL=ON, CMakeLists.txt): the predict-only library has no data
// iterators, initializers, optimizers, metrics or key-value stores, but keeps every function of
// c_api.h, so that one header and one binding serve both builds. Each call here is refused with
// MX_ERR_UNSUPPORTED and a message naming the function and the build; freeing NULL stays the
// no-op it is everywhere. Compiled instead of c_api_io.cc, c_api_train.cc and c_api_kvstore.cc.
#include <string>

#include "c_api/c_api_common.h"

namespace {

mx_status_t Unsupported(const char* function) {
  mx::capi::SetLastError(std::string(function) +
                         ": not available: this libmx was built with MX_MINIMAL=ON (prediction "
                         "only: no data iterators, initializers, optimizers, metrics or "
                         "key-value stores)");
  return MX_ERR_UNSUPPORTED;
}

}  // namespace

extern "C" {

MX_API mx_status_t mx_initializer_create(const char*, int32_t, const char* const*,
                                         const char* const*, mx_initializer_t*) {
  return Unsupported("mx_initializer_create");
}
MX_API mx_status_t mx_initializer_apply(mx_initializer_t, const char*, mx_ndarray_t) {
  return Unsupported("mx_initializer_apply");
}
MX_API mx_status_t mx_initializer_free(mx_initializer_t h) {
  return h == nullptr ? MX_OK : Unsupported("mx_initializer_free");
}
MX_API mx_status_t mx_optimizer_create(const char*, int32_t, const char* const*, const char* const*,
                                       mx_optimizer_t*) {
  return Unsupported("mx_optimizer_create");
}
MX_API mx_status_t mx_optimizer_set_arg_names(mx_optimizer_t, int32_t, const int32_t*,
                                              const char* const*) {
  return Unsupported("mx_optimizer_set_arg_names");
}
MX_API mx_status_t mx_optimizer_set_lr_mult(mx_optimizer_t, int32_t, const char* const*,
                                            const double*) {
  return Unsupported("mx_optimizer_set_lr_mult");
}
MX_API mx_status_t mx_optimizer_set_wd_mult(mx_optimizer_t, int32_t, const char* const*,
                                            const double*) {
  return Unsupported("mx_optimizer_set_wd_mult");
}
MX_API mx_status_t mx_optimizer_update(mx_optimizer_t, int32_t, mx_ndarray_t, mx_ndarray_t) {
  return Unsupported("mx_optimizer_update");
}
MX_API mx_status_t mx_optimizer_set_learning_rate(mx_optimizer_t, double) {
  return Unsupported("mx_optimizer_set_learning_rate");
}
MX_API mx_status_t mx_optimizer_get_learning_rate(mx_optimizer_t, double*) {
  return Unsupported("mx_optimizer_get_learning_rate");
}
MX_API mx_status_t mx_optimizer_free(mx_optimizer_t h) {
  return h == nullptr ? MX_OK : Unsupported("mx_optimizer_free");
}
MX_API mx_status_t mx_metric_create(const char*, int32_t, const char* const*, const char* const*,
                                    mx_metric_t*) {
  return Unsupported("mx_metric_create");
}
MX_API mx_status_t mx_metric_update(mx_metric_t, int32_t, const mx_ndarray_t*,
                                    const mx_ndarray_t*) {
  return Unsupported("mx_metric_update");
}
MX_API mx_status_t mx_metric_get(mx_metric_t, const char**, double*) {
  return Unsupported("mx_metric_get");
}
MX_API mx_status_t mx_metric_reset(mx_metric_t) { return Unsupported("mx_metric_reset"); }
MX_API mx_status_t mx_metric_free(mx_metric_t h) {
  return h == nullptr ? MX_OK : Unsupported("mx_metric_free");
}
MX_API mx_status_t mx_data_iter_create_ndarray(const mx_data_iter_ndarray_options_t*,
                                               mx_data_iter_t*) {
  return Unsupported("mx_data_iter_create_ndarray");
}
MX_API mx_status_t mx_data_iter_create_mnist(const mx_data_iter_mnist_options_t*, mx_data_iter_t*) {
  return Unsupported("mx_data_iter_create_mnist");
}
MX_API mx_status_t mx_data_iter_reset(mx_data_iter_t) { return Unsupported("mx_data_iter_reset"); }
MX_API mx_status_t mx_data_iter_next(mx_data_iter_t, int32_t*) {
  return Unsupported("mx_data_iter_next");
}
MX_API mx_status_t mx_data_iter_get_data(mx_data_iter_t, mx_ndarray_t*) {
  return Unsupported("mx_data_iter_get_data");
}
MX_API mx_status_t mx_data_iter_get_label(mx_data_iter_t, mx_ndarray_t*) {
  return Unsupported("mx_data_iter_get_label");
}
MX_API mx_status_t mx_data_iter_get_pad(mx_data_iter_t, int64_t*) {
  return Unsupported("mx_data_iter_get_pad");
}
MX_API mx_status_t mx_data_iter_get_shapes(mx_data_iter_t, int32_t*, const int64_t**, int32_t*,
                                           const int64_t**) {
  return Unsupported("mx_data_iter_get_shapes");
}
MX_API mx_status_t mx_data_iter_free(mx_data_iter_t h) {
  return h == nullptr ? MX_OK : Unsupported("mx_data_iter_free");
}
MX_API mx_status_t mx_kvstore_create(const char*, mx_kvstore_t*) {
  return Unsupported("mx_kvstore_create");
}
MX_API mx_status_t mx_kvstore_free(mx_kvstore_t h) {
  return h == nullptr ? MX_OK : Unsupported("mx_kvstore_free");
}
MX_API mx_status_t mx_kvstore_get_type(mx_kvstore_t, const char**) {
  return Unsupported("mx_kvstore_get_type");
}
MX_API mx_status_t mx_kvstore_get_rank(mx_kvstore_t, int32_t*) {
  return Unsupported("mx_kvstore_get_rank");
}
MX_API mx_status_t mx_kvstore_get_num_workers(mx_kvstore_t, int32_t*) {
  return Unsupported("mx_kvstore_get_num_workers");
}
MX_API mx_status_t mx_kvstore_init(mx_kvstore_t, int32_t, const char* const*, const mx_ndarray_t*) {
  return Unsupported("mx_kvstore_init");
}
MX_API mx_status_t mx_kvstore_push(mx_kvstore_t, int32_t, const char* const*, const mx_ndarray_t*,
                                   int32_t) {
  return Unsupported("mx_kvstore_push");
}
MX_API mx_status_t mx_kvstore_pull(mx_kvstore_t, int32_t, const char* const*, const mx_ndarray_t*,
                                   int32_t) {
  return Unsupported("mx_kvstore_pull");
}
MX_API mx_status_t mx_kvstore_set_optimizer(mx_kvstore_t, mx_optimizer_t) {
  return Unsupported("mx_kvstore_set_optimizer");
}

}  // extern "C"
