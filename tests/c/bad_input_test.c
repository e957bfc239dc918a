/* Bad input through the C ABI never aborts, hangs or overflows.
 *
 * Every function of include/mx/c_api.h is called here with what a careless or hostile caller
 * passes: NULL handles and out-pointers, a freed engine variable, invalid enums (dtype, device
 * type, log level, engine type, grad_req, array kind, last_batch_handle, profiler state and dump
 * format), negative and
 * overflowing dims (element or byte counts past 2^63), wrong counts, malformed parameter strings,
 * malformed symbol JSON, and files that are devices, FIFOs, directories or lie about their sizes.
 * Each call must return an error status whose mx_get_last_error() message names the bad thing;
 * the test ends with a small real computation, proving the library still works.
 *
 * One function per area of the ABI, in the header's order. The functions that cannot fail on
 * input (versions, mx_get_last_error, mx_random_seed, mx_set_training, mx_engine_wait_all) are
 * called too. Handles that were freed are undefined behaviour to pass, except engine variables
 * (docs/design/c_api_rules.md, "Freed handles"), so only those are tested freed. */
#define _POSIX_C_SOURCE 200809L /* mkfifo, unlink, setenv */

#include <mx/c_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mini_test.h"

#define INVALID MX_ERR_INVALID_ARGUMENT
#define ANY_ERROR 0

static const mx_context_t kCpu = {MX_CPU, 0};
static const mx_context_t kBadDevice = {42, 0}; /* no such device type */
static const mx_context_t kNoGpu = {MX_GPU, 9999};

static int g_bad_calls = 0;

/* Sets this thread's last error to a marker: a failing call that did not set its own message
 * would leave the marker, and check_bad rejects it. */
static void poison(void) {
  size_t size = 0;
  (void)mx_dtype_size(-424242, &size);
}

static void check_bad(mx_status_t got, mx_status_t want, const char* needle, const char* call,
                      int line) {
  const char* msg = mx_get_last_error();
  ++g_bad_calls;
  if (got != MX_OK && (want == ANY_ERROR || got == want) && msg != NULL && msg[0] != '\0' &&
      strstr(msg, "-424242") == NULL && strstr(msg, needle) != NULL) {
    ++mt_passed;
    return;
  }
  ++mt_failed;
  fprintf(stderr, "%s:%d: %s\n  returned %d (expected %d), message \"%s\" lacks \"%s\"\n", __FILE__,
          line, call, (int)got, (int)want, msg != NULL ? msg : "(null)", needle);
}

/* `call` must fail with status `code` (ANY_ERROR: any failure) and a message containing
 * `needle`. */
#define EXPECT_BAD(code, call, needle)                    \
  do {                                                    \
    poison();                                             \
    check_bad((call), (code), (needle), #call, __LINE__); \
  } while (0)

/* ---- helpers -------------------------------------------------------------------------------- */

static mx_ndarray_t make_array(int64_t rows, int64_t cols, float value) {
  int64_t shape[2];
  size_t i, n = (size_t)(rows * cols);
  float* data = (float*)malloc(n * sizeof(float));
  mx_ndarray_t a = NULL;
  shape[0] = rows;
  shape[1] = cols;
  for (i = 0; i < n; ++i) data[i] = value;
  if (mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, kCpu, &a) != MX_OK ||
      mx_ndarray_copy_from_host(a, data, n * sizeof(float)) != MX_OK) {
    mx_ndarray_free(a);
    a = NULL;
  }
  free(data);
  return a;
}

/* fc = FullyConnected(data, num_hidden=4), arguments data, fc_weight, fc_bias. */
static mx_symbol_t make_fc(void) {
  const char* keys[1] = {"num_hidden"};
  const char* vals[1] = {"4"};
  mx_symbol_t data = NULL, fc = NULL;
  if (mx_symbol_create_variable("data", &data) != MX_OK) return NULL;
  if (mx_symbol_create_op("FullyConnected", 1, keys, vals, &fc) != MX_OK ||
      mx_symbol_compose(fc, "fc", 1, NULL, &data) != MX_OK) {
    mx_symbol_free(fc);
    fc = NULL;
  }
  mx_symbol_free(data);
  return fc;
}

static void write_file(const char* path, const void* bytes, size_t n) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) return;
  if (n > 0) fwrite(bytes, 1, n, f);
  fclose(f);
}

/* CRC-32 (IEEE), as array files end with, so crafted files pass the checksum and reach the
 * checks of their declared sizes. */
