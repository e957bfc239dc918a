/* An embedder's predictor, built against the installed package (dynamically, and statically
 * against libmx.a): it makes a two-layer perceptron with the symbol API, writes its weights with
 * mx_ndarray_save, loads both as a model and checks the predictions against values worked out by
 * hand. Then it checks the training half of the C ABI: present in a full build, and refused with
 * MX_ERR_UNSUPPORTED naming MX_MINIMAL in a minimal one (README "Static and minimal builds").
 *
 * Usage: predict_consumer full|minimal WORK_DIR */
#include <mx/c_api.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "%s:%d: %s failed (last error: %s)\n", __FILE__, __LINE__, #cond, \
              mx_get_last_error());                                                     \
      return 1;                                                                         \
    }                                                                                   \
  } while (0)

static const mx_context_t kCpu = {MX_CPU, 0};

/* fc1 (3 -> 2), relu, fc2 (2 -> 1). */
static const float kW1[6] = {1, -1, 0.5f, 0, 2, -1};
static const float kB1[2] = {0.5f, -1};
static const float kW2[2] = {2, -3};
static const float kB2[1] = {0.25f};

static int fully_connected(const char* name, const char* hidden, mx_symbol_t in, mx_symbol_t* out) {
  const char* keys[1] = {"num_hidden"};
  const char* vals[1];
  vals[0] = hidden;
  CHECK(mx_symbol_create_op("FullyConnected", 1, keys, vals, out) == MX_OK);
  CHECK(mx_symbol_compose(*out, name, 1, NULL, &in) == MX_OK);
  return 0;
}

static int write_model(const char* sym_path, const char* param_path) {
  mx_symbol_t data = NULL, fc1 = NULL, relu = NULL, fc2 = NULL;
  const char* act_keys[1] = {"act_type"};
  const char* act_vals[1] = {"relu"};
  const char* names[4] = {"arg:fc1_weight", "arg:fc1_bias", "arg:fc2_weight", "arg:fc2_bias"};
  const float* values[4] = {kW1, kB1, kW2, kB2};
  const size_t bytes[4] = {sizeof kW1, sizeof kB1, sizeof kW2, sizeof kB2};
  const int64_t shapes[4][2] = {{2, 3}, {2, 0}, {1, 2}, {1, 0}};
  const int32_t ndims[4] = {2, 1, 2, 1};
  mx_ndarray_t arrays[4];
  int i;
  CHECK(mx_symbol_create_variable("data", &data) == MX_OK);
  if (fully_connected("fc1", "2", data, &fc1) != 0) return 1;
  CHECK(mx_symbol_create_op("Activation", 1, act_keys, act_vals, &relu) == MX_OK);
  CHECK(mx_symbol_compose(relu, "relu1", 1, NULL, &fc1) == MX_OK);
  if (fully_connected("fc2", "1", relu, &fc2) != 0) return 1;
  CHECK(mx_symbol_save(fc2, sym_path) == MX_OK);
  for (i = 0; i < 4; ++i) {
    CHECK(mx_ndarray_create(shapes[i], ndims[i], MX_DTYPE_FLOAT32, kCpu, &arrays[i]) == MX_OK);
    CHECK(mx_ndarray_copy_from_host(arrays[i], values[i], bytes[i]) == MX_OK);
  }
  CHECK(mx_ndarray_save(param_path, 4, arrays, names) == MX_OK);
  for (i = 0; i < 4; ++i) mx_ndarray_free(arrays[i]);
  mx_symbol_free(fc2);
  mx_symbol_free(relu);
  mx_symbol_free(fc1);
  mx_symbol_free(data);
  return 0;
}

