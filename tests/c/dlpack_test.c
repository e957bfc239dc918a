/* DLPack exchange through the C ABI: mx_ndarray_from_dlpack and mx_ndarray_to_dlpack.
 *
 * Imports use a producer written here: a DLManagedTensor over a malloc'ed buffer whose deleter
 * counts its calls, and (where the test says so) poisons and frees the buffer, so a libmx op
 * touching the memory after the deleter ran reads garbage (and AddressSanitizer reports a
 * use-after-free). Exports are checked field by field and against the storage statistics. Every
 * rejected tensor must leave the deleter uncalled: the caller still owns it.
 * docs/design/dlpack.md describes the contract tested here. */
#include <dlpack/dlpack.h>
#include <mx/c_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

static const mx_context_t kCpu = {MX_CPU, 0};

/* ---- a producer with a counting deleter ----------------------------------------------------- */

typedef struct Producer {
  DLManagedTensor managed;
  int64_t shape[16];
  int64_t strides[16];
  void* buffer;   /* the memory the tensor views (data may point into it) */
  size_t bytes;   /* of buffer */
  int own_buffer; /* the deleter poisons and frees buffer */
} Producer;

/* Deleter calls so far. The deleter may run on an engine thread; the test reads this after
 * mx_engine_wait_all, which returns only after that thread's work (and the deleter) is done. */
static int g_deleted = 0;

static void producer_deleter(DLManagedTensor* self) {
  Producer* p = (Producer*)self->manager_ctx;
  ++g_deleted;
  if (p->own_buffer) {
    memset(p->buffer, 0xFF, p->bytes);
    free(p->buffer);
  }
  free(p);
}

/* A CPU tensor of `ndim` dims over a new buffer of `bytes` (zeroed), owned by the deleter. */
static Producer* producer_new(uint8_t code, uint8_t bits, int ndim, const int64_t* shape,
                              size_t bytes) {
  Producer* p = (Producer*)calloc(1, sizeof(Producer));
  int i;
  p->buffer = calloc(1, bytes > 0 ? bytes : 1);
  p->bytes = bytes;
  p->own_buffer = 1;
  for (i = 0; i < ndim; ++i) p->shape[i] = shape[i];
  p->managed.dl_tensor.data = p->buffer;
  p->managed.dl_tensor.device.device_type = kDLCPU;
  p->managed.dl_tensor.device.device_id = 0;
  p->managed.dl_tensor.ndim = ndim;
  p->managed.dl_tensor.dtype.code = code;
  p->managed.dl_tensor.dtype.bits = bits;
  p->managed.dl_tensor.dtype.lanes = 1;
  p->managed.dl_tensor.shape = p->shape;
  p->managed.dl_tensor.strides = NULL;
  p->managed.dl_tensor.byte_offset = 0;
  p->managed.manager_ctx = p;
  p->managed.deleter = producer_deleter;
  return p;
}

/* A float32 tensor of `rows` x `cols` holding 0, 1, 2, ... */
static Producer* producer_iota(int64_t rows, int64_t cols) {
  const int64_t shape[2] = {rows, cols};
  Producer* p = producer_new(kDLFloat, 32, 2, shape, (size_t)(rows * cols) * sizeof(float));
  int64_t i;
  for (i = 0; i < rows * cols; ++i) ((float*)p->buffer)[i] = (float)i;
  return p;
}

static uint64_t cpu_bytes_in_use(void) {
  mx_storage_stats_t s;
  s.struct_size = sizeof s;
  if (mx_storage_get_stats(kCpu, &s) != MX_OK) return UINT64_MAX;
  return s.bytes_in_use;
}

static mx_ndarray_t mul_scalar(mx_ndarray_t a, const char* value) {
  const char* keys[1] = {"scalar"};
  const char* vals[1];
  mx_ndarray_t* outs = NULL;
  int32_t n = 0;
  vals[0] = value;
  if (mx_op_invoke("_mul_scalar", 1, &a, 1, keys, vals, &n, &outs) != MX_OK || n != 1) {
    fprintf(stderr, "_mul_scalar: %s\n", mx_get_last_error());
    return NULL;
  }
  return outs[0];
}

static int equals_iota_times(mx_ndarray_t a, int64_t n, float factor) {
  float out[64];
  int64_t i;
  if (n > 64 || mx_ndarray_copy_to_host(a, out, (size_t)n * sizeof(float)) != MX_OK) return 0;
  for (i = 0; i < n; ++i) {
    if (out[i] != factor * (float)i) return 0;
  }
  return 1;
}

/* ---- import ---------------------------------------------------------------------------------- */

/* The array views the producer's memory, an op computes on it, and the deleter runs once, only
 * after that op: the array is freed right after the op is pushed and the deleter frees the
 * buffer, so an op running after the deleter would read poisoned (freed) memory. */
