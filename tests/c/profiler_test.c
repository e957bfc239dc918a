/* The profiler through the C ABI, from a C99 program linked against libmx.so: record NDArray
 * operations and host functions, dump a Chrome trace and a table, reset, and record again. */
#include <mx/c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

static int32_t noop(void* user_data, char* err_buf, size_t err_buf_size) {
  (void)user_data;
  (void)err_buf;
  (void)err_buf_size;
  return 0;
}

/* The whole file as a string (caller frees), or NULL. */
static char* slurp(const char* path) {
  FILE* f = fopen(path, "rb");
  long n;
  char* text;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  text = (char*)malloc((size_t)n + 1);
  if (text != NULL) {
    text[fread(text, 1, (size_t)n, f)] = '\0';
  }
  fclose(f);
  return text;
}

static int count(const char* text, const char* needle) {
  int n = 0;
  const char* p = text;
  while ((p = strstr(p, needle)) != NULL) {
    ++n;
    p += strlen(needle);
  }
  return n;
}

static mx_ndarray_t make(float value) {
  const int64_t shape[2] = {4, 8};
  float data[32];
  int i;
  mx_ndarray_t a = NULL;
  for (i = 0; i < 32; ++i) data[i] = value;
  if (mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, (mx_context_t){MX_CPU, 0}, &a) != MX_OK ||
      mx_ndarray_copy_from_host(a, data, sizeof data) != MX_OK) {
    mx_ndarray_free(a);
    return NULL;
  }
  return a;
}

static void test_record_and_dump(void) {
  const char* trace_path = "c_profiler_test.json";
  const char* table_path = "c_profiler_test.txt";
  mx_ndarray_t in[2], *outs = NULL;
  int32_t n = 0;
  int i;
  mx_engine_var_t v = NULL;
  mx_profiler_dump_options_t opts;
  char* text;

  MT_CHECK(mx_profiler_set_state(MX_PROFILER_RUN) == MX_OK);
  in[0] = make(1.0f);
  in[1] = make(2.0f);
  MT_CHECK(mx_op_invoke("elemwise_add", 2, in, 0, NULL, NULL, &n, &outs) == MX_OK && n == 1);
  MT_CHECK(mx_engine_var_new(&v) == MX_OK);
  for (i = 0; i < 3; ++i)
    MT_CHECK(mx_engine_push(noop, NULL, NULL, NULL, 0, &v, 1, 0, "my_host_fn") == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(mx_profiler_set_state(MX_PROFILER_STOP) == MX_OK);

  /* The trace: Chrome trace event JSON with complete events, named lanes and the ops' names. */
  MT_CHECK(mx_profiler_dump(trace_path, NULL) == MX_OK);
  text = slurp(trace_path);
  MT_CHECK(text != NULL);
  if (text != NULL) {
    MT_CHECK(strncmp(text, "{\"traceEvents\":[", 16) == 0);
    MT_CHECK(count(text, "\"ph\":\"X\"") == 6); /* 2 copies in, the add, 3 host functions */
    MT_CHECK(count(text, "\"name\":\"elemwise_add\"") == 1);
    MT_CHECK(count(text, "\"name\":\"my_host_fn\"") == 3);
    MT_CHECK(count(text, "\"name\":\"copy_from_host\"") == 2);
    MT_CHECK(count(text, "\"name\":\"thread_name\"") >= 1);
    MT_CHECK(strstr(text, "\"device\":\"cpu(0)\"") != NULL);
    MT_CHECK(strstr(text, "\"dur\":-") == NULL && strstr(text, "\"ts\":-") == NULL);
    free(text);
  }

  /* The table, chosen by the extension or explicitly; reset empties the profile. */
  MT_CHECK(mx_profiler_dump_options_default(&opts) == MX_OK);
  MT_CHECK(opts.struct_size == sizeof opts && opts.format == MX_PROFILER_FORMAT_AUTO &&
           opts.reset == 0);
  opts.format = MX_PROFILER_FORMAT_TABLE;
  opts.reset = 1;
  MT_CHECK(mx_profiler_dump(table_path, &opts) == MX_OK);
  text = slurp(table_path);
  MT_CHECK(text != NULL);
  if (text != NULL) {
    MT_CHECK(strstr(text, "libmx profile: 6 ops") != NULL);
    MT_CHECK(strstr(text, "my_host_fn") != NULL && strstr(text, "elemwise_add") != NULL);
    MT_CHECK(strstr(text, "mean wait (us)") != NULL);
    free(text);
  }
  MT_CHECK(mx_profiler_dump(trace_path, NULL) == MX_ERR_FAILED);
  MT_CHECK(strstr(mx_get_last_error(), "nothing recorded") != NULL);

  /* Recording again starts from the reset. */
  MT_CHECK(mx_profiler_set_state(MX_PROFILER_RUN) == MX_OK);
  MT_CHECK(mx_engine_push(noop, NULL, NULL, NULL, 0, &v, 1, 0, "second_run") == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(mx_profiler_set_state(MX_PROFILER_STOP) == MX_OK);
  MT_CHECK(mx_profiler_dump(trace_path, NULL) == MX_OK);
  text = slurp(trace_path);
  if (text != NULL) {
    MT_CHECK(count(text, "\"ph\":\"X\"") == 1);
    MT_CHECK(count(text, "\"name\":\"second_run\"") == 1);
    free(text);
  }
  remove(trace_path);
  remove(table_path);
  MT_CHECK(mx_engine_var_free(v) == MX_OK);
  if (outs != NULL) mx_ndarray_free(outs[0]);
  mx_ndarray_free(in[0]);
  mx_ndarray_free(in[1]);
}

int main(void) {
  test_record_and_dump();
  MT_CHECK(mx_shutdown() == MX_OK);
  return mt_finish();
}