static uint32_t crc32_of(const unsigned char* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  size_t i;
  int k;
  for (i = 0; i < n; ++i) {
    crc ^= p[i];
    for (k = 0; k < 8; ++k) crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

static size_t put(unsigned char* buf, size_t pos, const void* v, size_t n) {
  memcpy(buf + pos, v, n);
  return pos + n;
}

/* An array file (docs/design/ndarray_format.md) holding one float32 array header of `ndim`
 * dims with a correct checksum, claiming `count` arrays and `nbytes` bytes of data. */
static void write_array_file(const char* path, uint64_t count, int32_t ndim, const int64_t* dims,
                             uint64_t nbytes) {
  unsigned char buf[256];
  size_t pos = 0;
  const uint32_t version = 1;
  const uint64_t names = 0;
  const int32_t header[3] = {MX_DTYPE_FLOAT32, MX_CPU, 0};
  uint32_t crc;
  int32_t i;
  pos = put(buf, pos, "MXNDARRY", 8);
  pos = put(buf, pos, &version, 4);
  pos = put(buf, pos, &count, 8);
  pos = put(buf, pos, &names, 8);
  pos = put(buf, pos, header, sizeof header);
  pos = put(buf, pos, &ndim, 4);
  for (i = 0; i < ndim; ++i) pos = put(buf, pos, &dims[i], 8);
  pos = put(buf, pos, &nbytes, 8);
  crc = crc32_of(buf, pos);
  pos = put(buf, pos, &crc, 4);
  write_file(path, buf, pos);
}

static int g_user_data_freed = 0;
static void count_free(void* user_data) {
  (void)user_data;
  ++g_user_data_freed;
}
static int32_t failing_fn(void* user_data, char* err, size_t err_size) {
  (void)user_data;
  snprintf(err, err_size, "host function gave up");
  return 1;
}
static int32_t noop_fn(void* user_data, char* err, size_t err_size) {
  (void)user_data;
  (void)err;
  (void)err_size;
  return 0;
}
static void noop_monitor(const char* name, mx_ndarray_t value, void* user_data) {
  (void)name;
  (void)value;
  (void)user_data;
}

/* ---- errors, versions, element types, devices, logging --------------------------------------- */

static void test_base(void) {
  size_t size = 0;
  const char* name = NULL;
  int32_t dtype = -1, count = -1;
  char buf[32];
  const mx_context_t zero_device = {0, 0};

  MT_CHECK(mx_get_version() == MX_VERSION);
  MT_CHECK(strcmp(mx_get_version_string(), MX_VERSION_STRING) == 0);
  MT_CHECK(mx_get_last_error() != NULL);

  EXPECT_BAD(INVALID, mx_dtype_size(42, &size), "unknown dtype 42");
  EXPECT_BAD(INVALID, mx_dtype_size(-1, &size), "unknown dtype -1");
  EXPECT_BAD(INVALID, mx_dtype_size(INT32_MIN, &size), "-2147483648");
  EXPECT_BAD(INVALID, mx_dtype_size(MX_DTYPE_FLOAT32, NULL), "out_size");
  EXPECT_BAD(INVALID, mx_dtype_name(7, &name), "unknown dtype 7");
  EXPECT_BAD(INVALID, mx_dtype_name(MX_DTYPE_INT8, NULL), "out_name");
  EXPECT_BAD(INVALID, mx_dtype_from_name(NULL, &dtype), "'name'");
  EXPECT_BAD(INVALID, mx_dtype_from_name("float33", &dtype), "float33");
  EXPECT_BAD(INVALID, mx_dtype_from_name("", &dtype), "unknown dtype ''");
  EXPECT_BAD(INVALID, mx_dtype_from_name("float32", NULL), "out_dtype");
  MT_CHECK(size == 0 && name == NULL && dtype == -1); /* outputs are written only on success */

  EXPECT_BAD(INVALID, mx_gpu_count(NULL), "out_count");
  MT_CHECK(mx_gpu_count(&count) == MX_OK && count >= 0);
  EXPECT_BAD(INVALID, mx_context_to_string(kBadDevice, buf, sizeof buf), "device type 42");
  EXPECT_BAD(INVALID, mx_context_to_string(zero_device, buf, sizeof buf), "device type 0");
  EXPECT_BAD(INVALID, mx_context_to_string(kCpu, NULL, sizeof buf), "'buf'");
  EXPECT_BAD(INVALID, mx_context_to_string(kCpu, buf, 3), "too small");
  EXPECT_BAD(INVALID, mx_context_to_string(kCpu, buf, 0), "too small");

  EXPECT_BAD(INVALID, mx_set_log_level(-1), "log level -1");
  EXPECT_BAD(INVALID, mx_set_log_level(MX_LOG_DEBUG + 1), "log level 5");
  EXPECT_BAD(INVALID, mx_set_log_level(INT32_MAX), "2147483647");
}

/* ---- engine start-up: before anything starts the engine, so the options are really used ----- */

static void test_init(void) {
  mx_init_options_t o;
  EXPECT_BAD(INVALID, mx_init_options_default(NULL), "opts");
  MT_CHECK(mx_init_options_default(&o) == MX_OK);
  o.struct_size = 0;
  EXPECT_BAD(INVALID, mx_init(&o), "struct_size");
  mx_init_options_default(&o);
  o.engine_type = 9;
  EXPECT_BAD(INVALID, mx_init(&o), "engine_type 9");
  mx_init_options_default(&o);
  o.engine_type = -1;
  EXPECT_BAD(INVALID, mx_init(&o), "engine_type -1");
  mx_init_options_default(&o);
  o.cpu_workers = -1;
  EXPECT_BAD(INVALID, mx_init(&o), "cpu_workers = -1");
  /* A billion threads used to be started one by one: now the limit is named at once. */
  o.cpu_workers = 1000000000;
  EXPECT_BAD(INVALID, mx_init(&o), "cpu_workers = 1000000000");
  EXPECT_BAD(INVALID, mx_init(&o), "1024");
  mx_init_options_default(&o);
  o.cpu_priority_workers = INT32_MAX;
  EXPECT_BAD(INVALID, mx_init(&o), "cpu_priority_workers = 2147483647");
  mx_init_options_default(&o);
  o.gpu_compute_workers = 1000000000;
  EXPECT_BAD(INVALID, mx_init(&o), "gpu_compute_workers");
  mx_init_options_default(&o);
  o.gpu_copy_workers = -7;
  EXPECT_BAD(INVALID, mx_init(&o), "gpu_copy_workers");
  /* Balanced by mx_shutdown in main. */
  MT_CHECK(mx_init(NULL) == MX_OK);
}

static void test_engine(void) {
  const char* type = NULL;
  int32_t n = -1;
  mx_engine_var_t v = NULL, dead = NULL, vars[2];
  int pushes_failed = 0;

  EXPECT_BAD(INVALID, mx_engine_get_type(NULL), "out_name");
  MT_CHECK(mx_engine_get_type(&type) == MX_OK && type != NULL);
  EXPECT_BAD(INVALID, mx_engine_get_worker_count(0, &n), "device type 0");
  EXPECT_BAD(INVALID, mx_engine_get_worker_count(99, &n), "device type 99");
  EXPECT_BAD(INVALID, mx_engine_get_worker_count(MX_CPU, NULL), "out_count");
  EXPECT_BAD(INVALID, mx_engine_var_new(NULL), "out_var");
  EXPECT_BAD(INVALID, mx_engine_wait_for_var(NULL), "'var'");
  MT_CHECK(mx_engine_var_new(&v) == MX_OK);

  /* A failed push still calls free_user_data, exactly once. */
  vars[0] = v;
  vars[1] = NULL;
  EXPECT_BAD(INVALID, mx_engine_push(NULL, NULL, count_free, NULL, 0, vars, 1, 0, "x"), "'fn'");
  EXPECT_BAD(INVALID, mx_engine_push(noop_fn, NULL, count_free, vars, -1, NULL, 0, 0, "x"),
             "n_read");
  EXPECT_BAD(INVALID, mx_engine_push(noop_fn, NULL, count_free, NULL, 1, NULL, 0, 0, "x"),
             "'read'");
  EXPECT_BAD(INVALID, mx_engine_push(noop_fn, NULL, count_free, NULL, 0, vars, -5, 0, "x"),
             "n_write");
  EXPECT_BAD(INVALID, mx_engine_push(noop_fn, NULL, count_free, NULL, 0, NULL, 2, 0, "x"),
             "'write'");
  EXPECT_BAD(INVALID, mx_engine_push(noop_fn, NULL, count_free, NULL, 0, vars, 2, 0, "x"),
             "write[1]");
  pushes_failed = 6;

  /* A freed variable is detected (it stays an error until a new variable reuses its slot). */
  MT_CHECK(mx_engine_var_new(&dead) == MX_OK);
  MT_CHECK(mx_engine_var_free(dead) == MX_OK);
  EXPECT_BAD(INVALID, mx_engine_wait_for_var(dead), "not a live engine variable");
  EXPECT_BAD(INVALID, mx_engine_var_free(dead), "not a live engine variable");
  vars[1] = dead;
  EXPECT_BAD(INVALID, mx_engine_push(noop_fn, NULL, count_free, vars, 2, NULL, 0, 0, "x"),
             "read[1]");
  ++pushes_failed;
  MT_CHECK(g_user_data_freed == pushes_failed);

  /* A host function that fails: its error surfaces at the wait, with the op's name. */
  MT_CHECK(mx_engine_push(failing_fn, NULL, count_free, NULL, 0, &v, 1, 0, "my_host_fn") == MX_OK);
  EXPECT_BAD(MX_ERR_FAILED, mx_engine_wait_for_var(v), "host function gave up");
  MT_CHECK(mx_engine_wait_for_var(v) == MX_OK); /* reported once */
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_user_data_freed == pushes_failed + 1);
  MT_CHECK(mx_engine_var_free(v) == MX_OK);
  MT_CHECK(mx_engine_var_free(NULL) == MX_OK);
}

/* ---- profiler ------------------------------------------------------------------------------- */

static void test_profiler(void) {
  const char* fifo_tmp = "c_bad_input_test_prof.json.tmp"; /* where a dump writes first */
  const char* dir = "c_bad_input_test_prof_dir.json";
  mx_profiler_dump_options_t opts;
  mx_engine_var_t v = NULL;

  EXPECT_BAD(INVALID, mx_profiler_set_state(2), "unknown profiler state 2");
  EXPECT_BAD(INVALID, mx_profiler_set_state(-1), "unknown profiler state -1");
  EXPECT_BAD(INVALID, mx_profiler_dump_options_default(NULL), "'opts'");
  MT_CHECK(mx_profiler_dump_options_default(&opts) == MX_OK);
  EXPECT_BAD(INVALID, mx_profiler_dump(NULL, NULL), "'path'");
  EXPECT_BAD(INVALID, mx_profiler_dump(NULL, &opts), "'path'");
  /* Nothing recorded yet: an error, not an empty file. */
  EXPECT_BAD(MX_ERR_FAILED, mx_profiler_dump("c_bad_input_test_prof.json", NULL),
             "nothing recorded");
  MT_CHECK(access("c_bad_input_test_prof.json", F_OK) != 0);
  /* A malformed event limit is refused when recording starts, and recording stays off. */
  MT_CHECK(setenv("MX_PROFILER_MAX_EVENTS", "lots", 1) == 0);
  EXPECT_BAD(INVALID, mx_profiler_set_state(MX_PROFILER_RUN), "MX_PROFILER_MAX_EVENTS='lots'");
  MT_CHECK(unsetenv("MX_PROFILER_MAX_EVENTS") == 0);

  /* Record one op, then dump it badly in every way; none of it loses the op. */
  MT_CHECK(mx_profiler_set_state(MX_PROFILER_RUN) == MX_OK);
  MT_CHECK(mx_engine_var_new(&v) == MX_OK);
  MT_CHECK(mx_engine_push(noop_fn, NULL, NULL, NULL, 0, &v, 1, 0, "profiled_fn") == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(mx_profiler_set_state(MX_PROFILER_STOP) == MX_OK);
  EXPECT_BAD(INVALID, mx_profiler_dump("", NULL), "path is empty");
  EXPECT_BAD(INVALID, mx_profiler_dump("c_bad_input_test_prof.csv", NULL),
             "c_bad_input_test_prof.csv");
  opts.format = 9;
  EXPECT_BAD(INVALID, mx_profiler_dump("c_bad_input_test_prof.json", &opts), "unknown format 9");
  opts.format = -1;
  EXPECT_BAD(INVALID, mx_profiler_dump("c_bad_input_test_prof.json", &opts), "unknown format -1");
  MT_CHECK(mx_profiler_dump_options_default(&opts) == MX_OK);
  opts.struct_size = 0;
  EXPECT_BAD(INVALID, mx_profiler_dump("c_bad_input_test_prof.json", &opts), "struct_size = 0");
  MT_CHECK(mx_profiler_dump_options_default(&opts) == MX_OK);
  opts.reset = 1;
  EXPECT_BAD(MX_ERR_IO, mx_profiler_dump("no_such_dir/p.json", &opts), "no_such_dir/p.json");
  EXPECT_BAD(MX_ERR_IO, mx_profiler_dump("/proc/version.json", &opts), "/proc/version.json");
  rmdir(dir);
  if (mkdir(dir, 0700) == 0) {
    EXPECT_BAD(MX_ERR_IO, mx_profiler_dump(dir, &opts), dir);
    rmdir(dir);
  }
  /* A FIFO where the temporary file goes: refused at once, without waiting for a reader. */
  unlink(fifo_tmp);
  if (mkfifo(fifo_tmp, 0600) == 0) {
    EXPECT_BAD(MX_ERR_IO, mx_profiler_dump("c_bad_input_test_prof.json", &opts),
               "c_bad_input_test_prof.json");
    unlink(fifo_tmp);
  }
  /* Still all there: the dump works, and its reset empties the profile. */
  MT_CHECK(mx_profiler_dump("c_bad_input_test_prof.json", &opts) == MX_OK);
  EXPECT_BAD(MX_ERR_FAILED, mx_profiler_dump("c_bad_input_test_prof.json", &opts),
             "nothing recorded");
  unlink("c_bad_input_test_prof.json");
  MT_CHECK(mx_engine_var_free(v) == MX_OK);
}

/* ---- memory --------------------------------------------------------------------------------- */

static void test_storage(void) {
  mx_storage_stats_t st;
  const mx_context_t negative_id = {MX_CPU, -1};
  memset(&st, 0, sizeof st);
  EXPECT_BAD(INVALID, mx_storage_get_stats(kCpu, NULL), "out_stats");
  EXPECT_BAD(INVALID, mx_storage_get_stats(kCpu, &st), "struct_size");
  st.struct_size = sizeof st;
  EXPECT_BAD(INVALID, mx_storage_get_stats(kBadDevice, &st), "device type 42");
  EXPECT_BAD(ANY_ERROR, mx_storage_get_stats(kNoGpu, &st), "gpu(9999)");
  EXPECT_BAD(INVALID, mx_storage_get_stats(negative_id, &st), "device id -1");
  EXPECT_BAD(INVALID, mx_storage_release_pool(kBadDevice), "device type 42");
  EXPECT_BAD(ANY_ERROR, mx_storage_release_pool(kNoGpu), "gpu(9999)");
  EXPECT_BAD(INVALID, mx_storage_reset_peak(kBadDevice), "device type 42");
  EXPECT_BAD(INVALID, mx_storage_reset_peak(negative_id), "device id -1");
  MT_CHECK(mx_storage_get_stats(kCpu, &st) == MX_OK);
}

/* ---- arrays --------------------------------------------------------------------------------- */

static void test_ndarray_create(void) {
  const int64_t two_by_three[2] = {2, 3}, negative[2] = {2, -2}, unknown[1] = {-1};
  const int64_t int64_max_by_2[2] = {INT64_MAX, 2};
  const int64_t two40_squared[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
  const int64_t two62_by_2[2] = {(int64_t)1 << 62, 2};
  const int64_t two61[1] = {(int64_t)1 << 61};
  const int64_t two40[1] = {(int64_t)1 << 40};
  const int64_t too_many_dims[13] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  mx_ndarray_t a = (mx_ndarray_t)&g_bad_calls, huge = NULL; /* a sentinel: never written */
  void* data = NULL;

  EXPECT_BAD(INVALID, mx_ndarray_create(NULL, 2, MX_DTYPE_FLOAT32, kCpu, &a), "'shape'");
  EXPECT_BAD(INVALID, mx_ndarray_create(two_by_three, -1, MX_DTYPE_FLOAT32, kCpu, &a), "ndim");
  EXPECT_BAD(INVALID, mx_ndarray_create(too_many_dims, 13, MX_DTYPE_FLOAT32, kCpu, &a), "ndim");
  EXPECT_BAD(INVALID, mx_ndarray_create(negative, 2, MX_DTYPE_FLOAT32, kCpu, &a), "-2");
  EXPECT_BAD(INVALID, mx_ndarray_create(unknown, 1, MX_DTYPE_FLOAT32, kCpu, &a), "unknown shape");
  EXPECT_BAD(INVALID, mx_ndarray_create(two_by_three, 2, 99, kCpu, &a), "unknown dtype 99");
  EXPECT_BAD(INVALID, mx_ndarray_create(two_by_three, 2, MX_DTYPE_FLOAT32, kBadDevice, &a),
             "device type 42");
  EXPECT_BAD(ANY_ERROR, mx_ndarray_create(two_by_three, 2, MX_DTYPE_FLOAT32, kNoGpu, &a),
             "gpu(9999)");
  EXPECT_BAD(INVALID, mx_ndarray_create(two_by_three, 2, MX_DTYPE_FLOAT32, kCpu, NULL),
             "out_array");
  /* Element and byte counts past 64 bits: errors that show the true shape, never a wrapped size. */
  EXPECT_BAD(INVALID, mx_ndarray_create(int64_max_by_2, 2, MX_DTYPE_FLOAT32, kCpu, &a),
             "(9223372036854775807,2)");
  EXPECT_BAD(INVALID, mx_ndarray_create(two40_squared, 2, MX_DTYPE_UINT8, kCpu, &a),
             "(1099511627776,1099511627776)");
  EXPECT_BAD(INVALID, mx_ndarray_create(two62_by_2, 2, MX_DTYPE_INT8, kCpu, &a),
             "(4611686018427387904,2)");
  EXPECT_BAD(INVALID, mx_ndarray_create(two61, 1, MX_DTYPE_FLOAT64, kCpu, &a),
             "(2305843009213693952)");
  MT_CHECK(a == (mx_ndarray_t)&g_bad_calls);

  /* 2^40 floats is a valid shape; allocating its 4 TiB is a clean out-of-memory error. */
  MT_CHECK(mx_ndarray_create(two40, 1, MX_DTYPE_FLOAT32, kCpu, &huge) == MX_OK);
  EXPECT_BAD(MX_ERR_OUT_OF_MEMORY, mx_ndarray_get_data(huge, &data), "4398046511104 bytes");
  EXPECT_BAD(MX_ERR_OUT_OF_MEMORY, mx_ndarray_get_data(huge, &data), "4.0 TiB");
  MT_CHECK(data == NULL);
  MT_CHECK(mx_ndarray_free(huge) == MX_OK);
  MT_CHECK(mx_ndarray_free(NULL) == MX_OK);
}

static void test_ndarray_access(void) {
  float host[6] = {0};
  int32_t ndim = -1, dtype = -1;
  const int64_t* dims = NULL;
  mx_context_t ctx = {0, 0};
  mx_ndarray_t a = make_array(2, 3, 1.0f), b = make_array(3, 2, 1.0f), view = NULL, scalar = NULL;
  void* data = NULL;

  EXPECT_BAD(INVALID, mx_ndarray_get_shape(NULL, &ndim, &dims), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_get_shape(a, NULL, &dims), "out_ndim");
  EXPECT_BAD(INVALID, mx_ndarray_get_shape(a, &ndim, NULL), "out_dims");
  EXPECT_BAD(INVALID, mx_ndarray_get_dtype(NULL, &dtype), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_get_dtype(a, NULL), "out_dtype");
  EXPECT_BAD(INVALID, mx_ndarray_get_context(NULL, &ctx), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_get_context(a, NULL), "out_ctx");
  MT_CHECK(ndim == -1 && dims == NULL && dtype == -1 && ctx.device_type == 0);

  EXPECT_BAD(INVALID, mx_ndarray_copy_from_host(NULL, host, sizeof host), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_copy_from_host(a, NULL, sizeof host), "'data'");
  EXPECT_BAD(INVALID, mx_ndarray_copy_from_host(a, host, sizeof host - 1), "holds 24 bytes");
  EXPECT_BAD(INVALID, mx_ndarray_copy_from_host(a, host, SIZE_MAX), "holds 24 bytes");
  EXPECT_BAD(INVALID, mx_ndarray_copy_to_host(NULL, host, sizeof host), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_copy_to_host(a, NULL, sizeof host), "'data'");
  EXPECT_BAD(INVALID, mx_ndarray_copy_to_host(a, host, 0), "holds 24 bytes");
  EXPECT_BAD(INVALID, mx_ndarray_copy_to(NULL, a), "'from'");
  EXPECT_BAD(INVALID, mx_ndarray_copy_to(a, NULL), "'to'");
  EXPECT_BAD(INVALID, mx_ndarray_copy_to(a, b), "(3,2)");

  EXPECT_BAD(INVALID, mx_ndarray_slice(NULL, 0, 1, &view), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_slice(a, 0, 1, NULL), "out_view");
  EXPECT_BAD(INVALID, mx_ndarray_slice(a, 2, 1, &view), "slice [2, 1)");
  EXPECT_BAD(INVALID, mx_ndarray_slice(a, -1, 1, &view), "slice [-1, 1)");
  EXPECT_BAD(INVALID, mx_ndarray_slice(a, 0, 3, &view), "out of range");
  EXPECT_BAD(INVALID, mx_ndarray_slice(a, INT64_MIN, INT64_MAX, &view), "out of range");
  EXPECT_BAD(INVALID, mx_ndarray_at(NULL, 0, &view), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_at(a, 0, NULL), "out_view");
  EXPECT_BAD(INVALID, mx_ndarray_at(a, 2, &view), "index 2");
  EXPECT_BAD(INVALID, mx_ndarray_at(a, -1, &view), "index -1");
  EXPECT_BAD(INVALID, mx_ndarray_at(a, INT64_MAX, &view), "9223372036854775807");
  MT_CHECK(mx_ndarray_create(NULL, 0, MX_DTYPE_FLOAT32, kCpu, &scalar) == MX_OK);
  EXPECT_BAD(INVALID, mx_ndarray_slice(scalar, 0, 1, &view), "scalar");
  EXPECT_BAD(INVALID, mx_ndarray_at(scalar, 0, &view), "scalar");
  MT_CHECK(view == NULL);

  EXPECT_BAD(INVALID, mx_ndarray_wait_to_read(NULL), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_wait_to_write(NULL), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_get_data(NULL, &data), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_get_data(a, NULL), "out_data");
  MT_CHECK(mx_ndarray_wait_to_read(a) == MX_OK && mx_ndarray_wait_to_write(a) == MX_OK);
  mx_ndarray_free(scalar);
  mx_ndarray_free(b);
  mx_ndarray_free(a);
}

static void test_ndarray_reshape(void) {
  mx_ndarray_t a = make_array(2, 3, 1.0f), view = NULL;
  const int64_t five[1] = {5}, negative[1] = {-3}, two_unknown[2] = {-1, -1};
  const int64_t unknown_and_zero[2] = {-1, 0}, int64_max_by_2[2] = {INT64_MAX, 2};
  /* 2^32 * 2^32 wraps to 0 and 2^62 * 4 to 0 in 64 bits: the products must not be trusted. */
  const int64_t wraps_to_zero[2] = {(int64_t)1 << 32, (int64_t)1 << 32};
  const int64_t unknown_wraps[3] = {-1, (int64_t)1 << 62, 4};
  EXPECT_BAD(INVALID, mx_ndarray_reshape(NULL, five, 1, &view), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, five, 1, NULL), "out_view");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, NULL, 1, &view), "'shape'");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, five, -1, &view), "'ndim' is -1");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, five, 13, &view), "'ndim' is 13");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, five, 1, &view), "(5)");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, negative, 1, &view), "-3");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, two_unknown, 2, &view), "at most one");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, unknown_and_zero, 2, &view), "(?,0)");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, int64_max_by_2, 2, &view), "(9223372036854775807,2)");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, wraps_to_zero, 2, &view), "(4294967296,4294967296)");
  EXPECT_BAD(INVALID, mx_ndarray_reshape(a, unknown_wraps, 3, &view), "(?,4611686018427387904,4)");
  MT_CHECK(view == NULL);
  mx_ndarray_free(a);
}

