/* The engine's C ABI from a C99 program linked against libmx.so: pushing host callbacks with
 * dependencies, errors reported at the wait, start-up options. */
#include <mx/c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

typedef struct {
  int value;
  int frees;
} counter_t;

static int32_t add_one(void* user_data, char* err_buf, size_t err_buf_size) {
  (void)err_buf;
  (void)err_buf_size;
  ((counter_t*)user_data)->value += 1;
  return 0;
}

static int32_t times_ten(void* user_data, char* err_buf, size_t err_buf_size) {
  (void)err_buf;
  (void)err_buf_size;
  ((counter_t*)user_data)->value *= 10;
  return 0;
}

static int32_t fail(void* user_data, char* err_buf, size_t err_buf_size) {
  (void)user_data;
  snprintf(err_buf, err_buf_size, "checksum mismatch");
  return 3;
}

static void count_free(void* user_data) { ((counter_t*)user_data)->frees += 1; }

static void test_init_and_info(void) {
  mx_init_options_t opts;
  const char* name = NULL;
  int32_t workers = -1;
  MT_CHECK(mx_init_options_default(&opts) == MX_OK);
  MT_CHECK(opts.struct_size == sizeof opts);
  opts.cpu_workers = 2;
  MT_CHECK(mx_init(&opts) == MX_OK);
  MT_CHECK(mx_engine_get_type(&name) == MX_OK && strcmp(name, "threaded") == 0);
  MT_CHECK(mx_engine_get_worker_count(MX_CPU, &workers) == MX_OK && workers == 3);
  MT_CHECK(mx_engine_get_worker_count(MX_GPU, &workers) == MX_OK && workers >= 0);
}

static void test_ordered_callbacks(void) {
  mx_engine_var_t v = NULL;
  counter_t c = {1, 0};
  int i;
  MT_CHECK(mx_engine_var_new(&v) == MX_OK);
  /* (1 + 1) * 10 + 1: writes to one variable run in push order. */
  MT_CHECK(mx_engine_push(add_one, &c, count_free, NULL, 0, &v, 1, 0, "add") == MX_OK);
  MT_CHECK(mx_engine_push(times_ten, &c, count_free, &v, 1, &v, 1, 0, "mul") == MX_OK);
  MT_CHECK(mx_engine_push(add_one, &c, count_free, NULL, 0, &v, 1, 0, NULL) == MX_OK);
  MT_CHECK(mx_engine_wait_for_var(v) == MX_OK);
  MT_CHECK(c.value == 21);
  for (i = 0; i < 100; ++i) mx_engine_push(add_one, &c, NULL, NULL, 0, &v, 1, 0, "many");
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(c.value == 121);
  MT_CHECK(c.frees == 3);
  MT_CHECK(mx_engine_var_free(v) == MX_OK);
}

static void test_error_then_recovery(void) {
  mx_engine_var_t a = NULL, b = NULL;
  counter_t c = {0, 0};
  MT_CHECK(mx_engine_var_new(&a) == MX_OK && mx_engine_var_new(&b) == MX_OK);
  MT_CHECK(mx_engine_push(fail, NULL, NULL, NULL, 0, &a, 1, 0, "verify_batch") == MX_OK);
  /* Depends on the failed op: skipped, but its user data is still released. */
  MT_CHECK(mx_engine_push(add_one, &c, count_free, &a, 1, &b, 1, 0, "after") == MX_OK);
  MT_CHECK(mx_engine_wait_for_var(b) == MX_ERR_FAILED);
  MT_CHECK(strstr(mx_get_last_error(), "verify_batch") != NULL);
  MT_CHECK(strstr(mx_get_last_error(), "checksum mismatch") != NULL);
  MT_CHECK(mx_engine_wait_for_var(b) == MX_OK); /* reported once */
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  /* User data is released after the op's completion is signalled: wait_all covers that. */
  MT_CHECK(c.value == 0 && c.frees == 1);
  MT_CHECK(mx_engine_push(add_one, &c, NULL, NULL, 0, &a, 1, 0, "again") == MX_OK);
  MT_CHECK(mx_engine_wait_for_var(a) == MX_OK && c.value == 1);
  MT_CHECK(mx_engine_var_free(a) == MX_OK && mx_engine_var_free(b) == MX_OK);
}

static void test_bad_arguments(void) {
  mx_engine_var_t v = NULL;
  MT_CHECK(mx_engine_var_new(NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_engine_var_new(&v) == MX_OK);
  MT_CHECK(mx_engine_push(add_one, NULL, NULL, &v, -1, NULL, 0, 0, NULL) ==
           MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "n_read") != NULL);
  MT_CHECK(mx_engine_wait_for_var(NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_engine_var_free(NULL) == MX_OK);
  MT_CHECK(mx_engine_var_free(v) == MX_OK);
}

int main(void) {
  test_init_and_info();
  test_ordered_callbacks();
  test_error_then_recovery();
  test_bad_arguments();
  MT_CHECK(mx_shutdown() == MX_OK);
  return mt_finish();
}