static void test_import_compute_then_free_array_first(void) {
  Producer* p = producer_iota(3, 4);
  mx_ndarray_t a = NULL, b = NULL;
  int32_t ndim = 0, dtype = -1;
  const int64_t* dims = NULL;
  mx_context_t ctx = {0, 0};
  const uint64_t in_use = cpu_bytes_in_use();
  g_deleted = 0;
  MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
  MT_CHECK(mx_ndarray_get_shape(a, &ndim, &dims) == MX_OK && ndim == 2 && dims[0] == 3 &&
           dims[1] == 4);
  MT_CHECK(mx_ndarray_get_dtype(a, &dtype) == MX_OK && dtype == MX_DTYPE_FLOAT32);
  MT_CHECK(mx_ndarray_get_context(a, &ctx) == MX_OK && ctx.device_type == MX_CPU);
  /* No copy, and no libmx memory: the producer's buffer is the array. */
  MT_CHECK(cpu_bytes_in_use() == in_use);
  {
    void* data = NULL;
    MT_CHECK(mx_ndarray_get_data(a, &data) == MX_OK && data == p->buffer);
  }
  b = mul_scalar(a, "2");
  MT_CHECK(b != NULL);
  MT_CHECK(mx_ndarray_free(a) == MX_OK); /* the op may still be pending */
  MT_CHECK(equals_iota_times(b, 12, 2.0f));
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 1);
  mx_ndarray_free(b);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 1);
}

/* The other order: a view and an output outlive the array; the deleter waits for the view. */
static void test_import_view_outlives_array(void) {
  Producer* p = producer_iota(4, 2);
  mx_ndarray_t a = NULL, rows = NULL, b = NULL;
  g_deleted = 0;
  MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
  MT_CHECK(mx_ndarray_slice(a, 1, 3, &rows) == MX_OK);
  MT_CHECK(mx_ndarray_free(a) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 0); /* the view still uses the memory */
  {
    float out[4] = {0};
    MT_CHECK(mx_ndarray_copy_to_host(rows, out, sizeof out) == MX_OK && out[0] == 2 && out[3] == 5);
  }
  b = mul_scalar(rows, "3");
  MT_CHECK(mx_ndarray_free(rows) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 1);
  {
    float out[4] = {0};
    MT_CHECK(mx_ndarray_copy_to_host(b, out, sizeof out) == MX_OK && out[0] == 6 && out[3] == 15);
  }
  mx_ndarray_free(b);
}

/* Memory is shared both ways: libmx writes into the producer's buffer, and the producer's writes
 * are what libmx reads next. */
static void test_import_shares_memory(void) {
  Producer* p = producer_iota(2, 3);
  mx_ndarray_t a = NULL;
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"10"};
  float* data = (float*)p->buffer;
  p->own_buffer = 0; /* the test reads the buffer after the deleter */
  g_deleted = 0;
  MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
  MT_CHECK(mx_op_invoke_into("_mul_scalar", 1, &a, 1, keys, vals, 1, &a) == MX_OK);
  MT_CHECK(mx_ndarray_wait_to_read(a) == MX_OK);
  MT_CHECK(data[0] == 0 && data[1] == 10 && data[5] == 50);
  /* The producer writes while nothing of libmx's is pending (wait_to_write made sure). */
  MT_CHECK(mx_ndarray_wait_to_write(a) == MX_OK);
  data[5] = -1;
  {
    float out[6] = {0};
    MT_CHECK(mx_ndarray_copy_to_host(a, out, sizeof out) == MX_OK && out[5] == -1);
  }
  mx_ndarray_free(a);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 1);
  free(data);
}