static void test_ndarray_files(void) {
  const char* good = "c_bad_input_test_good.nd";
  const char* fifo = "c_bad_input_test.fifo";
  const char* crafted = "c_bad_input_test_crafted.nd";
  const char* names[1] = {NULL};
  const int64_t huge_dims[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
  const int64_t small_dims[2] = {2, 3};
  mx_ndarray_t a = make_array(2, 3, 1.0f), none[1] = {NULL}, *arrays = NULL;
  const char** loaded_names = NULL;
  int32_t num = -1;
  FILE* f;
  unsigned char bytes[512];
  size_t n;

  EXPECT_BAD(INVALID, mx_ndarray_save(NULL, 1, &a, NULL), "'path'");
  EXPECT_BAD(INVALID, mx_ndarray_save(good, -1, &a, NULL), "negative count -1");
  EXPECT_BAD(INVALID, mx_ndarray_save(good, 1, NULL, NULL), "'arrays'");
  EXPECT_BAD(INVALID, mx_ndarray_save(good, 1, none, NULL), "arrays[0]");
  EXPECT_BAD(INVALID, mx_ndarray_save(good, 1, &a, names), "names[0]");
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_save("no_such_dir/x.nd", 1, &a, NULL), "no_such_dir/x.nd");
  MT_CHECK(mx_ndarray_save(good, 1, &a, NULL) == MX_OK);

  EXPECT_BAD(INVALID, mx_ndarray_load(NULL, &num, &arrays, &loaded_names), "'path'");
  EXPECT_BAD(INVALID, mx_ndarray_load(good, NULL, &arrays, &loaded_names), "out_num");
  EXPECT_BAD(INVALID, mx_ndarray_load(good, &num, NULL, &loaded_names), "out_arrays");
  EXPECT_BAD(INVALID, mx_ndarray_load(good, &num, &arrays, NULL), "out_names");
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load("no_such_file.nd", &num, &arrays, &loaded_names),
             "no_such_file.nd");
  /* Files that never end or never open: refused without reading (these used to hang). */
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load("/dev/zero", &num, &arrays, &loaded_names),
             "character device");
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load(".", &num, &arrays, &loaded_names), "directory");
  unlink(fifo);
  if (mkfifo(fifo, 0600) == 0) {
    EXPECT_BAD(MX_ERR_IO, mx_ndarray_load(fifo, &num, &arrays, &loaded_names), "pipe");
    unlink(fifo);
  }
  /* A truncated file and files whose (checksummed) header claims what they do not hold. */
  f = fopen(good, "rb");
  n = f != NULL ? fread(bytes, 1, sizeof bytes, f) : 0;
  if (f != NULL) fclose(f);
  MT_CHECK(n > 40);
  write_file(crafted, bytes, n / 2);
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load(crafted, &num, &arrays, &loaded_names), crafted);
  write_array_file(crafted, (uint64_t)1 << 60, 2, small_dims, 24);
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load(crafted, &num, &arrays, &loaded_names),
             "1152921504606846976 arrays");
  write_array_file(crafted, 1, 2, huge_dims, 0);
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load(crafted, &num, &arrays, &loaded_names),
             "(1099511627776,1099511627776)");
  write_array_file(crafted, 1, 2, small_dims, (uint64_t)1 << 62);
  EXPECT_BAD(MX_ERR_IO, mx_ndarray_load(crafted, &num, &arrays, &loaded_names),
             "claims 4611686018427387904 bytes");
  MT_CHECK(num == -1 && arrays == NULL);

  MT_CHECK(mx_ndarray_load(good, &num, &arrays, &loaded_names) == MX_OK && num == 1);
  if (num == 1) mx_ndarray_free(arrays[0]);
  remove(good);
  remove(crafted);
  mx_ndarray_free(a);
}

/* ---- operators ------------------------------------------------------------------------------ */

/* DLPack: NULL arguments (tests/c/dlpack_test.c rejects every malformed or unsupported tensor,
 * with the deleter left uncalled). */
static void test_ndarray_dlpack(void) {
  mx_ndarray_t a = make_array(2, 2, 1.0f), out = NULL;
  struct DLManagedTensor* t = NULL;
  EXPECT_BAD(INVALID, mx_ndarray_to_dlpack(NULL, &t), "'array'");
  EXPECT_BAD(INVALID, mx_ndarray_to_dlpack(a, NULL), "out_tensor");
  EXPECT_BAD(INVALID, mx_ndarray_from_dlpack(NULL, &out), "'tensor'");
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  EXPECT_BAD(INVALID, mx_ndarray_from_dlpack(t, NULL), "out_array");
  /* Still the caller's after the failure: importing it now takes it over. */
  MT_CHECK(mx_ndarray_from_dlpack(t, &out) == MX_OK);
  mx_ndarray_free(out);
  mx_ndarray_free(a);
}

static void test_op_info(void) {
  int32_t n = -1;
  const char* const* names = NULL;
  mx_op_info_t info;
  memset(&info, 0, sizeof info);
  EXPECT_BAD(INVALID, mx_op_list(NULL, &names), "out_num");
  EXPECT_BAD(INVALID, mx_op_list(&n, NULL), "out_names");
  EXPECT_BAD(INVALID, mx_op_get_info(NULL, &info), "'name'");
  EXPECT_BAD(INVALID, mx_op_get_info("FullyConnected", NULL), "out_info");
  EXPECT_BAD(INVALID, mx_op_get_info("FullyConnected", &info), "struct_size");
  info.struct_size = sizeof info;
  EXPECT_BAD(MX_ERR_NOT_FOUND, mx_op_get_info("FullyConected", &info), "FullyConnected");
  EXPECT_BAD(MX_ERR_NOT_FOUND, mx_op_get_info("", &info), "''");
}

/* mx_op_invoke with string parameters, one bad call per row. */
struct BadInvoke {
  const char* op;
  int32_t num_inputs;
  const char* key1;
  const char* val1;
  const char* key2;
  const char* val2;
  mx_status_t code;
  const char* needle;
};

static const struct BadInvoke kBadInvokes[] = {
    {"no_such_op", 1, NULL, NULL, NULL, NULL, MX_ERR_NOT_FOUND, "no_such_op"},
    {"elemwise_add", 1, NULL, NULL, NULL, NULL, INVALID, "elemwise_add"},
    {"elemwise_add", 3, NULL, NULL, NULL, NULL, INVALID, "elemwise_add"},
    /* unknown keys, bad numbers, absurd values */
    {"_plus_scalar", 1, "scalr", "1", NULL, NULL, INVALID, "scalr"},
    {"_plus_scalar", 1, "scalar", "abc", NULL, NULL, INVALID, "scalar"},
    {"_plus_scalar", 1, "scalar", "", NULL, NULL, INVALID, "scalar"},
    {"_plus_scalar", 1, "scalar", "1.5.5", NULL, NULL, INVALID, "scalar"},
    {"FullyConnected", 1, "num_hidden", "-5", NULL, NULL, INVALID, "num_hidden"},
    {"FullyConnected", 1, "num_hidden", "99999999999", NULL, NULL, INVALID, "num_hidden"},
    {"FullyConnected", 1, "num_hidden", "12abc", NULL, NULL, INVALID, "num_hidden"},
    {"FullyConnected", 1, "num_hidden", "4", "no_bias", "maybe", INVALID, "no_bias"},
    {"Activation", 1, "act_type", "relux", NULL, NULL, INVALID, "act_type"},
    {"Concat", 2, "num_args", "1000000000", NULL, NULL, INVALID, "num_args"},
    {"Concat", 2, "num_args", "3", NULL, NULL, INVALID, "Concat"},
    {"add_n", 2, "num_args", "2147483647", NULL, NULL, INVALID, "num_args"},
    {"SliceChannel", 1, "num_outputs", "1000000000", NULL, NULL, INVALID, "num_outputs"},
    {"SliceChannel", 1, "num_outputs", "0", NULL, NULL, INVALID, "num_outputs"},
    {"Reshape", 1, "shape", "(-5,)", NULL, NULL, INVALID, "-5"},
    {"Reshape", 1, "shape", "(1099511627776,1099511627776,1099511627776)", NULL, NULL, INVALID,
     "(1099511627776,1099511627776,1099511627776)"},
    {"transpose", 1, "axes", "(0,7)", NULL, NULL, INVALID, "7"},
    {"Embedding", 2, "input_dim", "-1", "output_dim", "2", INVALID, "input_dim"},
    {"one_hot", 1, "depth", "99999999999", NULL, NULL, INVALID, "depth"},
    /* creation ops: shapes, dtypes and devices from strings */
    {"_zeros", 0, "shape", "(9223372036854775807,2)", NULL, NULL, INVALID,
     "(9223372036854775807,2)"},
    {"_zeros", 0, "shape", "(-5,)", NULL, NULL, INVALID, "-5"},
    {"_zeros", 0, "shape", "(2,", NULL, NULL, INVALID, "shape"},
    {"_zeros", 0, "shape", "(2,3)", "dtype", "float33", INVALID, "float33"},
    {"_zeros", 0, "shape", "(2,3)", "ctx", "gpu(abc)", INVALID, "gpu(abc)"},
    {"_zeros", 0, "shape", "(2,3)", "ctx", "tpu(0)", INVALID, "tpu(0)"},
    {"_zeros", 0, "shape", "(2,3)", "ctx", "gpu(9999)", ANY_ERROR, "gpu(9999)"},
    {"_zeros", 0, "shape", "(1099511627776,)", NULL, NULL, MX_ERR_OUT_OF_MEMORY,
     "4398046511104 bytes"},
    {"_arange", 0, "start", "0", "stop", "nan", INVALID, "nan"},
    {"_arange", 0, "start", "100000000000000", "repeat", "2147483647", INVALID, "64 bits"},
    {"_random_uniform", 0, "shape", "(2,3)", "low", "1e999", INVALID, "low"},
};