static int predict(const char* sym_path, const char* param_path) {
  /* fc1: (1-2+1.5+0.5, 4-3-1) = (1, 0) -> relu (1, 0) -> 2*1 + 0.25 = 2.25;
   *      (-3+0.5+0.5, 6-1-1) = (-2, 4) -> relu (0, 4) -> -3*4 + 0.25 = -11.75. */
  const float x[6] = {1, 2, 3, 0, 3, 1};
  const float expected[2] = {2.25f, -11.75f};
  float y[2] = {0, 0};
  const char* input_names[1] = {"data"};
  const int32_t ndims[1] = {2};
  const int64_t shape[2] = {2, 3};
  const int64_t* shapes[1];
  const int64_t* dims = NULL;
  int32_t ndim = 0;
  mx_model_t model = NULL;
  mx_predictor_t pred = NULL;
  shapes[0] = shape;
  CHECK(mx_model_load(sym_path, param_path, kCpu, &model) == MX_OK);
  CHECK(mx_predictor_create(model, 1, input_names, ndims, shapes, &pred) == MX_OK);
  CHECK(mx_predictor_set_input(pred, "data", x, 6) == MX_OK);
  CHECK(mx_predictor_forward(pred) == MX_OK);
  CHECK(mx_predictor_get_output_shape(pred, 0, &ndim, &dims) == MX_OK);
  CHECK(ndim == 2 && dims[0] == 2 && dims[1] == 1);
  CHECK(mx_predictor_get_output(pred, 0, y, 2) == MX_OK);
  if (y[0] != expected[0] || y[1] != expected[1]) {
    fprintf(stderr, "predicted (%g, %g), expected (%g, %g)\n", y[0], y[1], expected[0],
            expected[1]);
    return 1;
  }
  CHECK(mx_predictor_free(pred) == MX_OK);
  CHECK(mx_model_free(model) == MX_OK);
  return 0;
}

static int refused(mx_status_t status, const char* function) {
  const char* msg = mx_get_last_error();
  if (status == MX_ERR_UNSUPPORTED && strstr(msg, function) != NULL &&
      strstr(msg, "MX_MINIMAL") != NULL)
    return 1;
  fprintf(stderr, "%s: status %d, '%s'; expected MX_ERR_UNSUPPORTED naming it and MX_MINIMAL\n",
          function, (int)status, msg);
  return 0;
}

/* The training half of the C ABI: every function exists in both builds; a minimal build refuses. */
static int check_training_half(int minimal) {
  mx_optimizer_t opt = NULL;
  mx_kvstore_t kv = NULL;
  mx_data_iter_t iter = NULL;
  mx_op_info_t info;
  mx_data_iter_mnist_options_t mnist;
  memset(&info, 0, sizeof info);
  memset(&mnist, 0, sizeof mnist);
  info.struct_size = sizeof info;
  if (!minimal) {
    CHECK(mx_optimizer_create("sgd", 0, NULL, NULL, &opt) == MX_OK);
    CHECK(mx_optimizer_free(opt) == MX_OK);
    CHECK(mx_kvstore_create("local", &kv) == MX_OK);
    CHECK(mx_kvstore_free(kv) == MX_OK);
    CHECK(mx_op_get_info("sgd_update", &info) == MX_OK);
    return 0;
  }
  CHECK(refused(mx_optimizer_create("sgd", 0, NULL, NULL, &opt), "mx_optimizer_create"));
  CHECK(refused(mx_kvstore_create("local", &kv), "mx_kvstore_create"));
  CHECK(refused(mx_data_iter_create_mnist(&mnist, &iter), "mx_data_iter_create_mnist"));
  CHECK(refused(mx_metric_create("acc", 0, NULL, NULL, NULL), "mx_metric_create"));
  CHECK(opt == NULL && kv == NULL && iter == NULL);
  /* Freeing NULL is a no-op in every build. */
  CHECK(mx_optimizer_free(NULL) == MX_OK && mx_kvstore_free(NULL) == MX_OK &&
        mx_data_iter_free(NULL) == MX_OK);
  /* The optimizer-update ops are not registered: an unknown op, as in any build. */
  CHECK(mx_op_get_info("sgd_update", &info) == MX_ERR_NOT_FOUND);
  return 0;
}

int main(int argc, char** argv) {
  char sym_path[4096], param_path[4096];
  int minimal;
  if (argc != 3 || (strcmp(argv[1], "full") != 0 && strcmp(argv[1], "minimal") != 0)) {
    fprintf(stderr, "usage: %s full|minimal WORK_DIR\n", argv[0]);
    return 2;
  }
  minimal = strcmp(argv[1], "minimal") == 0;
  snprintf(sym_path, sizeof sym_path, "%s/mlp-symbol.json", argv[2]);
  snprintf(param_path, sizeof param_path, "%s/mlp-0000.params", argv[2]);
  if (write_model(sym_path, param_path) != 0 || predict(sym_path, param_path) != 0 ||
      check_training_half(minimal) != 0)
    return 1;
  /* The library keeps working after the refusals. */
  if (predict(sym_path, param_path) != 0) return 1;
  printf("predict_consumer (%s libmx %s): OK\n", argv[1], mx_get_version_string());
  return 0;
}