/* A deleter that is NULL (DLPack allows it) is simply not called; byte_offset is honoured. */
static void test_import_null_deleter_and_byte_offset(void) {
  float buffer[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t shape[1] = {4};
  DLManagedTensor t;
  mx_ndarray_t a = NULL, b = NULL;
  memset(&t, 0, sizeof t);
  t.dl_tensor.data = buffer;
  t.dl_tensor.byte_offset = 3 * sizeof(float);
  t.dl_tensor.device.device_type = kDLCPU;
  t.dl_tensor.ndim = 1;
  t.dl_tensor.shape = shape;
  t.dl_tensor.dtype.code = kDLFloat;
  t.dl_tensor.dtype.bits = 32;
  t.dl_tensor.dtype.lanes = 1;
  MT_CHECK(mx_ndarray_from_dlpack(&t, &a) == MX_OK);
  b = mul_scalar(a, "1");
  {
    float out[4] = {0};
    MT_CHECK(mx_ndarray_copy_to_host(b, out, sizeof out) == MX_OK && out[0] == 3 && out[3] == 6);
  }
  mx_ndarray_free(b);
  mx_ndarray_free(a);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
}

/* Every libmx dtype imports as itself; strides of extent-1 dims do not matter; a scalar (ndim 0)
 * and an empty tensor (NULL data) import too. */
static void test_import_dtypes_and_shapes(void) {
  struct {
    uint8_t code, bits;
    int32_t dtype;
  } cases[] = {{kDLFloat, 32, MX_DTYPE_FLOAT32}, {kDLFloat, 64, MX_DTYPE_FLOAT64},
               {kDLFloat, 16, MX_DTYPE_FLOAT16}, {kDLUInt, 8, MX_DTYPE_UINT8},
               {kDLInt, 32, MX_DTYPE_INT32},     {kDLInt, 8, MX_DTYPE_INT8},
               {kDLInt, 64, MX_DTYPE_INT64}};
  size_t i;
  const int64_t shape[3] = {2, 1, 3};
  g_deleted = 0;
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    Producer* p = producer_new(cases[i].code, cases[i].bits, 3, shape, 6 * 8);
    mx_ndarray_t a = NULL;
    int32_t dtype = -1;
    /* Compact, with an arbitrary stride on the extent-1 dim (as numpy's a[:, None] gives). */
    p->strides[0] = 3;
    p->strides[1] = 42;
    p->strides[2] = 1;
    p->managed.dl_tensor.strides = p->strides;
    MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
    MT_CHECK(mx_ndarray_get_dtype(a, &dtype) == MX_OK && dtype == cases[i].dtype);
    mx_ndarray_free(a);
  }
  {
    Producer* p = producer_new(kDLFloat, 32, 0, NULL, sizeof(float));
    mx_ndarray_t a = NULL;
    int32_t ndim = -1;
    const int64_t* dims = NULL;
    float v = 0;
    *(float*)p->buffer = 7.5f;
    p->managed.dl_tensor.shape = NULL; /* allowed for ndim 0 */
    MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
    MT_CHECK(mx_ndarray_get_shape(a, &ndim, &dims) == MX_OK && ndim == 0);
    MT_CHECK(mx_ndarray_copy_to_host(a, &v, sizeof v) == MX_OK && v == 7.5f);
    mx_ndarray_free(a);
  }
  {
    const int64_t empty[2] = {0, 5};
    Producer* p = producer_new(kDLFloat, 32, 2, empty, 0);
    mx_ndarray_t a = NULL;
    int32_t ndim = -1;
    const int64_t* dims = NULL;
    p->managed.dl_tensor.data = NULL;
    p->strides[0] = 7; /* any strides for no elements */
    p->strides[1] = 9;
    p->managed.dl_tensor.strides = p->strides;
    MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
    MT_CHECK(mx_ndarray_get_shape(a, &ndim, &dims) == MX_OK && ndim == 2 && dims[1] == 5);
    mx_ndarray_free(a);
  }
  {
    /* Pinned host memory (kDLCUDAHost) is a cpu_pinned array. */
    const int64_t one[1] = {4};
    Producer* p = producer_new(kDLFloat, 32, 1, one, 4 * sizeof(float));
    mx_ndarray_t a = NULL;
    mx_context_t ctx = {0, 0};
    p->managed.dl_tensor.device.device_type = kDLCUDAHost;
    MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
    MT_CHECK(mx_ndarray_get_context(a, &ctx) == MX_OK && ctx.device_type == MX_CPU_PINNED);
    mx_ndarray_free(a);
  }
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == (int)(sizeof cases / sizeof cases[0]) + 3);
}

/* Kernels need element alignment only: data 4 bytes past a 64-byte boundary gives the same
 * FullyConnected (BLAS) and Convolution (oneDNN) results as a 64-byte aligned copy. */