static void test_op_invoke(void) {
  mx_ndarray_t in[3], none[1] = {NULL}, *outs = NULL, wrong = make_array(3, 3, 0.0f);
  int32_t num = -1;
  size_t i;
  const char* keys[2] = {"scalar", "scalar"};
  const char* vals[2] = {"1", "2"};
  const char* null_key[1] = {NULL};
  in[0] = make_array(2, 3, 1.0f);
  in[1] = make_array(2, 3, 2.0f);
  in[2] = make_array(2, 3, 3.0f);

  for (i = 0; i < sizeof kBadInvokes / sizeof kBadInvokes[0]; ++i) {
    const struct BadInvoke* b = &kBadInvokes[i];
    const char* k[2];
    const char* v[2];
    const int32_t np = b->key2 != NULL ? 2 : b->key1 != NULL ? 1 : 0;
    mx_status_t st;
    k[0] = b->key1;
    v[0] = b->val1;
    k[1] = b->key2;
    v[1] = b->val2;
    poison();
    st = mx_op_invoke(b->op, b->num_inputs, b->num_inputs > 0 ? in : NULL, np, k, v, &num, &outs);
    check_bad(st, b->code, b->needle, b->op, __LINE__);
    if (st == MX_OK) { /* do not leak what a wrongly accepted call made */
      int32_t j;
      for (j = 0; j < num; ++j) mx_ndarray_free(outs[j]);
      fprintf(stderr, "  (row %u: %s %s=%s)\n", (unsigned)i, b->op, b->key1 ? b->key1 : "",
              b->val1 ? b->val1 : "");
    }
  }
  EXPECT_BAD(INVALID, mx_op_invoke(NULL, 1, in, 0, NULL, NULL, &num, &outs), "'name'");
  EXPECT_BAD(INVALID, mx_op_invoke("relu", -1, in, 0, NULL, NULL, &num, &outs),
             "negative count -1");
  EXPECT_BAD(INVALID, mx_op_invoke("relu", 1, NULL, 0, NULL, NULL, &num, &outs), "'inputs'");
  EXPECT_BAD(INVALID, mx_op_invoke("relu", 1, none, 0, NULL, NULL, &num, &outs), "inputs[0]");
  EXPECT_BAD(INVALID, mx_op_invoke("_plus_scalar", 1, in, -1, keys, vals, &num, &outs),
             "num_params");
  EXPECT_BAD(INVALID, mx_op_invoke("_plus_scalar", 1, in, 1, NULL, vals, &num, &outs), "'keys'");
  EXPECT_BAD(INVALID, mx_op_invoke("_plus_scalar", 1, in, 1, keys, NULL, &num, &outs), "'vals'");
  EXPECT_BAD(INVALID, mx_op_invoke("_plus_scalar", 1, in, 1, null_key, vals, &num, &outs),
             "NULL key");
  EXPECT_BAD(INVALID, mx_op_invoke("_plus_scalar", 1, in, 2, keys, vals, &num, &outs), "'scalar'");
  EXPECT_BAD(INVALID, mx_op_invoke("relu", 1, in, 0, NULL, NULL, NULL, &outs), "out_num");
  EXPECT_BAD(INVALID, mx_op_invoke("relu", 1, in, 0, NULL, NULL, &num, NULL), "out_outputs");
  MT_CHECK(num == -1);

  EXPECT_BAD(INVALID, mx_op_invoke_into(NULL, 1, in, 0, NULL, NULL, 1, &in[1]), "'name'");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, in, 0, NULL, NULL, 0, NULL),
             "at least one output");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, in, 0, NULL, NULL, -1, &in[1]),
             "negative count -1");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, in, 0, NULL, NULL, 1, NULL), "'outputs'");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, in, 0, NULL, NULL, 1, none), "outputs[0]");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, in, 0, NULL, NULL, 1, &wrong), "(3,3)");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, in, 0, NULL, NULL, 2, &in[1]), "relu");
  EXPECT_BAD(INVALID, mx_op_invoke_into("relu", 1, none, 0, NULL, NULL, 1, &in[1]), "inputs[0]");

  /* Neither can fail on input. */
  MT_CHECK(mx_set_training(7, NULL) == MX_OK && mx_set_training(0, NULL) == MX_OK);
  MT_CHECK(mx_random_seed(UINT64_MAX) == MX_OK);
  for (i = 0; i < 3; ++i) mx_ndarray_free(in[i]);
  mx_ndarray_free(wrong);
}

/* ---- symbols -------------------------------------------------------------------------------- */

static void test_symbol_create_and_compose(void) {
  const char* keys[2] = {"num_hidden", "num_hidden"};
  const char* vals[2] = {"4", "5"};
  const char* huge[1] = {"1000000000"};
  const char* num_args[1] = {"num_args"};
  const char* num_outputs[1] = {"num_outputs"};
  const char* in_keys[2] = {"data", "data"};
  const char* bad_key[1] = {"dta"};
  const char* null_key[1] = {NULL};
  mx_symbol_t x = NULL, y = NULL, fc = NULL, op = NULL, pair[2], group = NULL, out = NULL,
              none[1] = {NULL};
  MT_CHECK(mx_symbol_create_variable("x", &x) == MX_OK);
  MT_CHECK(mx_symbol_create_variable("y", &y) == MX_OK);
  pair[0] = x;
  pair[1] = y;
  MT_CHECK(mx_symbol_group(2, pair, &group) == MX_OK);

  EXPECT_BAD(INVALID, mx_symbol_create_variable(NULL, &out), "'name'");
  EXPECT_BAD(INVALID, mx_symbol_create_variable("", &out), "name");
  EXPECT_BAD(INVALID, mx_symbol_create_variable("v", NULL), "out_symbol");
  EXPECT_BAD(INVALID, mx_symbol_create_op(NULL, 0, NULL, NULL, &out), "op_name");
  EXPECT_BAD(MX_ERR_NOT_FOUND, mx_symbol_create_op("FullyConected", 1, keys, vals, &out),
             "FullyConnected");
  EXPECT_BAD(INVALID, mx_symbol_create_op("FullyConnected", -1, keys, vals, &out), "num_params");
  EXPECT_BAD(INVALID, mx_symbol_create_op("FullyConnected", 1, NULL, NULL, &out), "'keys'");
  EXPECT_BAD(INVALID, mx_symbol_create_op("FullyConnected", 1, null_key, vals, &out), "NULL key");
  EXPECT_BAD(INVALID, mx_symbol_create_op("FullyConnected", 2, keys, vals, &out),
             "'num_hidden' is given twice");
  EXPECT_BAD(INVALID, mx_symbol_create_op("FullyConnected", 0, NULL, NULL, &out), "num_hidden");
  EXPECT_BAD(INVALID, mx_symbol_create_op("Concat", 1, num_args, huge, &out), "num_args");
  EXPECT_BAD(INVALID, mx_symbol_create_op("SliceChannel", 1, num_outputs, huge, &out),
             "num_outputs");
  EXPECT_BAD(INVALID, mx_symbol_create_op("FullyConnected", 1, keys, vals, NULL), "out_symbol");
  MT_CHECK(out == NULL);

  MT_CHECK(mx_symbol_create_op("FullyConnected", 1, keys, vals, &fc) == MX_OK);
  MT_CHECK(mx_symbol_create_op("FullyConnected", 1, keys, vals, &op) == MX_OK);
  EXPECT_BAD(INVALID, mx_symbol_compose(NULL, "fc", 1, NULL, &x), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", -1, NULL, &x), "negative count -1");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 1, NULL, NULL), "'args'");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 1, NULL, none), "args[0]");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 1, null_key, &x), "keys[0]");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 2, in_keys, pair), "'data' is given twice");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 1, bad_key, &x), "no input 'dta'");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 1, NULL, &group), "exactly one output");
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 1, NULL, &op), "has not been composed");
  {
    mx_symbol_t four[4];
    four[0] = four[1] = four[2] = four[3] = x;
    EXPECT_BAD(INVALID, mx_symbol_compose(fc, "fc", 4, NULL, four), "got 4");
  }
  MT_CHECK(mx_symbol_compose(fc, "fc", 1, NULL, &x) == MX_OK);
  /* A composed graph replaces its variables by name. */
  EXPECT_BAD(INVALID, mx_symbol_compose(fc, NULL, 1, bad_key, &y), "'dta'");

  EXPECT_BAD(INVALID, mx_symbol_copy(NULL, &out), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_copy(fc, NULL), "out_symbol");
  EXPECT_BAD(INVALID, mx_symbol_group(-1, pair, &out), "negative count -1");
  EXPECT_BAD(INVALID, mx_symbol_group(2, NULL, &out), "'symbols'");
  EXPECT_BAD(INVALID, mx_symbol_group(1, none, &out), "symbols[0]");
  EXPECT_BAD(INVALID, mx_symbol_group(2, pair, NULL), "out_symbol");
  MT_CHECK(out == NULL);
  mx_symbol_free(op);
  mx_symbol_free(fc);
  mx_symbol_free(group);
  mx_symbol_free(y);
  mx_symbol_free(x);
  MT_CHECK(mx_symbol_free(NULL) == MX_OK);
}

static void test_symbol_structure(void) {
  mx_symbol_t fc = make_fc(), x = NULL, pair[2], group = NULL, out = NULL;
  int32_t num = -1, found = -1;
  const char* name = NULL;
  const char** names = NULL;
  const char** values = NULL;
  MT_CHECK(mx_symbol_create_variable("x", &x) == MX_OK);
  pair[0] = fc;
  pair[1] = x;
  MT_CHECK(mx_symbol_group(2, pair, &group) == MX_OK);

  EXPECT_BAD(INVALID, mx_symbol_get_internals(NULL, &out), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_internals(fc, NULL), "out_symbol");
  EXPECT_BAD(INVALID, mx_symbol_get_children(NULL, &out), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_children(fc, NULL), "out_symbol");
  EXPECT_BAD(INVALID, mx_symbol_get_children(group, &out), "group of 2");
  EXPECT_BAD(INVALID, mx_symbol_get_output(NULL, 0, &out), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_output(fc, 0, NULL), "out_symbol");
  EXPECT_BAD(INVALID, mx_symbol_get_output(fc, -1, &out), "output index -1");
  EXPECT_BAD(INVALID, mx_symbol_get_output(fc, 1, &out), "output index 1");
  EXPECT_BAD(INVALID, mx_symbol_get_output(group, INT32_MAX, &out), "2147483647");
  EXPECT_BAD(INVALID, mx_symbol_get_output_by_name(NULL, "fc_output", &out), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_output_by_name(fc, NULL, &out), "'name'");
  EXPECT_BAD(INVALID, mx_symbol_get_output_by_name(fc, "fc_output", NULL), "out_symbol");
  EXPECT_BAD(MX_ERR_NOT_FOUND, mx_symbol_get_output_by_name(fc, "fc_outptu", &out), "fc_outptu");
  EXPECT_BAD(INVALID, mx_symbol_get_num_outputs(NULL, &num), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_num_outputs(fc, NULL), "out_num");
  EXPECT_BAD(INVALID, mx_symbol_get_name(NULL, &name), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_name(fc, NULL), "out_name");
  EXPECT_BAD(INVALID, mx_symbol_list_arguments(NULL, &num, &names), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_list_arguments(fc, NULL, &names), "out_num");
  EXPECT_BAD(INVALID, mx_symbol_list_arguments(fc, &num, NULL), "out_names");
  EXPECT_BAD(INVALID, mx_symbol_list_outputs(NULL, &num, &names), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_list_outputs(fc, NULL, &names), "out_num");
  EXPECT_BAD(INVALID, mx_symbol_list_outputs(fc, &num, NULL), "out_names");
  EXPECT_BAD(INVALID, mx_symbol_list_auxiliary_states(NULL, &num, &names), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_list_auxiliary_states(fc, NULL, &names), "out_num");
  EXPECT_BAD(INVALID, mx_symbol_list_auxiliary_states(fc, &num, NULL), "out_names");
  MT_CHECK(out == NULL && num == -1 && name == NULL && names == NULL);

  EXPECT_BAD(INVALID, mx_symbol_set_attr(NULL, "lr_mult", "2"), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_set_attr(fc, NULL, "2"), "'key'");
  EXPECT_BAD(INVALID, mx_symbol_set_attr(fc, "lr_mult", NULL), "'value'");
  EXPECT_BAD(INVALID, mx_symbol_set_attr(fc, "", "2"), "must not be empty");
  EXPECT_BAD(INVALID, mx_symbol_set_attr(fc, "num_hidden", "7"), "'num_hidden' is a parameter");
  EXPECT_BAD(INVALID, mx_symbol_get_attr(NULL, "k", &name, &found), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_get_attr(fc, NULL, &name, &found), "'key'");
  EXPECT_BAD(INVALID, mx_symbol_get_attr(fc, "k", NULL, &found), "out_value");
  EXPECT_BAD(INVALID, mx_symbol_get_attr(fc, "k", &name, NULL), "out_found");
  EXPECT_BAD(INVALID, mx_symbol_list_attrs(NULL, 0, &num, &names, &values), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_list_attrs(fc, 1, NULL, &names, &values), "out_num");
  EXPECT_BAD(INVALID, mx_symbol_list_attrs(fc, 1, &num, NULL, &values), "out_keys");
  EXPECT_BAD(INVALID, mx_symbol_list_attrs(fc, 1, &num, &names, NULL), "out_values");
  MT_CHECK(found == -1 && values == NULL);
  mx_symbol_free(group);
  mx_symbol_free(x);
  mx_symbol_free(fc);
}

