/* Arrays and operators through the C ABI only, including every kind of bad input. */
#include <mx/c_api.h>
#include <stdio.h>
#include <string.h>

#include "mini_test.h"

static const mx_context_t kCpu = {MX_CPU, 0};

static mx_ndarray_t make(const float* values, int64_t rows, int64_t cols) {
  int64_t shape[2];
  mx_ndarray_t a = NULL;
  shape[0] = rows;
  shape[1] = cols;
  if (mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, kCpu, &a) != MX_OK) return NULL;
  if (mx_ndarray_copy_from_host(a, values, (size_t)(rows * cols) * sizeof(float)) != MX_OK) {
    mx_ndarray_free(a);
    return NULL;
  }
  return a;
}

static void test_create_and_read(void) {
  const float in[6] = {1, 2, 3, 4, 5, 6};
  float out[6] = {0};
  int32_t ndim = 0, dtype = -1;
  const int64_t* dims = NULL;
  mx_context_t ctx = {0, 0};
  mx_ndarray_t a = make(in, 2, 3), row = NULL, flat = NULL;
  int64_t flat_shape[1] = {-1};
  MT_CHECK(a != NULL);
  MT_CHECK(mx_ndarray_get_shape(a, &ndim, &dims) == MX_OK && ndim == 2 && dims[1] == 3);
  MT_CHECK(mx_ndarray_get_dtype(a, &dtype) == MX_OK && dtype == MX_DTYPE_FLOAT32);
  MT_CHECK(mx_ndarray_get_context(a, &ctx) == MX_OK && ctx.device_type == MX_CPU);
  MT_CHECK(mx_ndarray_copy_to_host(a, out, sizeof out) == MX_OK && out[5] == 6);
  MT_CHECK(mx_ndarray_at(a, 1, &row) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(row, out, 3 * sizeof(float)) == MX_OK && out[0] == 4);
  MT_CHECK(mx_ndarray_reshape(a, flat_shape, 1, &flat) == MX_OK);
  MT_CHECK(mx_ndarray_get_shape(flat, &ndim, &dims) == MX_OK && ndim == 1 && dims[0] == 6);
  mx_ndarray_free(flat);
  mx_ndarray_free(row);
  mx_ndarray_free(a);
  MT_CHECK(mx_ndarray_free(NULL) == MX_OK);
}

static void test_invoke(void) {
  const float x[4] = {1, 2, 3, 4}, y[4] = {10, 20, 30, 40};
  float out[4] = {0};
  mx_ndarray_t in[2], *outs = NULL, sum = NULL;
  int32_t n = 0;
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"0.5"};
  in[0] = make(x, 2, 2);
  in[1] = make(y, 2, 2);
  MT_CHECK(mx_op_invoke("elemwise_add", 2, in, 0, NULL, NULL, &n, &outs) == MX_OK && n == 1);
  sum = outs[0];
  MT_CHECK(mx_ndarray_copy_to_host(sum, out, sizeof out) == MX_OK && out[3] == 44);
  /* Into a caller-given output that is also the input. */
  MT_CHECK(mx_op_invoke_into("_mul_scalar", 1, &sum, 1, keys, vals, 1, &sum) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(sum, out, sizeof out) == MX_OK && out[3] == 22);
  mx_ndarray_free(sum);
  mx_ndarray_free(in[0]);
  mx_ndarray_free(in[1]);
}

static void test_op_info(void) {
  int32_t n = 0, i, found = 0;
  const char* const* names = NULL;
  mx_op_info_t info;
  MT_CHECK(mx_op_list(&n, &names) == MX_OK && n > 10);
  for (i = 0; i < n; ++i) found |= strcmp(names[i], "elemwise_add") == 0;
  MT_CHECK(found);
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  MT_CHECK(mx_op_get_info("_plus_scalar", &info) == MX_OK);
  MT_CHECK(info.num_params == 1 && strcmp(info.param_names[0], "scalar") == 0);
  MT_CHECK(info.num_inputs == 1 && strcmp(info.input_names[0], "data") == 0);
  MT_CHECK(info.num_outputs == 1 && info.doc[0] != '\0');
  MT_CHECK(mx_op_get_info("elemwise_ad", &info) == MX_ERR_NOT_FOUND);
  MT_CHECK(strstr(mx_get_last_error(), "elemwise_add") != NULL);
}

