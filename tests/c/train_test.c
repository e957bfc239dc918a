/* Initializers, optimizers and metrics through the C ABI only, including bad inputs, after
 * which the library must keep working. */
#include <math.h>
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
  if (values != NULL &&
      mx_ndarray_copy_from_host(a, values, (size_t)(rows * cols) * sizeof(float)) != MX_OK) {
    mx_ndarray_free(a);
    return NULL;
  }
  return a;
}

static int error_mentions(const char* text) {
  const char* msg = mx_get_last_error();
  int found = msg != NULL && strstr(msg, text) != NULL;
  if (!found) fprintf(stderr, "last error \"%s\" does not mention \"%s\"\n", msg, text);
  return found;
}

static void test_initializer(void) {
  const char* keys[1] = {"scale"};
  const char* vals[1] = {"0.5"};
  const char* bad_keys[1] = {"sigma"};
  float first[64], second[64], bias[8];
  mx_initializer_t init = NULL, none = NULL;
  mx_ndarray_t w = make(NULL, 8, 8), b = make(NULL, 1, 8);
  int i, in_range = 1, differ = 0;

  MT_CHECK(mx_initializer_create("uniform", 1, keys, vals, &init) == MX_OK);
  MT_CHECK(mx_random_seed(3) == MX_OK);
  MT_CHECK(mx_initializer_apply(init, "fc1_weight", w) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(w, first, sizeof first) == MX_OK);
  MT_CHECK(mx_random_seed(3) == MX_OK);
  MT_CHECK(mx_initializer_apply(init, "fc1_weight", w) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(w, second, sizeof second) == MX_OK);
  MT_CHECK(memcmp(first, second, sizeof first) == 0);
  for (i = 0; i < 64; ++i) {
    if (first[i] < -0.5f || first[i] >= 0.5f) in_range = 0;
    if (first[i] != first[0]) differ = 1;
  }
  MT_CHECK(in_range && differ);
  MT_CHECK(mx_initializer_apply(init, "fc1_bias", b) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(b, bias, sizeof bias) == MX_OK && bias[0] == 0 && bias[7] == 0);

  /* Bad inputs: each an error naming what was wrong; outputs untouched. */
  MT_CHECK(mx_initializer_apply(init, "data", w) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'data'"));
  MT_CHECK(mx_initializer_apply(init, NULL, w) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("arg_name"));
  MT_CHECK(mx_initializer_apply(init, "fc1_weight", NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("array"));
  MT_CHECK(mx_initializer_apply(NULL, "fc1_weight", w) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("init"));
  MT_CHECK(mx_initializer_create("glorot", 0, NULL, NULL, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'glorot'") && none == NULL);
  MT_CHECK(mx_initializer_create("uniform", 1, bad_keys, vals, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'sigma'") && none == NULL);
  MT_CHECK(mx_initializer_create("uniform", 1, NULL, vals, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_initializer_create("uniform", 0, NULL, NULL, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("out_init"));

  MT_CHECK(mx_initializer_free(init) == MX_OK);
  MT_CHECK(mx_initializer_free(NULL) == MX_OK);
  mx_ndarray_free(b);
  mx_ndarray_free(w);
}

/* Two SGD steps with momentum 0.5 on w = 1 with grad 1, lr 0.1: mom -0.1 then -0.15. */
static void test_optimizer(void) {
  const char* keys[2] = {"learning_rate", "momentum"};
  const char* vals[2] = {"0.1", "0.5"};
  const char* bad_keys[1] = {"learning_rte"};
  const char* sched_keys[3] = {"lr_scheduler", "lr_step", "lr_factor"};
  const char* sched_vals[3] = {"factor", "1", "0.5"};
  const char* names[2] = {"fc_weight", "fc_bias"};
  const int32_t indices[2] = {0, 1};
  const double mults[1] = {2.0};
  const float one[2] = {1, 1};
  float out[2] = {0, 0};
  double lr = 0;
  mx_optimizer_t opt = NULL, sched = NULL, none = NULL;
  mx_ndarray_t w = make(one, 1, 2), g = make(one, 1, 2), wrong = make(one, 2, 2);

  MT_CHECK(mx_optimizer_create("sgd", 2, keys, vals, &opt) == MX_OK);
  MT_CHECK(mx_optimizer_update(opt, 0, w, g) == MX_OK);
  MT_CHECK(mx_optimizer_update(opt, 0, w, g) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(w, out, sizeof out) == MX_OK);
  MT_CHECK(fabs(out[0] - 0.75) < 1e-6 && fabs(out[1] - 0.75) < 1e-6);

  /* Names and multipliers: the bias (index 1) steps twice as fast. */
  MT_CHECK(mx_optimizer_set_arg_names(opt, 2, indices, names) == MX_OK);
  MT_CHECK(mx_optimizer_set_lr_mult(opt, 1, names + 1, mults) == MX_OK);
  MT_CHECK(mx_optimizer_set_wd_mult(opt, 1, names, mults) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(w, one, sizeof one) == MX_OK);
  MT_CHECK(mx_optimizer_update(opt, 1, w, g) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(w, out, sizeof out) == MX_OK && fabs(out[0] - 0.8) < 1e-6);

  MT_CHECK(mx_optimizer_get_learning_rate(opt, &lr) == MX_OK && lr == 0.1);
  MT_CHECK(mx_optimizer_set_learning_rate(opt, 0.25) == MX_OK);
  MT_CHECK(mx_optimizer_get_learning_rate(opt, &lr) == MX_OK && lr == 0.25);

  /* A schedule owns the rate: halves after every update. */
  MT_CHECK(mx_optimizer_create("adam", 3, sched_keys, sched_vals, &sched) == MX_OK);
  MT_CHECK(mx_optimizer_update(sched, 0, w, g) == MX_OK);
  MT_CHECK(mx_optimizer_update(sched, 0, w, g) == MX_OK);
  MT_CHECK(mx_optimizer_get_learning_rate(sched, &lr) == MX_OK && fabs(lr - 0.0005) < 1e-12);
  MT_CHECK(mx_optimizer_set_learning_rate(sched, 0.1) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("lr_scheduler"));

  /* Bad inputs. */
  MT_CHECK(mx_optimizer_create("rmsprop", 0, NULL, NULL, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'rmsprop'") && none == NULL);
  MT_CHECK(mx_optimizer_create("sgd", 1, bad_keys, vals, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'learning_rte'") && none == NULL);
  MT_CHECK(mx_optimizer_create("sgd", -1, NULL, NULL, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_optimizer_update(opt, -1, w, g) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("-1"));
  MT_CHECK(mx_optimizer_update(opt, 2, w, wrong) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_optimizer_update(opt, 2, NULL, g) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("weight"));
  MT_CHECK(mx_optimizer_update(NULL, 0, w, g) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("opt"));
  MT_CHECK(mx_optimizer_update((mx_optimizer_t)w, 0, w, g) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("mx_optimizer_t"));
  MT_CHECK(mx_optimizer_set_lr_mult(opt, 1, NULL, mults) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("names"));
  MT_CHECK(mx_optimizer_set_arg_names(opt, 2, NULL, names) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_optimizer_get_learning_rate(opt, NULL) == MX_ERR_INVALID_ARGUMENT);

  /* Still working afterwards. */
  MT_CHECK(mx_optimizer_update(opt, 0, w, g) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(w, out, sizeof out) == MX_OK);

  MT_CHECK(mx_optimizer_free(sched) == MX_OK);
  MT_CHECK(mx_optimizer_free(opt) == MX_OK);
  MT_CHECK(mx_optimizer_free(NULL) == MX_OK);
  mx_ndarray_free(wrong);
  mx_ndarray_free(g);
  mx_ndarray_free(w);
}

static void test_metric(void) {
  const float probs[6] = {0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f};
  const float labels[3] = {0, 1, 1};
  const char* keys[1] = {"top_k"};
  const char* vals[1] = {"2"};
  mx_metric_t acc = NULL, topk = NULL, none = NULL;
  mx_ndarray_t p = make(probs, 3, 2), l = make(labels, 1, 3), short_l = make(labels, 1, 2);
  const char* name = NULL;
  double value = 0;

  MT_CHECK(mx_metric_create("acc", 0, NULL, NULL, &acc) == MX_OK);
  MT_CHECK(mx_metric_get(acc, &name, &value) == MX_OK && isnan(value));
  MT_CHECK(mx_metric_update(acc, 1, &l, &p) == MX_OK);
  MT_CHECK(mx_metric_get(acc, &name, &value) == MX_OK);
  MT_CHECK(strcmp(name, "accuracy") == 0 && fabs(value - 2.0 / 3.0) < 1e-12);
  MT_CHECK(mx_metric_reset(acc) == MX_OK);
  MT_CHECK(mx_metric_get(acc, &name, &value) == MX_OK && isnan(value));

  MT_CHECK(mx_metric_create("top_k_accuracy", 1, keys, vals, &topk) == MX_OK);
  MT_CHECK(mx_metric_update(topk, 1, &l, &p) == MX_OK);
  MT_CHECK(mx_metric_get(topk, &name, &value) == MX_OK);
  MT_CHECK(strcmp(name, "top_k_accuracy_2") == 0 && value == 1.0);

  /* Bad inputs. */
  MT_CHECK(mx_metric_create("f1", 0, NULL, NULL, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'f1'") && none == NULL);
  MT_CHECK(mx_metric_create("acc", 1, keys, vals, &none) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("'top_k'") && none == NULL);
  MT_CHECK(mx_metric_update(acc, 1, &short_l, &p) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("(3,2)"));
  MT_CHECK(mx_metric_update(acc, 1, NULL, &p) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("labels"));
  MT_CHECK(mx_metric_get(acc, NULL, &value) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("out_name"));
  MT_CHECK(mx_metric_reset(NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(error_mentions("metric"));

  /* Still working afterwards. */
  MT_CHECK(mx_metric_update(acc, 1, &l, &p) == MX_OK);
  MT_CHECK(mx_metric_get(acc, &name, &value) == MX_OK && fabs(value - 2.0 / 3.0) < 1e-12);

  MT_CHECK(mx_metric_free(topk) == MX_OK);
  MT_CHECK(mx_metric_free(acc) == MX_OK);
  MT_CHECK(mx_metric_free(NULL) == MX_OK);
  mx_ndarray_free(short_l);
  mx_ndarray_free(l);
  mx_ndarray_free(p);
}

int main(void) {
  test_initializer();
  test_optimizer();
  test_metric();
  return mt_finish();
}