static void test_import_unaligned_data_computes_correctly(void) {
  const int64_t shape[4] = {2, 3, 5, 5};
  const int n = 2 * 3 * 5 * 5;
  Producer* p = producer_new(kDLFloat, 32, 4, shape, (size_t)(n + 16) * sizeof(float));
  float* data = (float*)p->buffer + 1; /* calloc is 16-byte aligned: +4 bytes is never 64 */
  mx_ndarray_t a = NULL, aligned = NULL;
  int i, j;
  for (i = 0; i < n; ++i) data[i] = (float)((i * 7) % 11) - 5.0f;
  p->managed.dl_tensor.data = data;
  MT_CHECK((uintptr_t)data % 64 != 0);
  MT_CHECK(mx_ndarray_from_dlpack(&p->managed, &a) == MX_OK);
  MT_CHECK(mx_ndarray_create(shape, 4, MX_DTYPE_FLOAT32, kCpu, &aligned) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(aligned, data, (size_t)n * sizeof(float)) == MX_OK);
  for (j = 0; j < 2; ++j) {
    const char* fc_keys[2] = {"num_hidden", "no_bias"};
    const char* fc_vals[2] = {"4", "1"};
    const char* conv_keys[3] = {"kernel", "num_filter", "no_bias"};
    const char* conv_vals[3] = {"(3,3)", "2", "1"};
    const int64_t fc_w_shape[2] = {4, 75};
    const int64_t conv_w_shape[4] = {2, 3, 3, 3};
    const int is_conv = j == 1;
    const char* op = is_conv ? "Convolution" : "FullyConnected";
    mx_ndarray_t w = NULL, in[2], *outs = NULL, got = NULL, want = NULL;
    float w_values[300], got_values[64], want_values[64];
    int32_t n_out = 0, ndim = 0;
    const int64_t* dims = NULL;
    const size_t w_count = is_conv ? 2 * 3 * 3 * 3 : 4 * 75;
    size_t count, k;
    for (k = 0; k < w_count; ++k) w_values[k] = (float)((k * 5) % 7) - 3.0f;
    MT_CHECK(mx_ndarray_create(is_conv ? conv_w_shape : fc_w_shape, is_conv ? 4 : 2,
                               MX_DTYPE_FLOAT32, kCpu, &w) == MX_OK);
    MT_CHECK(mx_ndarray_copy_from_host(w, w_values, w_count * sizeof(float)) == MX_OK);
    in[0] = a;
    in[1] = w;
    MT_CHECK(mx_op_invoke(op, 2, in, is_conv ? 3 : 2, is_conv ? conv_keys : fc_keys,
                          is_conv ? conv_vals : fc_vals, &n_out, &outs) == MX_OK);
    got = outs[0];
    in[0] = aligned;
    MT_CHECK(mx_op_invoke(op, 2, in, is_conv ? 3 : 2, is_conv ? conv_keys : fc_keys,
                          is_conv ? conv_vals : fc_vals, &n_out, &outs) == MX_OK);
    want = outs[0];
    MT_CHECK(mx_ndarray_get_shape(got, &ndim, &dims) == MX_OK);
    for (count = 1, k = 0; k < (size_t)ndim; ++k) count *= (size_t)dims[k];
    MT_CHECK(count <= 64);
    MT_CHECK(mx_ndarray_copy_to_host(got, got_values, count * sizeof(float)) == MX_OK);
    MT_CHECK(mx_ndarray_copy_to_host(want, want_values, count * sizeof(float)) == MX_OK);
    MT_CHECK(memcmp(got_values, want_values, count * sizeof(float)) == 0);
    mx_ndarray_free(got);
    mx_ndarray_free(want);
    mx_ndarray_free(w);
  }
  mx_ndarray_free(aligned);
  mx_ndarray_free(a);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
}

/* ---- rejected tensors: an error naming the problem, the deleter NOT called ---------------------
 */

#define ANY_ERROR 0

static void expect_rejected(Producer* p, mx_status_t code, const char* needle, int line) {
  mx_ndarray_t a = (mx_ndarray_t)(uintptr_t)0x1234; /* must stay untouched */
  const mx_status_t got = mx_ndarray_from_dlpack(&p->managed, &a);
  const char* msg = mx_get_last_error();
  mx_engine_wait_all();
  if (got != MX_OK && (code == ANY_ERROR || got == code) && strstr(msg, needle) != NULL &&
      g_deleted == 0 && a == (mx_ndarray_t)(uintptr_t)0x1234) {
    ++mt_passed;
  } else {
    ++mt_failed;
    fprintf(stderr,
            "%s:%d: import returned %d (expected %d), deleter calls %d, message \"%s\" "
            "lacks \"%s\"\n",
            __FILE__, line, (int)got, (int)code, g_deleted, msg, needle);
  }
  /* Still the caller's: release it as the producer would. */
  p->managed.deleter(&p->managed);
  g_deleted = 0;
}

#define EXPECT_REJECTED(p, code, needle) expect_rejected((p), (code), (needle), __LINE__)

