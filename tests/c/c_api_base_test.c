/* The C ABI's base calls, from a C99 program linked against libmx.so. */
#include <mx/c_api.h>
#include <string.h>

#include "mini_test.h"

static void test_version(void) {
  MT_CHECK(mx_get_version() == MX_VERSION);
  MT_CHECK(strcmp(mx_get_version_string(), MX_VERSION_STRING) == 0);
}

static void test_dtypes(void) {
  size_t size = 0;
  const char* name = NULL;
  int32_t dtype = -1;
  MT_CHECK(mx_dtype_size(MX_DTYPE_FLOAT32, &size) == MX_OK && size == 4);
  MT_CHECK(mx_dtype_size(MX_DTYPE_INT64, &size) == MX_OK && size == 8);
  MT_CHECK(mx_dtype_name(MX_DTYPE_FLOAT16, &name) == MX_OK && strcmp(name, "float16") == 0);
  MT_CHECK(mx_dtype_from_name("uint8", &dtype) == MX_OK && dtype == MX_DTYPE_UINT8);
}

static void test_errors_leave_outputs_alone(void) {
  size_t size = 123;
  int32_t dtype = 77;
  MT_CHECK(mx_dtype_size(42, &size) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(size == 123);
  MT_CHECK(strstr(mx_get_last_error(), "unknown dtype 42") != NULL);
  MT_CHECK(mx_dtype_from_name("float33", &dtype) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(dtype == 77);
  MT_CHECK(strstr(mx_get_last_error(), "float33") != NULL);
  MT_CHECK(mx_dtype_size(MX_DTYPE_FLOAT32, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "out_size") != NULL);
  MT_CHECK(mx_dtype_from_name(NULL, &dtype) == MX_ERR_INVALID_ARGUMENT);
  /* The library keeps working after errors. */
  MT_CHECK(mx_dtype_size(MX_DTYPE_FLOAT64, &size) == MX_OK && size == 8);
}

static void test_devices(void) {
  int32_t n = -1;
  char buf[32];
  mx_context_t gpu1 = {MX_GPU, 1};
  mx_context_t bad = {9, 0};
  MT_CHECK(mx_gpu_count(&n) == MX_OK && n >= 0);
  MT_CHECK(mx_context_to_string(gpu1, buf, sizeof buf) == MX_OK && strcmp(buf, "gpu(1)") == 0);
  MT_CHECK(mx_context_to_string(gpu1, buf, 3) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_context_to_string(bad, buf, sizeof buf) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "device type 9") != NULL);
}

static void test_log_level(void) {
  MT_CHECK(mx_set_log_level(MX_LOG_WARNING) == MX_OK);
  MT_CHECK(mx_set_log_level(17) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_set_log_level(MX_LOG_OFF) == MX_OK);
}

int main(void) {
  test_version();
  test_dtypes();
  test_errors_leave_outputs_alone();
  test_devices();
  test_log_level();
  return mt_finish();
}