static void test_bad_inputs_then_keep_working(void) {
  const float x[4] = {1, 2, 3, 4};
  float out[4];
  int64_t shape[2] = {2, 2}, bad_shape[2] = {2, -3};
  mx_ndarray_t a = make(x, 2, 2), b = make(x, 1, 4), *outs = NULL, ints = NULL, view = NULL;
  mx_context_t gpu = {MX_GPU, 99}, weird = {7, 0};
  int32_t n = 0;
  const char* keys[1] = {"scalr"};
  const char* vals[1] = {"1"};
  MT_CHECK(mx_ndarray_create(shape, 2, 99, kCpu, &view) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(view == NULL);
  MT_CHECK(mx_ndarray_create(bad_shape, 2, MX_DTYPE_FLOAT32, kCpu, &view) != MX_OK);
  MT_CHECK(mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, gpu, &view) != MX_OK);
  MT_CHECK(strstr(mx_get_last_error(), "gpu(99)") != NULL);
  MT_CHECK(mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, weird, &view) != MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(a, out, 3) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "16 bytes") != NULL);
  MT_CHECK(mx_ndarray_copy_to_host(NULL, out, sizeof out) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_ndarray_slice(a, 1, 5, &view) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_op_invoke("no_such_op", 1, &a, 0, NULL, NULL, &n, &outs) == MX_ERR_NOT_FOUND);
  MT_CHECK(mx_op_invoke("_plus_scalar", 1, &a, 1, keys, vals, &n, &outs) ==
           MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "scalr") != NULL);
  {
    mx_ndarray_t pair[2];
    pair[0] = a;
    pair[1] = b;
    MT_CHECK(mx_op_invoke("elemwise_add", 2, pair, 0, NULL, NULL, &n, &outs) ==
             MX_ERR_INVALID_ARGUMENT);
    MT_CHECK(strstr(mx_get_last_error(), "(1,4)") != NULL);
    MT_CHECK(mx_op_invoke("elemwise_add", 1, pair, 0, NULL, NULL, &n, &outs) ==
             MX_ERR_INVALID_ARGUMENT);
  }
  /* An error inside the asynchronous computation surfaces at the read, names the op, and the
   * library keeps working. */
  MT_CHECK(mx_ndarray_create(shape, 2, MX_DTYPE_INT32, kCpu, &ints) == MX_OK);
  MT_CHECK(mx_op_invoke("exp", 1, &ints, 0, NULL, NULL, &n, &outs) == MX_OK);
  {
    int32_t res[4];
    mx_ndarray_t e = outs[0];
    MT_CHECK(mx_ndarray_copy_to_host(e, res, sizeof res) != MX_OK);
    MT_CHECK(strstr(mx_get_last_error(), "exp") != NULL);
    MT_CHECK(strstr(mx_get_last_error(), "int32") != NULL);
    mx_ndarray_free(e);
  }
  MT_CHECK(mx_op_invoke("exp", 1, &a, 0, NULL, NULL, &n, &outs) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(outs[0], out, sizeof out) == MX_OK && out[0] > 2.71f);
  mx_ndarray_free(outs[0]);
  mx_ndarray_free(ints);
  mx_ndarray_free(a);
  mx_ndarray_free(b);
}

static void test_save_load(void) {
  const float x[4] = {1, 2, 3, 4};
  float out[4] = {0};
  mx_ndarray_t a = make(x, 2, 2), *arrays = NULL;
  const char* names[1] = {"weight"};
  const char** loaded_names = NULL;
  int32_t n = 0;
  const char* path = "mx_c_ndarray_test.params";
  FILE* f;
  MT_CHECK(mx_ndarray_save(path, 1, &a, names) == MX_OK);
  MT_CHECK(mx_ndarray_load(path, &n, &arrays, &loaded_names) == MX_OK && n == 1);
  MT_CHECK(loaded_names != NULL && strcmp(loaded_names[0], "weight") == 0);
  MT_CHECK(mx_ndarray_copy_to_host(arrays[0], out, sizeof out) == MX_OK && out[2] == 3);
  mx_ndarray_free(arrays[0]);
  f = fopen(path, "wb");
  if (f != NULL) {
    fputs("not an array file", f);
    fclose(f);
  }
  MT_CHECK(mx_ndarray_load(path, &n, &arrays, &loaded_names) == MX_ERR_IO);
  MT_CHECK(strstr(mx_get_last_error(), path) != NULL);
  remove(path);
  mx_ndarray_free(a);
}

static void test_storage_stats(void) {
  mx_storage_stats_t s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  MT_CHECK(mx_storage_get_stats(kCpu, &s) == MX_OK);
  MT_CHECK(s.num_allocs > 0);
  MT_CHECK(mx_storage_release_pool(kCpu) == MX_OK);
  s.struct_size = 1;
  MT_CHECK(mx_storage_get_stats(kCpu, &s) == MX_ERR_INVALID_ARGUMENT);
}

/* Shutting down and starting again (lazily) leaves a working library. */
static void test_restart(void) {
  const float x[2] = {1, 4};
  float out[2] = {0};
  int64_t shape[1] = {2};
  mx_ndarray_t a = NULL, *outs = NULL;
  int32_t n = 0;
  MT_CHECK(mx_init(NULL) == MX_OK);
  MT_CHECK(mx_shutdown() == MX_OK);
  MT_CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, kCpu, &a) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(a, x, sizeof x) == MX_OK);
  MT_CHECK(mx_op_invoke("sqrt", 1, &a, 0, NULL, NULL, &n, &outs) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(outs[0], out, sizeof out) == MX_OK && out[1] == 2);
  mx_ndarray_free(outs[0]);
  mx_ndarray_free(a);
}

int main(void) {
  test_create_and_read();
  test_invoke();
  test_op_info();
  test_bad_inputs_then_keep_working();
  test_save_load();
  test_storage_stats();
  test_restart();
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  return mt_finish();
}