static void test_import_rejects(void) {
  const int64_t shape[2] = {2, 3};
  Producer* p;
  mx_ndarray_t a = NULL;
  int32_t gpus = 0;
  g_deleted = 0;

  MT_CHECK(mx_ndarray_from_dlpack(NULL, &a) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "'tensor'") != NULL);
  p = producer_iota(2, 3);
  MT_CHECK(mx_ndarray_from_dlpack(&p->managed, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "out_array") != NULL);
  MT_CHECK(g_deleted == 0);
  p->managed.deleter(&p->managed);
  g_deleted = 0;

  /* Element types libmx has no dtype for. */
  p = producer_new(kDLBool, 8, 2, shape, 6);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "code 6 (bool), 8 bits, 1 lane");
  p = producer_new(kDLBfloat, 16, 2, shape, 12);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "code 4 (bfloat), 16 bits");
  p = producer_new(kDLInt, 16, 2, shape, 12);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "code 0 (int), 16 bits");
  p = producer_new(kDLUInt, 32, 2, shape, 24);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "code 1 (uint), 32 bits");
  p = producer_new(kDLComplex, 64, 2, shape, 48);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "code 5 (complex)");
  p = producer_new(kDLFloat, 8, 2, shape, 6);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "code 2 (float), 8 bits");
  p = producer_new(kDLFloat, 32, 2, shape, 96);
  p->managed.dl_tensor.dtype.lanes = 4;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "4 lanes");
  p = producer_new(kDLOpaqueHandle, 64, 2, shape, 48);
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "opaque handle");

  /* Strided (non-compact) layouts: a transpose and every other column. */
  p = producer_iota(2, 3);
  p->strides[0] = 1;
  p->strides[1] = 2;
  p->managed.dl_tensor.strides = p->strides;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "strides (1,2) are not row-major compact (3,1)");
  p = producer_iota(2, 3);
  p->strides[0] = 6;
  p->strides[1] = 2;
  p->managed.dl_tensor.strides = p->strides;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "contiguous");

  /* Devices. */
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_type = kDLOpenCL;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "device type 4 (opencl)");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_type = kDLROCM;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "device type 10 (rocm)");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_type = kDLCUDAManaged;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "cuda_managed");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_type = kDLMAIA; /* new in DLPack 1.0 */
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "device type 17 (maia)");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_type = (DLDeviceType)99;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "device type 99 (unknown)");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_id = 1;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "device_id 1");
  MT_CHECK(mx_gpu_count(&gpus) == MX_OK);
  p = producer_iota(2, 3);
  p->managed.dl_tensor.device.device_type = kDLCUDA;
  p->managed.dl_tensor.device.device_id = 9999;
  /* Without CUDA: "built without CUDA" (unsupported); with it: "does not exist" (not found). A
   * build with CUDA on a machine without a GPU cannot be told from one without CUDA here. */
  EXPECT_REJECTED(p, gpus > 0 ? MX_ERR_NOT_FOUND : ANY_ERROR, "gpu(9999)");

  /* Shapes. */
  p = producer_iota(2, 3);
  p->managed.dl_tensor.ndim = -1;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "ndim is -1");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.ndim = 13;
  EXPECT_REJECTED(p, MX_ERR_UNSUPPORTED, "ndim is 13, libmx arrays have at most 12 dims");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.shape = NULL;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "shape is NULL with ndim 2");
  p = producer_iota(2, 3);
  p->shape[1] = -3;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "dim 1 is -3");
  p = producer_iota(2, 3);
  p->shape[0] = (int64_t)1 << 40;
  p->shape[1] = (int64_t)1 << 40;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "(1099511627776,1099511627776)");

  /* Data pointer and byte_offset. */
  p = producer_iota(2, 3);
  p->managed.dl_tensor.data = NULL;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "data is NULL for 24 bytes");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.byte_offset = 2;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "is not aligned to its float32 elements (4 bytes)");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.data = (char*)p->buffer + 1;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "not aligned");
  p = producer_iota(2, 3);
  p->managed.dl_tensor.byte_offset = UINT64_MAX - 8;
  EXPECT_REJECTED(p, MX_ERR_INVALID_ARGUMENT, "wraps around the address space");

  /* The library keeps working, and nothing was left allocated or released twice. */
  MT_CHECK(mx_engine_wait_all() == MX_OK && g_deleted == 0);
}

/* ---- export ---------------------------------------------------------------------------------- */

static mx_ndarray_t make_iota(int64_t rows, int64_t cols) {
  const int64_t shape[2] = {rows, cols};
  float values[64];
  mx_ndarray_t a = NULL;
  int64_t i;
  for (i = 0; i < rows * cols && i < 64; ++i) values[i] = (float)i;
  if (mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, kCpu, &a) != MX_OK ||
      mx_ndarray_copy_from_host(a, values, (size_t)(rows * cols) * sizeof(float)) != MX_OK) {
    mx_ndarray_free(a);
    return NULL;
  }
  return a;
}

/* The fields, the values (pending writes are done first), and the memory's life: it outlives the
 * handle and goes back to the pool when the deleter runs. */
