/* The prediction API from C: a model from files and from memory, predictors, reshape, and every
 * bad model file and input as an error naming what is wrong. */
#include <mx/c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

static const mx_context_t kCpu = {MX_CPU, 0};

/* y = W x + b with W (3,4) and b (3): the model every test loads. */
static const float kW[12] = {1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1};
static const float kB[3] = {0.5f, -1, 0};

static void write_model(const char* sym_path, const char* param_path) {
  mx_symbol_t data = NULL, fc = NULL;
  const char* keys[2] = {"num_hidden", "name"};
  const char* vals[2] = {"3", "fc"};
  mx_ndarray_t arrays[2];
  const char* names[2] = {"arg:fc_weight", "arg:fc_bias"};
  int64_t wshape[2] = {3, 4}, bshape[1] = {3};
  MT_CHECK(mx_symbol_create_variable("data", &data) == MX_OK);
  MT_CHECK(mx_symbol_create_op("FullyConnected", 1, keys, vals, &fc) == MX_OK);
  MT_CHECK(mx_symbol_compose(fc, vals[1], 1, NULL, &data) == MX_OK);
  MT_CHECK(mx_symbol_save(fc, sym_path) == MX_OK);
  MT_CHECK(mx_ndarray_create(wshape, 2, MX_DTYPE_FLOAT32, kCpu, &arrays[0]) == MX_OK);
  MT_CHECK(mx_ndarray_create(bshape, 1, MX_DTYPE_FLOAT32, kCpu, &arrays[1]) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(arrays[0], kW, sizeof kW) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(arrays[1], kB, sizeof kB) == MX_OK);
  MT_CHECK(mx_ndarray_save(param_path, 2, arrays, names) == MX_OK);
  mx_ndarray_free(arrays[0]);
  mx_ndarray_free(arrays[1]);
  mx_symbol_free(fc);
  mx_symbol_free(data);
}

static char* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  char* buf = NULL;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char*)malloc((size_t)n + 1);
  *size = fread(buf, 1, (size_t)n, f);
  buf[*size] = 0;
  fclose(f);
  return buf;
}

static mx_predictor_t predictor(mx_model_t model, int64_t batch) {
  const char* names[1] = {"data"};
  int32_t ndims[1] = {2};
  int64_t shape[2];
  const int64_t* shapes[1];
  mx_predictor_t p = NULL;
  shape[0] = batch;
  shape[1] = 4;
  shapes[0] = shape;
  MT_CHECK(mx_predictor_create(model, 1, names, ndims, shapes, &p) == MX_OK);
  return p;
}

static void test_predicts(mx_model_t model) {
  const float x[8] = {1, 2, 3, 4, -1, 0, 0, 1};
  float y[6] = {0};
  int32_t n = 0, ndim = 0;
  const int64_t* dims = NULL;
  const char* names[1] = {"data"};
  int32_t ndims[1] = {2};
  int64_t shape[2] = {2, 4};
  const int64_t* shapes[1];
  mx_predictor_t p = predictor(model, 1);
  shapes[0] = shape;
  MT_CHECK(mx_predictor_set_input(p, "data", x, 4) == MX_OK);
  MT_CHECK(mx_predictor_forward(p) == MX_OK);
  MT_CHECK(mx_predictor_get_num_outputs(p, &n) == MX_OK && n == 1);
  MT_CHECK(mx_predictor_get_output_shape(p, 0, &ndim, &dims) == MX_OK && ndim == 2 &&
           dims[0] == 1 && dims[1] == 3);
  MT_CHECK(mx_predictor_get_output(p, 0, y, 3) == MX_OK);
  MT_CHECK(y[0] == 1.5f && y[1] == 1 && y[2] == 10);
  /* A new batch size, the same weights. */
  MT_CHECK(mx_predictor_reshape(p, 1, names, ndims, shapes) == MX_OK);
  MT_CHECK(mx_predictor_get_output_shape(p, 0, &ndim, &dims) == MX_OK && dims[0] == 2);
  MT_CHECK(mx_predictor_set_input(p, "data", x, 8) == MX_OK);
  MT_CHECK(mx_predictor_forward(p) == MX_OK);
  MT_CHECK(mx_predictor_get_output(p, 0, y, 6) == MX_OK);
  MT_CHECK(y[3] == -0.5f && y[4] == -1 && y[5] == 0);
  MT_CHECK(mx_predictor_free(p) == MX_OK);
}

static int error_has(mx_status_t status, mx_status_t expected, const char* part) {
  if (status != expected) return 0;
  if (strstr(mx_get_last_error(), part) != NULL) return 1;
  fprintf(stderr, "error '%s' lacks '%s'\n", mx_get_last_error(), part);
  return 0;
}