/* Malformed symbol JSON, one document per row: syntax, structure, types, counts. */
static const struct {
  const char* json;
  const char* needle;
} kBadJson[] = {
    {"", "unexpected end of input"},
    {"{\"nodes\": [}", "line 1, column 12"},
    {"[]", "expected an object, got an array"},
    {"{\"nodes\": [], \"arg_nodes\": []}", "missing key 'heads'"},
    {"{\"nodes\": {}, \"arg_nodes\": [], \"heads\": []}", "nodes: expected an array"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": 5, \"inputs\": []}], \"arg_nodes\": [0], "
     "\"heads\": []}",
     "nodes[0].name: expected a string, got a number"},
    {"{\"nodes\": [{\"op\": \"null\", \"inputs\": []}], \"arg_nodes\": [0], \"heads\": []}",
     "nodes[0]: missing key 'name'"},
    /* node input indices out of range, pointing forward, at themselves */
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"relu\", "
     "\"name\": \"r\", \"inputs\": [[7, 0, 0]]}], \"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "nodes[1].inputs[0]: node id 7"},
    {"{\"nodes\": [{\"op\": \"relu\", \"name\": \"r\", \"inputs\": [[1, 0, 0]]}, {\"op\": "
     "\"null\", \"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [1], \"heads\": [[0, 0, 0]]}",
     "nodes[0].inputs[0]: node id 1 is not an earlier node"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"relu\", "
     "\"name\": \"r\", \"inputs\": [[1, 0, 0]]}], \"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "nodes[1].inputs[0]: node id 1 is not an earlier node"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"relu\", "
     "\"name\": \"r\", \"inputs\": [[0, 3, 0]]}], \"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "output index 3 is out of range"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"relu\", "
     "\"name\": \"r\", \"inputs\": [[0, 0, 0], [0, 0, 0]]}], \"arg_nodes\": [0], \"heads\": []}",
     "takes 1 inputs, got 2"},
    /* arg_nodes that disagree with the variables */
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [], "
     "\"heads\": []}",
     "arg_nodes: lists 0 nodes but the graph has 1 variables"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [0, 0], "
     "\"heads\": []}",
     "arg_nodes[1]: node 0 is listed twice"},
    /* two variables of one name; heads entries of two or four numbers */
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"null\", "
     "\"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [0, 1], \"heads\": [[0, 0, 0]]}",
     "variable 'a' is already nodes[0]"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [0], "
     "\"heads\": [[0, 0]]}",
     "heads[0]: expected [node_id, output_index, 0], got 2 elements"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [0], "
     "\"heads\": [[0, 0, 0, 0]]}",
     "heads[0]: expected [node_id, output_index, 0], got 4 elements"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}], \"arg_nodes\": [0], "
     "\"heads\": [[0, 99999999999999999999, 0]]}",
     "heads[0][1]: expected an integer"},
    /* operators: unknown, bad parameters, absurd counts */
    {"{\"nodes\": [{\"op\": \"FullyConected\", \"name\": \"f\", \"inputs\": []}], "
     "\"arg_nodes\": [], \"heads\": []}",
     "did you mean 'FullyConnected'"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"Concat\", "
     "\"name\": \"c\", \"attrs\": {\"num_args\": \"1000000000\"}, \"inputs\": [[0, 0, 0]]}], "
     "\"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "num_args"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": \"Concat\", "
     "\"name\": \"c\", \"attrs\": {\"num_args\": \"2\"}, \"inputs\": [[0, 0, 0]]}], "
     "\"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "operator 'Concat' takes 2 inputs, got 1"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": "
     "\"SliceChannel\", \"name\": \"s\", \"attrs\": {\"num_outputs\": \"99999999\"}, "
     "\"inputs\": [[0, 0, 0]]}], \"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "num_outputs"},
    {"{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}, {\"op\": "
     "\"FullyConnected\", \"name\": \"f\", \"attrs\": {\"num_hidden\": \"-3\"}, \"inputs\": "
     "[[0, 0, 0], [0, 0, 0], [0, 0, 0]]}], \"arg_nodes\": [0], \"heads\": [[1, 0, 0]]}",
     "num_hidden"},
    {"{\"nodes\": [], \"arg_nodes\": [], \"heads\": [], \"attrs\": {\"format_version\": "
     "[\"int\", 99]}}",
     "format version 99"},
};

static void test_symbol_json(void) {
  const char* path = "c_bad_input_test.json";
  const char* fifo = "c_bad_input_test_json.fifo";
  mx_symbol_t fc = make_fc(), op = NULL, out = NULL;
  const char* json = NULL;
  const char* keys[1] = {"num_hidden"};
  const char* vals[1] = {"4"};
  char* deep = (char*)malloc(100001);
  size_t i;

  EXPECT_BAD(INVALID, mx_symbol_to_json(NULL, &json), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_to_json(fc, NULL), "out_json");
  MT_CHECK(mx_symbol_create_op("FullyConnected", 1, keys, vals, &op) == MX_OK);
  EXPECT_BAD(INVALID, mx_symbol_to_json(op, &json), "composed");
  MT_CHECK(json == NULL);

  EXPECT_BAD(INVALID, mx_symbol_from_json(NULL, &out), "'json'");
  EXPECT_BAD(INVALID, mx_symbol_from_json("{}", NULL), "out_symbol");
  for (i = 0; i < sizeof kBadJson / sizeof kBadJson[0]; ++i) {
    poison();
    check_bad(mx_symbol_from_json(kBadJson[i].json, &out), INVALID, kBadJson[i].needle,
              kBadJson[i].json, __LINE__);
  }
  if (deep != NULL) { /* nesting that would overflow a recursive parser's stack */
    memset(deep, '[', 100000);
    deep[100000] = '\0';
    EXPECT_BAD(INVALID, mx_symbol_from_json(deep, &out), "nesting deeper than");
    free(deep);
  }
  MT_CHECK(out == NULL);

  EXPECT_BAD(INVALID, mx_symbol_save(NULL, path), "'symbol'");
  EXPECT_BAD(INVALID, mx_symbol_save(fc, NULL), "'path'");
  EXPECT_BAD(MX_ERR_IO, mx_symbol_save(fc, "no_such_dir/x.json"), "no_such_dir/x.json");
  EXPECT_BAD(INVALID, mx_symbol_save(op, path), "composed");
  EXPECT_BAD(INVALID, mx_symbol_load(NULL, &out), "'path'");
  EXPECT_BAD(INVALID, mx_symbol_load(path, NULL), "out_symbol");
  EXPECT_BAD(MX_ERR_IO, mx_symbol_load("no_such_file.json", &out), "no_such_file.json");
  EXPECT_BAD(MX_ERR_IO, mx_symbol_load("/dev/zero", &out), "character device");
  EXPECT_BAD(MX_ERR_IO, mx_symbol_load(".", &out), "directory");
  unlink(fifo);
  if (mkfifo(fifo, 0600) == 0) {
    EXPECT_BAD(MX_ERR_IO, mx_symbol_load(fifo, &out), "pipe");
    unlink(fifo);
  }
  write_file(path, kBadJson[15].json, strlen(kBadJson[15].json));
  EXPECT_BAD(MX_ERR_IO, mx_symbol_load(path, &out), "got 2 elements");
  EXPECT_BAD(MX_ERR_IO, mx_symbol_load(path, &out), path);
  MT_CHECK(out == NULL);
  remove(path);
  mx_symbol_free(op);
  mx_symbol_free(fc);
}

/* ---- shape and type inference --------------------------------------------------------------- */

static void test_inference(void) {
  mx_symbol_t fc = make_fc();
  mx_shape_list_t args, outs, aux;
  mx_dtype_list_t targs, touts, taux;
  int32_t complete = -1;
  const char* data_name[1] = {"data"};
  const char* null_name[1] = {NULL};
  const char* unknown_name[1] = {"dta"};
  const char* weight_name[2] = {"data", "fc_weight"};
  int32_t ndim2[2] = {2, 2}, ndim13[1] = {13}, ndim_neg[1] = {-2}, ndim3[1] = {3};
  const int64_t good[2] = {5, 3}, negative[2] = {5, -7}, wrong_weight[2] = {4, 9};
  const int64_t flat_overflow[3] = {2, (int64_t)1 << 40, (int64_t)1 << 40};
  const int64_t* good_dims[2] = {good, wrong_weight};
  const int64_t* negative_dims[1] = {negative};
  const int64_t* overflow_dims[1] = {flat_overflow};
  const int64_t* null_dims[1] = {NULL};
  int32_t float32[2] = {MX_DTYPE_FLOAT32, MX_DTYPE_FLOAT32}, bad_dtype[1] = {99};
  memset(&args, 0, sizeof args);

  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(NULL, 1, data_name, ndim2, good_dims, &args, &outs, &aux, &complete),
      "'symbol'");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim2, good_dims, NULL, &outs, &aux, &complete),
      "out_args");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim2, good_dims, &args, NULL, &aux, &complete),
      "out_outputs");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim2, good_dims, &args, &outs, NULL, &complete),
      "out_aux");
  /* Without out_complete every shape must be inferred: nothing known is the error. */
  EXPECT_BAD(INVALID, mx_symbol_infer_shape(fc, 0, NULL, NULL, NULL, &args, &outs, &aux, NULL),
             "cannot infer every shape: argument 'data'");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, -1, data_name, ndim2, good_dims, &args, &outs, &aux, &complete),
      "negative number of shapes: -1");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_shape(fc, 1, NULL, ndim2, good_dims, &args, &outs, &aux, &complete),
             "must not be NULL");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, null_name, ndim2, good_dims, &args, &outs, &aux, &complete),
      "shape name 0 is NULL");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim13, good_dims, &args, &outs, &aux, &complete),
      "invalid rank 13");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim_neg, good_dims, &args, &outs, &aux, &complete),
      "invalid rank -2");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim2, null_dims, &args, &outs, &aux, &complete),
      "'data'");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim2, negative_dims, &args, &outs, &aux, &complete),
      "-7");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, unknown_name, ndim2, good_dims, &args, &outs, &aux, &complete),
      "'dta' is not an input");
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 2, weight_name, ndim2, good_dims, &args, &outs, &aux, &complete),
      "(4,9)");
  /* FullyConnected flattens (2, 2^40, 2^40) to 2^80 columns: an error showing the shape. */
  EXPECT_BAD(
      INVALID,
      mx_symbol_infer_shape(fc, 1, data_name, ndim3, overflow_dims, &args, &outs, &aux, &complete),
      "(2,1099511627776,1099511627776)");
  MT_CHECK(complete == -1 && args.num == 0);

  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(NULL, 1, data_name, float32, &targs, &touts, &taux, &complete),
             "'symbol'");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, 1, data_name, float32, NULL, &touts, &taux, &complete),
             "out_args");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, 1, data_name, float32, &targs, NULL, &taux, &complete),
             "out_outputs");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, 1, data_name, float32, &targs, &touts, NULL, &complete),
             "out_aux");
  EXPECT_BAD(INVALID, mx_symbol_infer_type(fc, 0, NULL, NULL, &targs, &touts, &taux, NULL),
             "cannot infer every type: argument 'data'");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, -1, data_name, float32, &targs, &touts, &taux, &complete),
             "count -1");
  EXPECT_BAD(INVALID, mx_symbol_infer_type(fc, 1, NULL, float32, &targs, &touts, &taux, &complete),
             "count 1");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, 1, null_name, float32, &targs, &touts, &taux, &complete),
             "type name 0 is NULL");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, 1, data_name, bad_dtype, &targs, &touts, &taux, &complete),
             "unknown dtype 99");
  EXPECT_BAD(INVALID,
             mx_symbol_infer_type(fc, 1, unknown_name, float32, &targs, &touts, &taux, &complete),
             "'dta' is not an input");
  MT_CHECK(complete == -1);
  mx_symbol_free(fc);
}

/* ---- executors ------------------------------------------------------------------------------ */

static void test_bind(void) {
  mx_symbol_t fc = make_fc();
  mx_bind_options_t o;
  mx_executor_t exec = NULL;
  mx_ndarray_t args[3], partial[3];
  int32_t reqs[3] = {MX_GRAD_NULL, 7, MX_GRAD_WRITE};
  args[0] = make_array(5, 3, 1.0f);
  args[1] = make_array(4, 3, 1.0f);
  args[2] = make_array(1, 4, 1.0f);
  partial[0] = args[0];
  partial[1] = NULL;
  partial[2] = args[2];

  EXPECT_BAD(INVALID, mx_bind_options_default(NULL), "opts");
  MT_CHECK(mx_bind_options_default(&o) == MX_OK);
  o.num_args = 3;
  o.args = args;
  EXPECT_BAD(INVALID, mx_executor_bind(NULL, &o, &exec), "'symbol'");
  EXPECT_BAD(INVALID, mx_executor_bind(fc, NULL, &exec), "'opts'");
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, NULL), "out_exec");
  o.struct_size = 0;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "struct_size");
  o.struct_size = sizeof o;
  o.num_args = -1;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "negative count -1");
  o.num_args = 2;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "2");
  o.num_args = 3;
  o.args = NULL;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "'args'");
  o.args = partial;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "args[1]");
  o.args = args;
  o.grad_reqs = reqs;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "grad_req for 'fc_weight' is 7");
  o.grad_reqs = NULL;
  o.num_aux = -1;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "'aux'");
  o.num_aux = 0;
  o.ctx = kBadDevice;
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "device type 42");
  o.ctx = kCpu;
  /* (5, 3) data with a (1, 4) bias: shapes that do not fit the operator */
  mx_ndarray_free(args[1]);
  args[1] = args[2];
  EXPECT_BAD(INVALID, mx_executor_bind(fc, &o, &exec), "fc");
  MT_CHECK(exec == NULL);
  mx_ndarray_free(args[0]);
  mx_ndarray_free(args[2]);
  mx_symbol_free(fc);
}

static void test_simple_bind(void) {
  mx_symbol_t fc = make_fc();
  mx_simple_bind_options_t o;
  mx_executor_t exec = NULL;
  const char* data_name[1] = {"data"};
  const char* null_name[1] = {NULL};
  const char* weight_name[1] = {"fc_weight"};
  int32_t ndim2[1] = {2}, ndim13[1] = {13}, bad_req[1] = {-1}, bad_dtype[1] = {99};
  const int64_t good[2] = {5, 3}, negative[2] = {5, -7};
  const int64_t overflow[2] = {INT64_MAX, 2};
  const int64_t* good_dims[1] = {good};
  const int64_t* negative_dims[1] = {negative};
  const int64_t* overflow_dims[1] = {overflow};

  EXPECT_BAD(INVALID, mx_simple_bind_options_default(NULL), "opts");
  MT_CHECK(mx_simple_bind_options_default(&o) == MX_OK);
  o.num_shapes = 1;
  o.shape_names = data_name;
  o.shape_ndims = ndim2;
  o.shapes = good_dims;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(NULL, &o, &exec), "'symbol'");
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, NULL, &exec), "'opts'");
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, NULL), "out_exec");
  o.struct_size = 1;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "struct_size is 1");
  o.struct_size = sizeof o;
  o.num_shapes = -1;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "negative number of shapes");
  o.num_shapes = 0;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "data");
  o.num_shapes = 1;
  o.shape_names = NULL;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "must not be NULL");
  o.shape_names = null_name;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "shape name 0 is NULL");
  o.shape_names = data_name;
  o.shape_ndims = ndim13;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "invalid rank 13");
  o.shape_ndims = ndim2;
  o.shapes = negative_dims;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "-7");
  o.shapes = overflow_dims;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "(9223372036854775807,");
  o.shapes = good_dims;
  o.num_dtypes = -1;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "dtypes (count -1)");
  o.num_dtypes = 1;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "dtypes (count 1)");
  o.dtype_names = null_name;
  o.dtypes = bad_dtype;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "dtype name 0 is NULL");
  o.dtype_names = data_name;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "99");
  o.num_dtypes = 0;
  o.grad_req = 3;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "grad_req for 'every argument'");
  o.grad_req = MX_GRAD_WRITE;
  o.num_grad_reqs = -1;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "grad_reqs (count -1)");
  o.num_grad_reqs = 1;
  o.grad_req_names = null_name;
  o.grad_reqs = bad_req;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "grad_req name 0 is NULL");
  o.grad_req_names = weight_name;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "grad_req for 'fc_weight' is -1");
  o.num_grad_reqs = 0;
  o.ctx = kBadDevice;
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "device type 42");
  o.ctx = kNoGpu;
  EXPECT_BAD(ANY_ERROR, mx_executor_simple_bind(fc, &o, &exec), "gpu(9999)");
  o.ctx = kCpu;
  o.shape_names = weight_name; /* a (5, 3) weight for 4 hidden units */
  EXPECT_BAD(INVALID, mx_executor_simple_bind(fc, &o, &exec), "(5,3)");
  MT_CHECK(exec == NULL);
  mx_symbol_free(fc);
}