static void test_export_fields_values_and_lifetime(void) {
  uint64_t before, while_exported;
  mx_ndarray_t a, b;
  DLManagedTensor* t = NULL;
  const float* values;
  int i;
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  before = cpu_bytes_in_use();
  a = make_iota(3, 4);
  b = mul_scalar(a, "2"); /* pending, most likely, when the export starts */
  mx_ndarray_free(a);
  MT_CHECK(mx_ndarray_to_dlpack(b, &t) == MX_OK && t != NULL);
  MT_CHECK(t->dl_tensor.device.device_type == kDLCPU && t->dl_tensor.device.device_id == 0);
  MT_CHECK(t->dl_tensor.ndim == 2 && t->dl_tensor.shape[0] == 3 && t->dl_tensor.shape[1] == 4);
  MT_CHECK(t->dl_tensor.strides != NULL && t->dl_tensor.strides[0] == 4 &&
           t->dl_tensor.strides[1] == 1);
  MT_CHECK(t->dl_tensor.dtype.code == kDLFloat && t->dl_tensor.dtype.bits == 32 &&
           t->dl_tensor.dtype.lanes == 1);
  MT_CHECK(t->dl_tensor.byte_offset == 0 && t->deleter != NULL);
  {
    void* data = NULL;
    MT_CHECK(mx_ndarray_get_data(b, &data) == MX_OK && data == t->dl_tensor.data);
  }
  /* The handle goes first; the tensor keeps the memory. */
  MT_CHECK(mx_ndarray_free(b) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  while_exported = cpu_bytes_in_use();
  MT_CHECK(while_exported > before);
  values = (const float*)t->dl_tensor.data;
  for (i = 0; i < 12; ++i) MT_CHECK(values[i] == 2.0f * (float)i);
  t->deleter(t);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() == before);
}

/* The export waits for the writes pushed before it: a chain of in-place writes, several
 * milliseconds of work queued behind each other, is pushed and the array exported at once; the
 * tensor must hold the chain's result. A correct export passes whatever the timing; one that
 * skipped the wait would hand out memory the queued writes have not reached yet (checked by
 * removing the wait: every run failed). */
static void test_export_waits_for_pending_writes(void) {
  enum { kN = 1 << 20, kWrites = 16 };
  const int64_t shape[1] = {kN};
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"2"};
  float* ones = (float*)malloc(kN * sizeof(float));
  mx_ndarray_t a = NULL;
  DLManagedTensor* t = NULL;
  const float want = (float)(1 << kWrites);
  int i, wrong = 0;
  for (i = 0; i < kN; ++i) ones[i] = 1.0f;
  MT_CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, kCpu, &a) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(a, ones, kN * sizeof(float)) == MX_OK);
  for (i = 0; i < kWrites; ++i) {
    MT_CHECK(mx_op_invoke_into("_mul_scalar", 1, &a, 1, keys, vals, 1, &a) == MX_OK);
  }
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  for (i = 0; i < kN; ++i) wrong += ((const float*)t->dl_tensor.data)[i] != want;
  MT_CHECK(wrong == 0);
  t->deleter(t);
  mx_ndarray_free(a);
  free(ones);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
}

/* The deleter first, the handle later: the memory stays until both are gone. */
static void test_export_deleter_before_handle(void) {
  uint64_t before;
  mx_ndarray_t a;
  DLManagedTensor* t = NULL;
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  before = cpu_bytes_in_use();
  a = make_iota(2, 2);
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  t->deleter(t);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() > before);
  MT_CHECK(equals_iota_times(a, 4, 1.0f));
  mx_ndarray_free(a);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() == before);
}

/* A slice exports its own rows; every dtype maps to its DLPack type; scalars and empty arrays. */
static void test_export_views_dtypes_and_shapes(void) {
  mx_ndarray_t a = make_iota(4, 3), rows = NULL;
  DLManagedTensor *t = NULL, *whole = NULL;
  struct {
    int32_t dtype;
    uint8_t code, bits;
  } cases[] = {{MX_DTYPE_FLOAT32, kDLFloat, 32}, {MX_DTYPE_FLOAT64, kDLFloat, 64},
               {MX_DTYPE_FLOAT16, kDLFloat, 16}, {MX_DTYPE_UINT8, kDLUInt, 8},
               {MX_DTYPE_INT32, kDLInt, 32},     {MX_DTYPE_INT8, kDLInt, 8},
               {MX_DTYPE_INT64, kDLInt, 64}};
  size_t i;
  MT_CHECK(mx_ndarray_slice(a, 1, 3, &rows) == MX_OK);
  MT_CHECK(mx_ndarray_to_dlpack(rows, &t) == MX_OK && mx_ndarray_to_dlpack(a, &whole) == MX_OK);
  MT_CHECK(t->dl_tensor.shape[0] == 2 && t->dl_tensor.shape[1] == 3);
  MT_CHECK((const float*)t->dl_tensor.data == (const float*)whole->dl_tensor.data + 3);
  MT_CHECK(((const float*)t->dl_tensor.data)[0] == 3.0f);
  t->deleter(t);
  whole->deleter(whole);
  mx_ndarray_free(rows);
  mx_ndarray_free(a);
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const int64_t shape[1] = {5};
    mx_ndarray_t x = NULL;
    DLManagedTensor* e = NULL;
    MT_CHECK(mx_ndarray_create(shape, 1, cases[i].dtype, kCpu, &x) == MX_OK);
    MT_CHECK(mx_ndarray_to_dlpack(x, &e) == MX_OK); /* never written: allocated now */
    MT_CHECK(e->dl_tensor.data != NULL && e->dl_tensor.dtype.code == cases[i].code &&
             e->dl_tensor.dtype.bits == cases[i].bits && e->dl_tensor.dtype.lanes == 1);
    e->deleter(e);
    mx_ndarray_free(x);
  }
  {
    mx_ndarray_t s = NULL, z = NULL;
    const int64_t zero_shape[2] = {0, 4};
    DLManagedTensor *e = NULL, *ez = NULL;
    float v = 2.5f;
    MT_CHECK(mx_ndarray_create(NULL, 0, MX_DTYPE_FLOAT32, kCpu, &s) == MX_OK);
    MT_CHECK(mx_ndarray_copy_from_host(s, &v, sizeof v) == MX_OK);
    MT_CHECK(mx_ndarray_to_dlpack(s, &e) == MX_OK);
    MT_CHECK(e->dl_tensor.ndim == 0 && *(const float*)e->dl_tensor.data == 2.5f);
    MT_CHECK(mx_ndarray_create(zero_shape, 2, MX_DTYPE_FLOAT32, kCpu, &z) == MX_OK);
    MT_CHECK(mx_ndarray_to_dlpack(z, &ez) == MX_OK);
    MT_CHECK(ez->dl_tensor.ndim == 2 && ez->dl_tensor.shape[0] == 0 && ez->dl_tensor.shape[1] == 4);
    e->deleter(e);
    ez->deleter(ez);
    mx_ndarray_free(s);
    mx_ndarray_free(z);
  }
  MT_CHECK(mx_engine_wait_all() == MX_OK);
}