static void test_bad_inputs(mx_model_t model) {
  float x[8] = {0}, y[3];
  const char* names[1] = {"data"};
  int32_t ndims[1] = {2};
  int64_t shape[2] = {1, 5};
  const int64_t* shapes[1];
  mx_predictor_t p = NULL;
  shapes[0] = shape;
  MT_CHECK(error_has(mx_predictor_create(model, 1, names, ndims, shapes, &p),
                     MX_ERR_INVALID_ARGUMENT, "argument 'fc_weight' (input 'weight' of node 'fc'"));
  MT_CHECK(p == NULL);
  names[0] = "pixels";
  MT_CHECK(error_has(mx_predictor_create(model, 1, names, ndims, shapes, &p),
                     MX_ERR_INVALID_ARGUMENT, "'pixels' is not an input of the model"));
  MT_CHECK(error_has(mx_predictor_create(NULL, 1, names, ndims, shapes, &p),
                     MX_ERR_INVALID_ARGUMENT, "'model'"));
  MT_CHECK(error_has(mx_predictor_create(model, 1, NULL, ndims, shapes, &p),
                     MX_ERR_INVALID_ARGUMENT, "input_names"));
  ndims[0] = -1;
  MT_CHECK(error_has(mx_predictor_create(model, 1, names, ndims, shapes, &p),
                     MX_ERR_INVALID_ARGUMENT, "invalid rank -1"));
  p = predictor(model, 1);
  MT_CHECK(error_has(mx_predictor_set_input(p, "data", x, 8), MX_ERR_INVALID_ARGUMENT,
                     "input 'data' has shape (1,4) (4 values), got 8 values"));
  MT_CHECK(error_has(mx_predictor_set_input(p, "label", x, 4), MX_ERR_INVALID_ARGUMENT,
                     "'label' is not an input"));
  MT_CHECK(
      error_has(mx_predictor_set_input(p, "data", NULL, 4), MX_ERR_INVALID_ARGUMENT, "'data'"));
  MT_CHECK(error_has(mx_predictor_get_output(p, 1, y, 3), MX_ERR_INVALID_ARGUMENT, "output 1"));
  MT_CHECK(error_has(mx_predictor_get_output(p, 0, y, 2), MX_ERR_INVALID_ARGUMENT, "room for 2"));
  names[0] = "data";
  ndims[0] = 2;
  shape[1] = 7;
  MT_CHECK(error_has(mx_predictor_reshape(p, 1, names, ndims, shapes), MX_ERR_INVALID_ARGUMENT,
                     "given shape (3,4), inferred (3,7)"));
  /* The failed reshape left the predictor as it was. */
  MT_CHECK(mx_predictor_set_input(p, "data", x, 4) == MX_OK);
  MT_CHECK(mx_predictor_forward(p) == MX_OK);
  MT_CHECK(mx_predictor_get_output(p, 0, y, 3) == MX_OK && y[0] == 0.5f);
  MT_CHECK(mx_predictor_free(p) == MX_OK);
  MT_CHECK(mx_predictor_free(NULL) == MX_OK);
  MT_CHECK(mx_model_free(NULL) == MX_OK);
  MT_CHECK(error_has(mx_predictor_forward(NULL), MX_ERR_INVALID_ARGUMENT, "'pred'"));
}

static void test_bad_model_files(const char* sym_path, const char* param_path) {
  mx_model_t m = NULL;
  size_t size = 0;
  char* json = read_all(sym_path, &size);
  char* params = read_all(param_path, &size);
  FILE* f;
  MT_CHECK(
      error_has(mx_model_load(sym_path, "/dev/zero", kCpu, &m), MX_ERR_IO, "a character device"));
  MT_CHECK(
      error_has(mx_model_load(sym_path, "/no/such/file", kCpu, &m), MX_ERR_IO, "/no/such/file"));
  MT_CHECK(error_has(mx_model_load(param_path, param_path, kCpu, &m), MX_ERR_INVALID_ARGUMENT,
                     param_path));
  MT_CHECK(mx_model_create(json, params, size / 2, kCpu, &m) != MX_OK); /* truncated */
  MT_CHECK(mx_model_create(json, "garbage", 7, kCpu, &m) != MX_OK);
  MT_CHECK(
      error_has(mx_model_create(json, NULL, 5, kCpu, &m), MX_ERR_INVALID_ARGUMENT, "param_bytes"));
  f = fopen("predict_test_trunc.params", "wb");
  fwrite(params, 1, size - 3, f);
  fclose(f);
  MT_CHECK(mx_model_load(sym_path, "predict_test_trunc.params", kCpu, &m) != MX_OK);
  MT_CHECK(strstr(mx_get_last_error(), "predict_test_trunc.params") != NULL);
  MT_CHECK(m == NULL);
  /* A model from memory works like one from files. */
  MT_CHECK(mx_model_create(json, params, size, kCpu, &m) == MX_OK);
  test_predicts(m);
  mx_model_free(m);
  remove("predict_test_trunc.params");
  free(json);
  free(params);
}

int main(void) {
  const char* sym_path = "predict_test-symbol.json";
  const char* param_path = "predict_test-0001.params";
  mx_model_t model = NULL;
  mx_predictor_t p = NULL;
  float x[4] = {1, 1, 1, 1}, y[3];
  write_model(sym_path, param_path);
  MT_CHECK(mx_model_load(sym_path, param_path, kCpu, &model) == MX_OK);
  test_predicts(model);
  test_bad_inputs(model);
  test_bad_model_files(sym_path, param_path);
  /* The model may go before its predictors. */
  p = predictor(model, 1);
  MT_CHECK(mx_model_free(model) == MX_OK);
  MT_CHECK(mx_predictor_set_input(p, "data", x, 4) == MX_OK);
  MT_CHECK(mx_predictor_forward(p) == MX_OK);
  MT_CHECK(mx_predictor_get_output(p, 0, y, 3) == MX_OK && y[0] == 1.5f && y[2] == 4);
  MT_CHECK(mx_predictor_free(p) == MX_OK);
  remove(sym_path);
  remove(param_path);
  return mt_finish();
}