static void test_executor_calls(void) {
  mx_symbol_t fc = make_fc();
  mx_simple_bind_options_t o;
  mx_executor_t exec = NULL;
  const char* data_name[1] = {"data"};
  int32_t ndim2[1] = {2};
  const int64_t shape[2] = {5, 3};
  const int64_t* dims[1] = {shape};
  mx_ndarray_t none[1] = {NULL}, heads[2], *arrays = NULL;
  const char* const* names = NULL;
  const char* text = NULL;
  int32_t num = -1;
  uint64_t planned = 0, naive = 0;
  heads[0] = make_array(5, 4, 1.0f);
  heads[1] = make_array(2, 2, 1.0f);
  mx_simple_bind_options_default(&o);
  o.num_shapes = 1;
  o.shape_names = data_name;
  o.shape_ndims = ndim2;
  o.shapes = dims;
  MT_CHECK(mx_executor_simple_bind(fc, &o, &exec) == MX_OK);

  EXPECT_BAD(INVALID, mx_executor_forward(NULL, 1), "'exec'");
  EXPECT_BAD(INVALID, mx_executor_backward(NULL, 0, NULL), "'exec'");
  EXPECT_BAD(INVALID, mx_executor_backward(exec, -1, NULL), "negative count -1");
  EXPECT_BAD(INVALID, mx_executor_backward(exec, 1, NULL), "'head_grads'");
  EXPECT_BAD(INVALID, mx_executor_backward(exec, 1, none), "head_grads[0]");
  EXPECT_BAD(INVALID, mx_executor_backward(exec, 2, heads), "2");
  EXPECT_BAD(INVALID, mx_executor_backward(exec, 1, &heads[1]), "(2,2)");
  EXPECT_BAD(INVALID, mx_executor_get_arrays(NULL, MX_EXEC_ARGS, &num, &names, &arrays), "'exec'");
  EXPECT_BAD(INVALID, mx_executor_get_arrays(exec, 9, &num, &names, &arrays),
             "unknown array kind 9");
  EXPECT_BAD(INVALID, mx_executor_get_arrays(exec, -1, &num, &names, &arrays),
             "unknown array kind -1");
  EXPECT_BAD(INVALID, mx_executor_get_arrays(exec, MX_EXEC_ARGS, NULL, &names, &arrays), "out_num");
  EXPECT_BAD(INVALID, mx_executor_get_arrays(exec, MX_EXEC_ARGS, &num, NULL, &arrays), "out_names");
  EXPECT_BAD(INVALID, mx_executor_get_arrays(exec, MX_EXEC_ARGS, &num, &names, NULL), "out_arrays");
  EXPECT_BAD(INVALID, mx_executor_get_memory(NULL, &planned, &naive), "'exec'");
  EXPECT_BAD(INVALID, mx_executor_get_memory(exec, NULL, &naive), "out_planned_bytes");
  EXPECT_BAD(INVALID, mx_executor_get_memory(exec, &planned, NULL), "out_naive_bytes");
  EXPECT_BAD(INVALID, mx_executor_get_plan(NULL, &text), "'exec'");
  EXPECT_BAD(INVALID, mx_executor_get_plan(exec, NULL), "out_text");
  EXPECT_BAD(INVALID, mx_executor_set_monitor(NULL, noop_monitor, NULL), "'exec'");
  MT_CHECK(num == -1 && arrays == NULL && text == NULL);
  /* Still fine after all that. */
  MT_CHECK(mx_executor_set_monitor(exec, noop_monitor, NULL) == MX_OK);
  MT_CHECK(mx_executor_forward(exec, 1) == MX_OK && mx_executor_backward(exec, 0, NULL) == MX_OK);
  MT_CHECK(mx_executor_set_monitor(exec, NULL, NULL) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(mx_executor_free(exec) == MX_OK);
  MT_CHECK(mx_executor_free(NULL) == MX_OK);
  mx_ndarray_free(heads[0]);
  mx_ndarray_free(heads[1]);
  mx_symbol_free(fc);
}

/* ---- training: initializers, optimizers, metrics -------------------------------------------- */

static void test_initializers(void) {
  mx_initializer_t init = NULL, out = NULL;
  mx_ndarray_t w = make_array(4, 3, 0.0f);
  const char* keys[2] = {"magnitude", "rnd_type"};
  const char* vals[2] = {"abc", "gaussian"};
  const char* unknown[1] = {"magnitud"};
  const char* sigma[1] = {"sigma"};
  const char* negative[1] = {"-1"};
  const char* value[1] = {"value"};
  const char* nan[1] = {"nan"};
  const char* factor[1] = {"factor_type"};
  const char* avgg[1] = {"avgg"};
  EXPECT_BAD(INVALID, mx_initializer_create(NULL, 0, NULL, NULL, &out), "'name'");
  EXPECT_BAD(INVALID, mx_initializer_create("xaviar", 0, NULL, NULL, &out), "xaviar");
  EXPECT_BAD(INVALID, mx_initializer_create("xavier", -1, keys, vals, &out), "num_params");
  EXPECT_BAD(INVALID, mx_initializer_create("xavier", 1, NULL, NULL, &out), "'keys'");
  EXPECT_BAD(INVALID, mx_initializer_create("xavier", 1, keys, vals, &out), "magnitude");
  EXPECT_BAD(INVALID, mx_initializer_create("xavier", 1, unknown, vals, &out), "magnitud");
  EXPECT_BAD(INVALID, mx_initializer_create("xavier", 1, factor, avgg, &out), "avgg");
  EXPECT_BAD(INVALID, mx_initializer_create("normal", 1, sigma, negative, &out), "sigma");
  EXPECT_BAD(INVALID, mx_initializer_create("constant", 0, NULL, NULL, &out), "value");
  EXPECT_BAD(INVALID, mx_initializer_create("constant", 1, value, nan, &out), "value");
  EXPECT_BAD(INVALID, mx_initializer_create("xavier", 0, NULL, NULL, NULL), "out_init");
  MT_CHECK(out == NULL);
  MT_CHECK(mx_initializer_create("xavier", 0, NULL, NULL, &init) == MX_OK);
  EXPECT_BAD(INVALID, mx_initializer_apply(NULL, "fc_weight", w), "'init'");
  EXPECT_BAD(INVALID, mx_initializer_apply(init, NULL, w), "'arg_name'");
  EXPECT_BAD(INVALID, mx_initializer_apply(init, "fc_weight", NULL), "'array'");
  EXPECT_BAD(INVALID, mx_initializer_apply(init, "data", w), "'data'");
  MT_CHECK(mx_initializer_free(init) == MX_OK);
  MT_CHECK(mx_initializer_free(NULL) == MX_OK);
  mx_ndarray_free(w);
}

static void test_optimizers(void) {
  mx_optimizer_t opt = NULL, sched = NULL, out = NULL;
  mx_ndarray_t w = make_array(4, 3, 1.0f), g = make_array(4, 3, 1.0f),
               wrong = make_array(2, 2, 1.0f);
  double lr = -1;
  const char* lr_key[1] = {"learning_rate"};
  const char* bad_numbers[4] = {"abc", "1e999", "-0.5", "nan"};
  const char* momentum[1] = {"momentum"};
  const char* sched_keys[2] = {"lr_scheduler", "lr_step"};
  const char* sched_vals[2] = {"factor", "10"};
  const char* bogus_sched[1] = {"bogus"};
  const char* lr_sched_key[1] = {"lr_scheduler"};
  const char* dup_keys[2] = {"learning_rate", "learning_rate"};
  const char* names[1] = {"fc_weight"};
  const char* null_name[1] = {NULL};
  const int32_t index[1] = {0};
  const double mult[1] = {2.0};
  size_t i;
  EXPECT_BAD(INVALID, mx_optimizer_create(NULL, 0, NULL, NULL, &out), "'name'");
  EXPECT_BAD(INVALID, mx_optimizer_create("sgdd", 0, NULL, NULL, &out), "sgdd");
  EXPECT_BAD(INVALID, mx_optimizer_create("sgd", -1, NULL, NULL, &out), "num_params");
  EXPECT_BAD(INVALID, mx_optimizer_create("sgd", 1, lr_key, NULL, &out), "'keys'");
  for (i = 0; i < 4; ++i) {
    EXPECT_BAD(INVALID, mx_optimizer_create("sgd", 1, lr_key, &bad_numbers[i], &out),
               "learning_rate");
  }
  EXPECT_BAD(INVALID, mx_optimizer_create("sgd", 1, momentum, &bad_numbers[0], &out), "momentum");
  EXPECT_BAD(INVALID, mx_optimizer_create("adam", 1, momentum, &bad_numbers[2], &out), "momentum");
  EXPECT_BAD(INVALID, mx_optimizer_create("sgd", 1, lr_sched_key, bogus_sched, &out), "bogus");
  EXPECT_BAD(INVALID, mx_optimizer_create("sgd", 2, dup_keys, sched_vals, &out),
             "'learning_rate' is given twice");
  EXPECT_BAD(INVALID, mx_optimizer_create("sgd", 0, NULL, NULL, NULL), "out_opt");
  MT_CHECK(out == NULL);
  MT_CHECK(mx_optimizer_create("sgd", 0, NULL, NULL, &opt) == MX_OK);
  MT_CHECK(mx_optimizer_create("sgd", 2, sched_keys, sched_vals, &sched) == MX_OK);

  EXPECT_BAD(INVALID, mx_optimizer_set_arg_names(NULL, 1, index, names), "'opt'");
  EXPECT_BAD(INVALID, mx_optimizer_set_arg_names(opt, -1, index, names), "-1");
  EXPECT_BAD(INVALID, mx_optimizer_set_arg_names(opt, 1, NULL, names), "'indices'");
  EXPECT_BAD(INVALID, mx_optimizer_set_arg_names(opt, 1, index, NULL), "'names'");
  EXPECT_BAD(INVALID, mx_optimizer_set_arg_names(opt, 1, index, null_name), "names[0]");
  EXPECT_BAD(INVALID, mx_optimizer_set_lr_mult(NULL, 1, names, mult), "'opt'");
  EXPECT_BAD(INVALID, mx_optimizer_set_lr_mult(opt, -1, names, mult), "-1");
  EXPECT_BAD(INVALID, mx_optimizer_set_lr_mult(opt, 1, NULL, mult), "'names'");
  EXPECT_BAD(INVALID, mx_optimizer_set_lr_mult(opt, 1, names, NULL), "'values'");
  EXPECT_BAD(INVALID, mx_optimizer_set_lr_mult(opt, 1, null_name, mult), "names[0]");
  EXPECT_BAD(INVALID, mx_optimizer_set_wd_mult(NULL, 1, names, mult), "'opt'");
  EXPECT_BAD(INVALID, mx_optimizer_set_wd_mult(opt, -1, names, mult), "-1");
  EXPECT_BAD(INVALID, mx_optimizer_set_wd_mult(opt, 1, NULL, mult), "'names'");
  EXPECT_BAD(INVALID, mx_optimizer_set_wd_mult(opt, 1, names, NULL), "'values'");
  EXPECT_BAD(INVALID, mx_optimizer_set_wd_mult(opt, 1, null_name, mult), "names[0]");

  EXPECT_BAD(INVALID, mx_optimizer_update(NULL, 0, w, g), "'opt'");
  EXPECT_BAD(INVALID, mx_optimizer_update(opt, -1, w, g), "-1");
  EXPECT_BAD(INVALID, mx_optimizer_update(opt, 0, NULL, g), "'weight'");
  EXPECT_BAD(INVALID, mx_optimizer_update(opt, 0, w, NULL), "'grad'");
  EXPECT_BAD(INVALID, mx_optimizer_update(opt, 0, w, wrong), "(2,2)");
  EXPECT_BAD(INVALID, mx_optimizer_set_learning_rate(NULL, 0.1), "'opt'");
  EXPECT_BAD(INVALID, mx_optimizer_set_learning_rate(opt, -0.1), "-0.1");
  EXPECT_BAD(INVALID, mx_optimizer_set_learning_rate(sched, 0.1), "lr_scheduler");
  EXPECT_BAD(INVALID, mx_optimizer_get_learning_rate(NULL, &lr), "'opt'");
  EXPECT_BAD(INVALID, mx_optimizer_get_learning_rate(opt, NULL), "out_lr");
  MT_CHECK(lr == -1);
  MT_CHECK(mx_optimizer_free(sched) == MX_OK && mx_optimizer_free(opt) == MX_OK);
  MT_CHECK(mx_optimizer_free(NULL) == MX_OK);
  mx_ndarray_free(wrong);
  mx_ndarray_free(g);
  mx_ndarray_free(w);
}

static void test_metrics(void) {
  mx_metric_t m = NULL, out = NULL;
  mx_ndarray_t label = make_array(1, 4, 0.0f), pred = make_array(4, 3, 0.5f),
               wrong = make_array(5, 3, 0.5f), none[1] = {NULL};
  const char* top_k[1] = {"top_k"};
  const char* zero[1] = {"0"};
  const char* abc[1] = {"abc"};
  const char* unknown[1] = {"axsi"};
  const char* name = NULL;
  double value = -1;
  EXPECT_BAD(INVALID, mx_metric_create(NULL, 0, NULL, NULL, &out), "'name'");
  EXPECT_BAD(INVALID, mx_metric_create("accuracyy", 0, NULL, NULL, &out), "accuracyy");
  EXPECT_BAD(INVALID, mx_metric_create("acc", -1, NULL, NULL, &out), "num_params");
  EXPECT_BAD(INVALID, mx_metric_create("top_k_accuracy", 1, top_k, zero, &out), "top_k");
  EXPECT_BAD(INVALID, mx_metric_create("top_k_accuracy", 1, top_k, abc, &out), "top_k");
  EXPECT_BAD(INVALID, mx_metric_create("acc", 1, unknown, zero, &out), "axsi");
  EXPECT_BAD(INVALID, mx_metric_create("acc", 0, NULL, NULL, NULL), "out_metric");
  MT_CHECK(out == NULL);
  MT_CHECK(mx_metric_create("acc", 0, NULL, NULL, &m) == MX_OK);
  EXPECT_BAD(INVALID, mx_metric_update(NULL, 1, &label, &pred), "'metric'");
  EXPECT_BAD(INVALID, mx_metric_update(m, -1, &label, &pred), "negative count -1");
  EXPECT_BAD(INVALID, mx_metric_update(m, 1, NULL, &pred), "'labels'");
  EXPECT_BAD(INVALID, mx_metric_update(m, 1, &label, NULL), "'preds'");
  EXPECT_BAD(INVALID, mx_metric_update(m, 1, none, &pred), "labels[0]");
  EXPECT_BAD(INVALID, mx_metric_update(m, 1, &label, none), "preds[0]");
  EXPECT_BAD(INVALID, mx_metric_update(m, 1, &label, &wrong), "(5,3)");
  EXPECT_BAD(INVALID, mx_metric_get(NULL, &name, &value), "'metric'");
  EXPECT_BAD(INVALID, mx_metric_get(m, NULL, &value), "out_name");
  EXPECT_BAD(INVALID, mx_metric_get(m, &name, NULL), "out_value");
  EXPECT_BAD(INVALID, mx_metric_reset(NULL), "'metric'");
  MT_CHECK(name == NULL && value == -1);
  MT_CHECK(mx_metric_update(m, 1, &label, &pred) == MX_OK && mx_metric_reset(m) == MX_OK);
  MT_CHECK(mx_metric_free(m) == MX_OK && mx_metric_free(NULL) == MX_OK);
  mx_ndarray_free(wrong);
  mx_ndarray_free(pred);
  mx_ndarray_free(label);
}

/* ---- data iterators ------------------------------------------------------------------------- */

static void test_data_iter_create(void) {
  float data[12] = {0}, label[4] = {0};
  const int64_t data_shape[2] = {4, 3}, label_shape[1] = {4}, short_label[1] = {3};
  const int64_t negative[2] = {4, -3}, overflow[2] = {INT64_MAX, 2};
  mx_data_iter_ndarray_options_t o;
  mx_data_iter_mnist_options_t m;
  mx_data_iter_t it = NULL;
  const char* fifo = "c_bad_input_test_idx.fifo";

  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.data = data;
  o.data_shape = data_shape;
  o.data_ndim = 2;
  o.label = label;
  o.label_shape = label_shape;
  o.label_ndim = 1;
  o.batch_size = 2;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(NULL, &it), "'options'");
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, NULL), "out_iter");
  o.struct_size = 8;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "struct_size is 8");
  o.struct_size = sizeof o;
  o.data = NULL;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "options->data");
  o.data = data;
  o.data_ndim = 0;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "data_ndim is 0");
  o.data_ndim = 13;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "data_ndim is 13");
  o.data_ndim = 2;
  o.data_shape = NULL;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "data_shape must not be NULL");
  o.data_shape = negative;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "data_shape[1] is -3");
  /* A shape whose element count overflows must be refused before a single byte is read. */
  o.data_shape = overflow;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "(9223372036854775807,2)");
  o.data_shape = data_shape;
  o.label_shape = short_label;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "label");
  o.label = NULL;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "options->label is NULL");
  o.label = label;
  o.label_shape = label_shape;
  o.batch_size = 0;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "batch_size is 0");
  o.batch_size = -5;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "batch_size is -5");
  /* Batches are allocated up front: an absurd batch size is refused, naming the limit. */
  o.batch_size = INT64_MAX;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "batch_size");
  o.batch_size = (int64_t)1 << 40;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "limit");
  o.batch_size = 2;
  o.last_batch_handle = 7;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "last_batch_handle is 7");
  o.last_batch_handle = -1;
  EXPECT_BAD(INVALID, mx_data_iter_create_ndarray(&o, &it), "last_batch_handle is -1");
  MT_CHECK(it == NULL);

  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  m.image_path = "no_such_images.idx";
  m.label_path = "no_such_labels.idx";
  m.batch_size = 10;
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(NULL, &it), "'options'");
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(&m, NULL), "out_iter");
  m.struct_size = 0;
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(&m, &it), "struct_size is 0");
  m.struct_size = sizeof m;
  m.image_path = NULL;
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(&m, &it), "options->image_path");
  m.image_path = "no_such_images.idx";
  m.label_path = NULL;
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(&m, &it), "options->label_path");
  m.label_path = "no_such_labels.idx";
  m.batch_size = 0;
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(&m, &it), "batch_size is 0");
  m.batch_size = 10;
  m.last_batch_handle = 3;
  EXPECT_BAD(INVALID, mx_data_iter_create_mnist(&m, &it), "last_batch_handle is 3");
  m.last_batch_handle = MX_LAST_BATCH_PAD;
  EXPECT_BAD(MX_ERR_IO, mx_data_iter_create_mnist(&m, &it), "no_such_images.idx");
  m.image_path = "/dev/zero";
  EXPECT_BAD(MX_ERR_IO, mx_data_iter_create_mnist(&m, &it), "character device");
  m.image_path = ".";
  EXPECT_BAD(MX_ERR_IO, mx_data_iter_create_mnist(&m, &it), "directory");
  unlink(fifo);
  if (mkfifo(fifo, 0600) == 0) {
    m.image_path = fifo;
    EXPECT_BAD(MX_ERR_IO, mx_data_iter_create_mnist(&m, &it), "pipe");
    unlink(fifo);
  }
  MT_CHECK(it == NULL);
}