/* An export of an array whose computation failed reports that failure, exports nothing. */
static void test_export_reports_failed_work(void) {
  const int64_t shape[1] = {4};
  const float v[4] = {1, 2, 3, 4};
  mx_ndarray_t from = NULL, to = NULL;
  DLManagedTensor* t = (DLManagedTensor*)(uintptr_t)0x1234;
  MT_CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, kCpu, &from) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(from, v, sizeof v) == MX_OK);
  MT_CHECK(mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT16, kCpu, &to) == MX_OK);
  /* float32 -> float16 on the host fails when it runs, on the engine. */
  MT_CHECK(mx_ndarray_copy_to(from, to) == MX_OK);
  MT_CHECK(mx_ndarray_to_dlpack(to, &t) != MX_OK);
  MT_CHECK(strstr(mx_get_last_error(), "float16") != NULL);
  MT_CHECK(t == (DLManagedTensor*)(uintptr_t)0x1234);
  MT_CHECK(mx_ndarray_to_dlpack(NULL, &t) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "'array'") != NULL);
  MT_CHECK(mx_ndarray_to_dlpack(from, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "out_tensor") != NULL);
  mx_ndarray_free(to);
  mx_ndarray_free(from);
  mx_engine_wait_all();
}

/* ---- round trips ----------------------------------------------------------------------------- */

/* libmx's own export imported back shares the original's memory and engine variable: a write
 * through one is ordered before a read through the other, with no wait in between. The export
 * is released by the import, so the memory goes when both arrays are freed. */
static void test_round_trip_own_export(void) {
  uint64_t before;
  mx_ndarray_t a, back = NULL;
  DLManagedTensor* t = NULL;
  const char* keys[1] = {"scalar"};
  const char* vals[1] = {"5"};
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  before = cpu_bytes_in_use();
  a = make_iota(2, 3);
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  MT_CHECK(mx_ndarray_from_dlpack(t, &back) == MX_OK);
  MT_CHECK(mx_op_invoke_into("_mul_scalar", 1, &back, 1, keys, vals, 1, &back) == MX_OK);
  MT_CHECK(equals_iota_times(a, 6, 5.0f));
  mx_ndarray_free(a);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() > before);
  MT_CHECK(equals_iota_times(back, 6, 5.0f));
  mx_ndarray_free(back);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() == before);
}

/* An export whose fields the consumer changed is no longer libmx's own array: it goes through the
 * checked import of foreign memory (rejected here for its lanes; accepted as a smaller view). */