static void test_data_iter_calls(void) {
  float data[12] = {0};
  const int64_t data_shape[2] = {4, 3};
  mx_data_iter_ndarray_options_t o;
  mx_data_iter_t it = NULL;
  mx_ndarray_t out = NULL;
  int32_t has = -1, dn = -1, ln = -1;
  int64_t pad = -1;
  const int64_t* dd = NULL;
  const int64_t* ld = NULL;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.data = data;
  o.data_shape = data_shape;
  o.data_ndim = 2;
  o.batch_size = 3;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_OK);

  EXPECT_BAD(INVALID, mx_data_iter_reset(NULL), "'iter'");
  EXPECT_BAD(INVALID, mx_data_iter_next(NULL, &has), "'iter'");
  EXPECT_BAD(INVALID, mx_data_iter_next(it, NULL), "out_has_batch");
  EXPECT_BAD(INVALID, mx_data_iter_get_data(NULL, &out), "'iter'");
  EXPECT_BAD(INVALID, mx_data_iter_get_data(it, NULL), "out_data");
  EXPECT_BAD(INVALID, mx_data_iter_get_data(it, &out), "no current batch");
  EXPECT_BAD(INVALID, mx_data_iter_get_label(NULL, &out), "'iter'");
  EXPECT_BAD(INVALID, mx_data_iter_get_label(it, NULL), "out_label");
  EXPECT_BAD(INVALID, mx_data_iter_get_pad(NULL, &pad), "'iter'");
  EXPECT_BAD(INVALID, mx_data_iter_get_pad(it, NULL), "out_pad");
  EXPECT_BAD(INVALID, mx_data_iter_get_shapes(NULL, &dn, &dd, &ln, &ld), "'iter'");
  EXPECT_BAD(INVALID, mx_data_iter_get_shapes(it, NULL, &dd, &ln, &ld), "out_data_ndim");
  EXPECT_BAD(INVALID, mx_data_iter_get_shapes(it, &dn, NULL, &ln, &ld), "out_data_dims");
  EXPECT_BAD(INVALID, mx_data_iter_get_shapes(it, &dn, &dd, NULL, &ld), "out_label_ndim");
  EXPECT_BAD(INVALID, mx_data_iter_get_shapes(it, &dn, &dd, &ln, NULL), "out_label_dims");
  MT_CHECK(out == NULL && has == -1 && pad == -1 && dn == -1 && dd == NULL);
  /* The iterator works after all that: 4 samples in batches of 3, the last one padded. */
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
  MT_CHECK(mx_data_iter_get_pad(it, &pad) == MX_OK && pad == 2);
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 0);
  MT_CHECK(mx_data_iter_reset(it) == MX_OK);
  MT_CHECK(mx_data_iter_free(it) == MX_OK && mx_data_iter_free(NULL) == MX_OK);
}

/* ---- key-value stores ----------------------------------------------------------------------- */

static void test_kvstore(void) {
  mx_kvstore_t kv = NULL, out = NULL;
  mx_optimizer_t opt = NULL;
  mx_ndarray_t w = make_array(2, 3, 1.0f), wrong = make_array(3, 3, 1.0f), none[1] = {NULL};
  const char* key[1] = {"w"};
  const char* null_key[1] = {NULL};
  const char* unknown[1] = {"v"};
  const char* type = NULL;
  int32_t n = -1;
  EXPECT_BAD(INVALID, mx_kvstore_create(NULL, &out), "'type'");
  EXPECT_BAD(INVALID, mx_kvstore_create("locl", &out), "locl");
  EXPECT_BAD(MX_ERR_UNSUPPORTED, mx_kvstore_create("dist_async", &out), "dist_async");
  EXPECT_BAD(INVALID, mx_kvstore_create("local", NULL), "out_kv");
  MT_CHECK(out == NULL);
  MT_CHECK(mx_kvstore_create("local", &kv) == MX_OK);
  EXPECT_BAD(INVALID, mx_kvstore_get_type(NULL, &type), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_get_type(kv, NULL), "out_type");
  EXPECT_BAD(INVALID, mx_kvstore_get_rank(NULL, &n), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_get_rank(kv, NULL), "out_rank");
  EXPECT_BAD(INVALID, mx_kvstore_get_num_workers(NULL, &n), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_get_num_workers(kv, NULL), "out_num");
  MT_CHECK(type == NULL && n == -1);

  EXPECT_BAD(INVALID, mx_kvstore_init(NULL, 1, key, &w), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_init(kv, -1, key, &w), "-1");
  EXPECT_BAD(INVALID, mx_kvstore_init(kv, 1, NULL, &w), "'keys'");
  EXPECT_BAD(INVALID, mx_kvstore_init(kv, 1, null_key, &w), "keys[0]");
  EXPECT_BAD(INVALID, mx_kvstore_init(kv, 1, key, NULL), "'values'");
  EXPECT_BAD(INVALID, mx_kvstore_init(kv, 1, key, none), "values[0]");
  MT_CHECK(mx_kvstore_init(kv, 1, key, &w) == MX_OK);
  EXPECT_BAD(INVALID, mx_kvstore_init(kv, 1, key, &w), "'w'");
  EXPECT_BAD(INVALID, mx_kvstore_push(NULL, 1, key, &w, 0), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_push(kv, -1, key, &w, 0), "-1");
  EXPECT_BAD(INVALID, mx_kvstore_push(kv, 1, null_key, &w, 0), "keys[0]");
  EXPECT_BAD(INVALID, mx_kvstore_push(kv, 1, key, none, 0), "values[0]");
  EXPECT_BAD(MX_ERR_NOT_FOUND, mx_kvstore_push(kv, 1, unknown, &w, 0), "'v'");
  EXPECT_BAD(INVALID, mx_kvstore_push(kv, 1, key, &wrong, 0), "(3,3)");
  EXPECT_BAD(INVALID, mx_kvstore_pull(NULL, 1, key, &w, 0), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_pull(kv, -1, key, &w, 0), "-1");
  EXPECT_BAD(INVALID, mx_kvstore_pull(kv, 1, NULL, &w, 0), "'keys'");
  EXPECT_BAD(INVALID, mx_kvstore_pull(kv, 1, key, none, 0), "outs[0]");
  EXPECT_BAD(MX_ERR_NOT_FOUND, mx_kvstore_pull(kv, 1, unknown, &w, 0), "'v'");
  EXPECT_BAD(INVALID, mx_kvstore_pull(kv, 1, key, &wrong, 0), "(3,3)");
  MT_CHECK(mx_optimizer_create("sgd", 0, NULL, NULL, &opt) == MX_OK);
  EXPECT_BAD(INVALID, mx_kvstore_set_optimizer(NULL, opt), "'kv'");
  EXPECT_BAD(INVALID, mx_kvstore_set_optimizer(kv, NULL), "'opt'");
  MT_CHECK(mx_kvstore_push(kv, 1, key, &w, 0) == MX_OK &&
           mx_kvstore_pull(kv, 1, key, &w, 0) == MX_OK);
  MT_CHECK(mx_optimizer_free(opt) == MX_OK);
  MT_CHECK(mx_kvstore_free(kv) == MX_OK && mx_kvstore_free(NULL) == MX_OK);
  mx_ndarray_free(wrong);
  mx_ndarray_free(w);
}