static void test_round_trip_changed_export(void) {
  uint64_t before;
  mx_ndarray_t a, b = NULL, c = NULL;
  DLManagedTensor* t = NULL;
  int32_t ndim = 0;
  const int64_t* dims = NULL;
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  before = cpu_bytes_in_use();
  a = make_iota(2, 3);
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  t->dl_tensor.dtype.lanes = 2;
  MT_CHECK(mx_ndarray_from_dlpack(t, &b) == MX_ERR_UNSUPPORTED && b == NULL);
  MT_CHECK(strstr(mx_get_last_error(), "2 lanes") != NULL);
  t->dl_tensor.dtype.lanes = 1;
  t->dl_tensor.shape[0] = 1; /* the first row only */
  MT_CHECK(mx_ndarray_from_dlpack(t, &c) == MX_OK);
  MT_CHECK(mx_ndarray_get_shape(c, &ndim, &dims) == MX_OK && ndim == 2 && dims[0] == 1);
  MT_CHECK(equals_iota_times(c, 3, 1.0f));
  mx_ndarray_free(a);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() > before); /* c's import holds the export */
  mx_ndarray_free(c);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() == before);
}

/* A foreign producer wrapping libmx's export (what numpy or PyTorch do when they re-export an
 * array they got from libmx): imported as foreign memory; its deleter runs once, and libmx's
 * memory returns to the pool only after that. */
typedef struct Wrapper {
  DLManagedTensor managed;
  DLManagedTensor* inner;
} Wrapper;

static void wrapper_deleter(DLManagedTensor* self) {
  Wrapper* w = (Wrapper*)self->manager_ctx;
  ++g_deleted;
  w->inner->deleter(w->inner);
  free(w);
}

static Wrapper* wrap(DLManagedTensor* inner) {
  Wrapper* w = (Wrapper*)calloc(1, sizeof(Wrapper));
  w->managed.dl_tensor = inner->dl_tensor;
  w->managed.manager_ctx = w;
  w->managed.deleter = wrapper_deleter;
  w->inner = inner;
  return w;
}

static void test_round_trip_through_a_foreign_wrapper(void) {
  uint64_t before;
  mx_ndarray_t a, b = NULL, c;
  DLManagedTensor* t = NULL;
  Wrapper* w;
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  before = cpu_bytes_in_use();
  g_deleted = 0;
  a = make_iota(2, 4);
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  mx_ndarray_free(a);
  w = wrap(t);
  MT_CHECK(mx_ndarray_from_dlpack(&w->managed, &b) == MX_OK);
  c = mul_scalar(b, "3");
  mx_ndarray_free(b);
  MT_CHECK(equals_iota_times(c, 8, 3.0f));
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 1);
  mx_ndarray_free(c);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(cpu_bytes_in_use() == before);
}

/* On a GPU (skipped without one): the export says kDLCUDA and the device, and a foreign wrapper
 * of it imports as a gpu array with the same values. */
static void test_gpu_export_and_import(void) {
  int32_t gpus = 0;
  const mx_context_t gpu = {MX_GPU, 0};
  const int64_t shape[2] = {2, 3};
  const float in[6] = {1, 2, 3, 4, 5, 6};
  float out[6] = {0};
  mx_ndarray_t a = NULL, b = NULL, c = NULL;
  DLManagedTensor* t = NULL;
  mx_context_t ctx = {0, 0};
  Wrapper* w;
  MT_CHECK(mx_gpu_count(&gpus) == MX_OK);
  if (gpus == 0) {
    printf("skipped: GPU export and import (no GPU)\n");
    return;
  }
  g_deleted = 0;
  MT_CHECK(mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, gpu, &a) == MX_OK);
  MT_CHECK(mx_ndarray_copy_from_host(a, in, sizeof in) == MX_OK);
  MT_CHECK(mx_ndarray_to_dlpack(a, &t) == MX_OK);
  MT_CHECK(t->dl_tensor.device.device_type == kDLCUDA && t->dl_tensor.device.device_id == 0);
  w = wrap(t);
  MT_CHECK(mx_ndarray_from_dlpack(&w->managed, &b) == MX_OK);
  MT_CHECK(mx_ndarray_get_context(b, &ctx) == MX_OK && ctx.device_type == MX_GPU);
  MT_CHECK(mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, kCpu, &c) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to(b, c) == MX_OK);
  mx_ndarray_free(b);
  MT_CHECK(mx_ndarray_copy_to_host(c, out, sizeof out) == MX_OK);
  MT_CHECK(memcmp(in, out, sizeof out) == 0);
  mx_ndarray_free(a);
  mx_ndarray_free(c);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(g_deleted == 1);
}

int main(void) {
  test_import_compute_then_free_array_first();
  test_import_view_outlives_array();
  test_import_shares_memory();
  test_import_null_deleter_and_byte_offset();
  test_import_dtypes_and_shapes();
  test_import_unaligned_data_computes_correctly();
  test_import_rejects();
  test_export_fields_values_and_lifetime();
  test_export_waits_for_pending_writes();
  test_export_deleter_before_handle();
  test_export_views_dtypes_and_shapes();
  test_export_reports_failed_work();
  test_round_trip_own_export();
  test_round_trip_changed_export();
  test_round_trip_through_a_foreign_wrapper();
  test_gpu_export_and_import();
  return mt_finish();
}