/* ---- after all of that, a real computation -------------------------------------------------- */

/* One forward and backward pass of fc = FullyConnected(data, num_hidden=4) with data all ones,
 * the weight all 0.5 (initializer "constant") and bias 0: every output is 1.5, and after an SGD
 * step (lr 0.1) on the gradient of sum(outputs) each weight is 0.5 - 0.1 * 5. */
/* ---- prediction ------------------------------------------------------------------------------ */

static void test_predict(void) {
  const char* sym_path = "bad_input_predict-symbol.json";
  const char* param_path = "bad_input_predict.params";
  mx_symbol_t fc = make_fc();
  mx_ndarray_t arrays[2];
  const char* names[2] = {"arg:fc_weight", "arg:fc_bias"};
  const char* stranger[1] = {"arg:nope"};
  mx_model_t model = NULL;
  mx_predictor_t pred = NULL;
  const char* in_names[1] = {"data"};
  const char* bad_names[1] = {"fc_weight"};
  const char* null_name[1] = {NULL};
  int64_t dims[2] = {2, 3}, bad_dims[2] = {2, 5}, neg_dims[2] = {-2, 3},
          huge_dims[2] = {INT64_MAX, 3};
  const int64_t* shapes[1] = {dims};
  const int64_t* bad_shapes[1] = {bad_dims};
  const int64_t* neg_shapes[1] = {neg_dims};
  const int64_t* huge_shapes[1] = {huge_dims};
  const int64_t* no_shapes[1] = {NULL};
  int32_t ndims[1] = {2}, bad_rank[1] = {-1}, big_rank[1] = {99};
  int32_t num = 0, ndim = 0;
  const int64_t* out_dims = NULL;
  float x[6] = {0}, y[8];
  mx_ndarray_t lonely = make_array(4, 3, 1.0f);
  MT_CHECK(fc != NULL && lonely != NULL);
  arrays[0] = make_array(4, 3, 1.0f);
  arrays[1] = NULL;
  {
    const int64_t bias_shape[1] = {4};
    const float zeros[4] = {0, 0, 0, 0};
    MT_CHECK(mx_ndarray_create(bias_shape, 1, MX_DTYPE_FLOAT32, kCpu, &arrays[1]) == MX_OK);
    MT_CHECK(mx_ndarray_copy_from_host(arrays[1], zeros, sizeof zeros) == MX_OK);
  }
  MT_CHECK(mx_symbol_save(fc, sym_path) == MX_OK);
  MT_CHECK(mx_ndarray_save(param_path, 2, arrays, names) == MX_OK);

  /* Models. */
  EXPECT_BAD(INVALID, mx_model_load(NULL, param_path, kCpu, &model), "'symbol_path'");
  EXPECT_BAD(INVALID, mx_model_load(sym_path, NULL, kCpu, &model), "'param_path'");
  EXPECT_BAD(INVALID, mx_model_load(sym_path, param_path, kCpu, NULL), "'out_model'");
  EXPECT_BAD(INVALID, mx_model_load(sym_path, param_path, kBadDevice, &model), "42");
  EXPECT_BAD(ANY_ERROR, mx_model_load(sym_path, param_path, kNoGpu, &model), "gpu");
  EXPECT_BAD(MX_ERR_IO, mx_model_load(sym_path, "/dev/zero", kCpu, &model), "/dev/zero");
  EXPECT_BAD(ANY_ERROR, mx_model_load("/nonexistent/x.json", param_path, kCpu, &model),
             "/nonexistent/x.json");
  EXPECT_BAD(ANY_ERROR, mx_model_load(param_path, param_path, kCpu, &model), param_path);
  EXPECT_BAD(INVALID, mx_model_create(NULL, "", 0, kCpu, &model), "'symbol_json'");
  EXPECT_BAD(INVALID, mx_model_create("{}", NULL, 8, kCpu, &model), "'param_bytes'");
  EXPECT_BAD(ANY_ERROR, mx_model_create("{", "", 0, kCpu, &model), "JSON");
  EXPECT_BAD(MX_ERR_IO, mx_model_load(sym_path, sym_path, kCpu, &model), "bad magic");
  MT_CHECK(mx_ndarray_save(param_path, 1, &lonely, stranger) == MX_OK);
  EXPECT_BAD(INVALID, mx_model_load(sym_path, param_path, kCpu, &model), "'arg:nope'");
  MT_CHECK(mx_ndarray_save(param_path, 2, arrays, names) == MX_OK);
  MT_CHECK(mx_model_load(sym_path, param_path, kCpu, &model) == MX_OK);

  /* Predictors. */
  EXPECT_BAD(INVALID, mx_predictor_create(NULL, 1, in_names, ndims, shapes, &pred), "'model'");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, ndims, shapes, NULL), "'out_pred'");
  EXPECT_BAD(INVALID, mx_predictor_create(model, -1, in_names, ndims, shapes, &pred), "-1");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, NULL, ndims, shapes, &pred), "NULL");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, null_name, ndims, shapes, &pred), "NULL");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, bad_rank, shapes, &pred), "-1");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, big_rank, shapes, &pred), "99");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, ndims, no_shapes, &pred), "'data'");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, ndims, neg_shapes, &pred), "-2");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, ndims, huge_shapes, &pred), "'data'");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, bad_names, ndims, shapes, &pred),
             "one of its weights");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 1, in_names, ndims, bad_shapes, &pred),
             "fc_weight");
  EXPECT_BAD(INVALID, mx_predictor_create(model, 0, NULL, NULL, NULL, &pred), "'data'");
  MT_CHECK(mx_predictor_create(model, 1, in_names, ndims, shapes, &pred) == MX_OK);
  EXPECT_BAD(INVALID, mx_predictor_reshape(NULL, 1, in_names, ndims, shapes), "'pred'");
  EXPECT_BAD(INVALID, mx_predictor_reshape(pred, 1, in_names, ndims, bad_shapes), "fc_weight");
  EXPECT_BAD(INVALID, mx_predictor_set_input(NULL, "data", x, 6), "'pred'");
  EXPECT_BAD(INVALID, mx_predictor_set_input(pred, NULL, x, 6), "'name'");
  EXPECT_BAD(INVALID, mx_predictor_set_input(pred, "data", NULL, 6), "'data'");
  EXPECT_BAD(INVALID, mx_predictor_set_input(pred, "image", x, 6), "'image'");
  EXPECT_BAD(INVALID, mx_predictor_set_input(pred, "data", x, 5), "5 values");
  EXPECT_BAD(INVALID, mx_predictor_forward(NULL), "'pred'");
  EXPECT_BAD(INVALID, mx_predictor_get_num_outputs(NULL, &num), "'pred'");
  EXPECT_BAD(INVALID, mx_predictor_get_num_outputs(pred, NULL), "'out_num'");
  EXPECT_BAD(INVALID, mx_predictor_get_output_shape(NULL, 0, &ndim, &out_dims), "'pred'");
  EXPECT_BAD(INVALID, mx_predictor_get_output_shape(pred, 1, &ndim, &out_dims), "1");
  EXPECT_BAD(INVALID, mx_predictor_get_output_shape(pred, -1, &ndim, &out_dims), "-1");
  EXPECT_BAD(INVALID, mx_predictor_get_output_shape(pred, 0, NULL, &out_dims), "'out_ndim'");
  EXPECT_BAD(INVALID, mx_predictor_get_output_shape(pred, 0, &ndim, NULL), "'out_dims'");
  EXPECT_BAD(INVALID, mx_predictor_get_output(NULL, 0, y, 8), "'pred'");
  EXPECT_BAD(INVALID, mx_predictor_get_output(pred, 0, NULL, 8), "'data'");
  EXPECT_BAD(INVALID, mx_predictor_get_output(pred, 2, y, 8), "2");
  EXPECT_BAD(INVALID, mx_predictor_get_output(pred, 0, y, 7), "7");
  /* The predictor still works after all of that: x = 0 gives the bias, 0. */
  MT_CHECK(mx_predictor_set_input(pred, "data", x, 6) == MX_OK);
  MT_CHECK(mx_predictor_forward(pred) == MX_OK);
  MT_CHECK(mx_predictor_get_output(pred, 0, y, 8) == MX_OK);
  MT_CHECK(y[0] == 0.0f && y[7] == 0.0f);
  MT_CHECK(mx_predictor_free(NULL) == MX_OK && mx_model_free(NULL) == MX_OK);
  MT_CHECK(mx_predictor_free(pred) == MX_OK);
  MT_CHECK(mx_model_free(model) == MX_OK);
  mx_ndarray_free(arrays[0]);
  mx_ndarray_free(arrays[1]);
  mx_ndarray_free(lonely);
  mx_symbol_free(fc);
  remove(sym_path);
  remove(param_path);
}

static void test_still_works(void) {
  mx_symbol_t fc = make_fc();
  mx_simple_bind_options_t o;
  mx_executor_t exec = NULL;
  mx_initializer_t init = NULL;
  mx_optimizer_t opt = NULL;
  mx_ndarray_t* arrays = NULL;
  mx_ndarray_t args[3] = {NULL, NULL, NULL}, grads[3] = {NULL, NULL, NULL}, out = NULL;
  const char* const* names = NULL;
  const char* data_name[1] = {"data"};
  const char* value_key[1] = {"value"};
  const char* value[1] = {"0.5"};
  const char* lr_key[1] = {"learning_rate"};
  const char* lr[1] = {"0.1"};
  int32_t ndim2[1] = {2}, num = 0, i;
  const int64_t shape[2] = {5, 3};
  const int64_t* dims[1] = {shape};
  float ones[15], y[20], w[12];
  for (i = 0; i < 15; ++i) ones[i] = 1.0f;
  mx_simple_bind_options_default(&o);
  o.num_shapes = 1;
  o.shape_names = data_name;
  o.shape_ndims = ndim2;
  o.shapes = dims;
  MT_CHECK(fc != NULL && mx_executor_simple_bind(fc, &o, &exec) == MX_OK);
  MT_CHECK(mx_executor_get_arrays(exec, MX_EXEC_ARGS, &num, &names, &arrays) == MX_OK && num == 3);
  for (i = 0; i < num && i < 3; ++i) args[i] = arrays[i];
  MT_CHECK(mx_executor_get_arrays(exec, MX_EXEC_GRADS, &num, &names, &arrays) == MX_OK && num == 3);
  for (i = 0; i < num && i < 3; ++i) grads[i] = arrays[i];
  MT_CHECK(mx_initializer_create("constant", 1, value_key, value, &init) == MX_OK);
  MT_CHECK(mx_initializer_apply(init, "fc_weight", args[1]) == MX_OK);
  MT_CHECK(mx_initializer_apply(init, "fc_bias", args[2]) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(args[0], ones, sizeof ones) == MX_OK);
  MT_CHECK(mx_executor_forward(exec, 1) == MX_OK);
  MT_CHECK(mx_executor_backward(exec, 0, NULL) == MX_OK);
  MT_CHECK(mx_executor_get_arrays(exec, MX_EXEC_OUTPUTS, &num, &names, &arrays) == MX_OK);
  out = num == 1 ? arrays[0] : NULL;
  MT_CHECK(mx_ndarray_copy_to_host(out, y, sizeof y) == MX_OK);
  MT_CHECK(y[0] == 1.5f && y[19] == 1.5f);
  MT_CHECK(mx_optimizer_create("sgd", 1, lr_key, lr, &opt) == MX_OK);
  MT_CHECK(mx_optimizer_update(opt, 0, args[1], grads[1]) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(args[1], w, sizeof w) == MX_OK);
  MT_CHECK(w[0] > -0.0001f && w[0] < 0.0001f && w[11] > -0.0001f && w[11] < 0.0001f);
  mx_optimizer_free(opt);
  mx_initializer_free(init);
  mx_ndarray_free(out);
  for (i = 0; i < 3; ++i) {
    mx_ndarray_free(args[i]);
    mx_ndarray_free(grads[i]);
  }
  mx_executor_free(exec);
  mx_symbol_free(fc);
}

int main(void) {
  test_base();
  test_init(); /* before anything else starts the engine */
  test_engine();
  test_profiler();
  test_storage();
  test_ndarray_create();
  test_ndarray_access();
  test_ndarray_reshape();
  test_ndarray_files();
  test_ndarray_dlpack();
  test_op_info();
  test_op_invoke();
  test_symbol_create_and_compose();
  test_symbol_structure();
  test_symbol_json();
  test_inference();
  test_bind();
  test_simple_bind();
  test_executor_calls();
  test_initializers();
  test_optimizers();
  test_metrics();
  test_data_iter_create();
  test_data_iter_calls();
  test_kvstore();
  test_predict();
  test_still_works();
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(mx_shutdown() == MX_OK);
  printf("%d bad calls, each an error naming the problem\n", g_bad_calls);
  return mt_finish();
}
