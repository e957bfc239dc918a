/*
 * libmx — an embeddable deep learning library. This header is its only ABI.
 *
 * Every operation is lazy: calls that compute push work to the library's dependency engine and
 * return at once; only calls that read values (copying to host memory, waiting) block. Errors of
 * asynchronous work surface at the next blocking call on the data it touched.
 *
 * Rules you can rely on (docs/design/c_api_rules.md has the full list):
 *   - every fallible call returns mx_status_t: MX_OK (0) or an error code; the message for the
 *     calling thread is mx_get_last_error(), valid until that thread's next failing call;
 *   - outputs are the last parameters (named out_*) and are written only on success;
 *   - every handle you receive you release with its mx_<object>_free, which accepts NULL;
 *   - dimensions are int64_t; no call aborts or throws: a bad input is an error status.
 *
 * Example: check the version, then ask for something invalid and read the error.
 *
 *   #include <mx/c_api.h>
 *   #include <stdio.h>
 *
 *   int main(void) {
 *     size_t size = 0;
 *     const char* name = NULL;
 *     printf("libmx %s\n", mx_get_version_string());
 *     if (mx_dtype_size(MX_DTYPE_FLOAT32, &size) == MX_OK &&
 *         mx_dtype_name(MX_DTYPE_FLOAT32, &name) == MX_OK)
 *       printf("%s is %zu bytes\n", name, size);
 *     if (mx_dtype_size(42, &size) != MX_OK)
 *       printf("error: %s\n", mx_get_last_error());  // names the bad dtype and the valid ones
 *     return 0;
 *   }
 *
 * Compile with `cc app.c $(pkg-config --cflags --libs mx)`, or in CMake:
 * `find_package(mx)` and `target_link_libraries(app PRIVATE mx::mx)`.
 */
#ifndef MX_C_API_H_
#define MX_C_API_H_

#include "mx/c_types.h"
#include "mx/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors and version ---------------------------------------------------------------------*/

/* The message of the calling thread's most recent failed call ("" if none). Never NULL. The
 * string stays valid until the calling thread's next failing call. A successful call does not
 * clear it. */
MX_API const char* mx_get_last_error(void);

/* The run-time version as MX_VERSION encodes it (major * 10000 + minor * 100 + patch). Compare it
 * with the compile-time MX_VERSION to detect a header/library mismatch. */
MX_API int32_t mx_get_version(void);

/* The run-time version as "major.minor.patch"; a static string. */
MX_API const char* mx_get_version_string(void);

/* ---- Element types --------------------------------------------------------------------------*/

/* Bytes per element of `dtype` (an MX_DTYPE_* value). */
MX_API mx_status_t mx_dtype_size(int32_t dtype, size_t* out_size);

/* The name of `dtype` ("float32", ...); a static string. */
MX_API mx_status_t mx_dtype_name(int32_t dtype, const char** out_name);

/* The MX_DTYPE_* value named `name` ("float32", "float64", "float16", "uint8", "int32", "int8",
 * "int64"). */
MX_API mx_status_t mx_dtype_from_name(const char* name, int32_t* out_dtype);

/* ---- Devices --------------------------------------------------------------------------------*/

/* Number of usable GPUs: 0 (and MX_OK) in a build without CUDA or on a machine without a GPU
 * driver. */
MX_API mx_status_t mx_gpu_count(int32_t* out_count);

/* Writes "cpu(0)", "gpu(1)", ... for `ctx` into `buf` (at most `buf_size` bytes including the
 * terminating NUL). Fails on an unknown device type or a buffer too small. */
MX_API mx_status_t mx_context_to_string(mx_context_t ctx, char* buf, size_t buf_size);

/* ---- Logging --------------------------------------------------------------------------------*/

/* Sets how much the library writes to stderr: MX_LOG_OFF (the default, unless the environment
 * variable MX_LOG_LEVEL names a level: "off", "error", "warning", "info", "debug") up to
 * MX_LOG_DEBUG. */
MX_API mx_status_t mx_set_log_level(int32_t level);

/* ---- Engine ---------------------------------------------------------------------------------
 * Every lazy operation runs on the dependency engine. It starts by itself on first use with the
 * environment's configuration (MX_ENGINE_TYPE = naive | threaded, MX_CPU_WORKER_NTHREADS,
 * MX_CPU_PRIORITY_NTHREADS, MX_GPU_WORKER_NTHREADS, MX_GPU_COPY_NTHREADS); mx_init chooses it
 * explicitly. Engine variables let a binding schedule its own host work in order with the
 * library's: a function runs once all earlier functions writing what it reads, and all earlier
 * functions touching what it writes, are done.
 *
 *   static int32_t add_one(void* data, char* err, size_t err_size) {
 *     ++*(int*)data;
 *     return 0;  // nonzero (with a message in err) marks the op failed
 *   }
 *   ...
 *   mx_engine_var_t v;
 *   int x = 0;
 *   mx_engine_var_new(&v);
 *   mx_engine_push(add_one, &x, NULL, NULL, 0, &v, 1, 0, "add_one");
 *   if (mx_engine_wait_for_var(v) != MX_OK) printf("%s\n", mx_get_last_error());
 *   mx_engine_var_free(v);                                                                      */

enum { MX_ENGINE_DEFAULT = 0, MX_ENGINE_NAIVE = 1, MX_ENGINE_THREADED = 2 };

/* Library start-up options. Fill with mx_init_options_default, then change fields. A zero field
 * means "the environment's value, else the built-in default"; worker counts are at most 1024. */
typedef struct mx_init_options {
  size_t struct_size;           /* sizeof(mx_init_options_t), set by mx_init_options_default   */
  int32_t engine_type;          /* MX_ENGINE_DEFAULT (env, else threaded), _NAIVE, _THREADED    */
  int32_t cpu_workers;          /* CPU FIFO pool threads (default 1)                            */
  int32_t cpu_priority_workers; /* CPU priority-lane threads (default 1)                        */
  int32_t gpu_compute_workers;  /* compute threads (each with a CUDA stream) per GPU (default 2) */
  int32_t gpu_copy_workers;     /* copy threads (each with a CUDA stream) per GPU (default 1)    */
} mx_init_options_t;

/* Sets `opts` to the defaults (all zero) with struct_size filled in. */
MX_API mx_status_t mx_init_options_default(mx_init_options_t* opts);

/* Starts the library (NULL: defaults), or adds a reference if it is already running with the
 * same resolved options; running with different ones is an MX_ERR_INVALID_ARGUMENT that shows
 * both. Optional: the engine otherwise starts on first use. Each successful call is balanced by
 * one mx_shutdown. */
MX_API mx_status_t mx_init(const mx_init_options_t* opts);

/* Drops a reference taken by mx_init; the last one (or a call when mx_init was never called but
 * the engine started by itself) blocks until all pending work is done, then stops the engine's
 * threads. Errors of that work are dropped. Every engine variable must have been freed; handles
 * from before do not carry over to an engine started afterwards. Never calling it is fine: at
 * exit the engine is abandoned, not torn down. */
MX_API mx_status_t mx_shutdown(void);

/* Blocks until every function pushed so far has completed. If any failed and its error was not
 * yet reported, returns its status, and mx_get_last_error() names the failed op and its message;
 * all pending errors count as reported afterwards. Must not be called from inside a pushed
 * function. */
MX_API mx_status_t mx_engine_wait_all(void);

/* The running engine's type: "naive" or "threaded" (a static string). Starts the engine if
 * needed. */
MX_API mx_status_t mx_engine_get_type(const char** out_name);

/* Worker threads for `device_type` (MX_CPU: FIFO plus priority workers; MX_GPU: compute plus copy
 * workers of one device, 0 without a GPU); 0 for the naive engine. */
MX_API mx_status_t mx_engine_get_worker_count(int32_t device_type, int32_t* out_count);

/* A new engine variable; release it with mx_engine_var_free. */
MX_API mx_status_t mx_engine_var_new(mx_engine_var_t* out_var);

/* Releases `var` (NULL is fine) once every function pushed on it so far has run; returns at once.
 * Push nothing on it afterwards. */
MX_API mx_status_t mx_engine_var_free(mx_engine_var_t var);

/* Blocks until every function pushed so far that writes `var` has completed. If one of them (or
 * one they depended on) failed, returns its status once, with the op's name and message in
 * mx_get_last_error(); the next wait on `var` succeeds and new writes run normally. */
MX_API mx_status_t mx_engine_wait_for_var(mx_engine_var_t var);

/* A host function for mx_engine_push. Return 0 on success; on failure return nonzero and
 * optionally write a NUL-terminated message into err_buf (err_buf_size bytes, at least 256). */
typedef int32_t (*mx_engine_fn)(void* user_data, char* err_buf, size_t err_buf_size);

/* Pushes `fn(user_data, ...)` to run on a CPU worker once its dependencies allow: it reads the
 * `n_read` variables in `read` and writes the `n_write` in `write` (arrays are copied; a variable
 * in both counts as a write). Returns at once. `fn` is skipped if a variable it touches carries
 * an unreported error. Ownership of `user_data` passes to the library: `free_user_data` (may be
 * NULL) is called with it exactly once, after fn ran or was skipped (mx_engine_wait_all returns
 * only after that), or before this call returns if the push fails. `priority` is a hint for
 * ordering ready ops; `name` (may be NULL) is copied and names the op in error messages. `fn` runs
 * on a library thread and must not wait on the engine. */
MX_API mx_status_t mx_engine_push(mx_engine_fn fn, void* user_data,
                                  void (*free_user_data)(void* user_data),
                                  const mx_engine_var_t* read, int32_t n_read,
                                  const mx_engine_var_t* write, int32_t n_write, int32_t priority,
                                  const char* name);

/* ---- Profiler -------------------------------------------------------------------------------
 * Records every op the engine runs (NDArray operations, executor forward/backward, copies,
 * optimizer updates, mx_engine_push functions): its name, device, the worker thread that ran it,
 * its queue wait (pushed to started) and its run time (started to completed; an asynchronous op
 * completes when its work is done). Off by default, and then free: the engine pays one flag test
 * per op. Dumps are a Chrome trace (JSON; open it in https://ui.perfetto.dev or chrome://tracing:
 * one process per device, one thread per worker) or a text table of ops by total run time.
 *
 *   mx_profiler_set_state(MX_PROFILER_RUN);
 *   ... train a few batches ...
 *   mx_engine_wait_all();                      (ops still running are recorded when they end)
 *   mx_profiler_set_state(MX_PROFILER_STOP);
 *   mx_profiler_dump("profile.json", NULL);    (the format follows the extension: .json, .txt)
 *   mx_profiler_dump("profile.txt", NULL);
 *
 * Both calls may come from any thread at any time, also while ops run. At most
 * MX_PROFILER_MAX_EVENTS ops (an environment variable read when recording starts; default
 * 1048576, about 40 MB) are kept until a dump with `reset` discards them; ops beyond are counted
 * as dropped, and every dump states that count. (Each recording thread takes room in blocks of
 * 1024 ops, so with several workers a few ops may drop just before the limit.)                */

enum { MX_PROFILER_STOP = 0, MX_PROFILER_RUN = 1 };

/* Starts (MX_PROFILER_RUN) or stops (MX_PROFILER_STOP) recording. An op is recorded if it was
 * pushed while recording; stopping keeps what was recorded. Fails on another value, or on a
 * malformed MX_PROFILER_MAX_EVENTS when starting. */
MX_API mx_status_t mx_profiler_set_state(int32_t state);

enum {
  MX_PROFILER_FORMAT_AUTO = 0,         /* by the path's extension: .json trace, .txt table */
  MX_PROFILER_FORMAT_CHROME_TRACE = 1, /* Chrome trace event JSON ("traceEvents", "X" events) */
  MX_PROFILER_FORMAT_TABLE = 2         /* text: name, count, total, mean, min, max, share     */
};

/* Options of mx_profiler_dump. Fill with mx_profiler_dump_options_default, then change fields. */
typedef struct mx_profiler_dump_options {
  size_t struct_size; /* sizeof(mx_profiler_dump_options_t), set by ..._default               */
  int32_t format;     /* MX_PROFILER_FORMAT_* (default AUTO)                                  */
  int32_t reset;      /* nonzero: discard what was written once the file is (default 0: keep) */
} mx_profiler_dump_options_t;

/* Sets `opts` to the defaults with struct_size filled in. */
MX_API mx_status_t mx_profiler_dump_options_default(mx_profiler_dump_options_t* opts);

/* Writes every op recorded so far (since the last reset) to `path` (`opts` NULL: defaults),
 * replacing the file: written to `path`.tmp and renamed into place. Works while recording. NULL
 * or empty `path`, an unknown extension with MX_PROFILER_FORMAT_AUTO, an unknown format or a
 * too-small struct_size is MX_ERR_INVALID_ARGUMENT; a path that cannot be written is MX_ERR_IO
 * naming it; nothing recorded (recording never started, or everything was reset) is
 * MX_ERR_FAILED saying so, and no file is written. A failed dump discards nothing. */
MX_API mx_status_t mx_profiler_dump(const char* path, const mx_profiler_dump_options_t* opts);

/* ---- Memory ---------------------------------------------------------------------------------
 * Each device has a pool: freed arrays' memory is kept for reuse (allocating fresh pages is slow),
 * so "in use" and "pooled" together are what the process holds.                               */

typedef struct mx_storage_stats {
  size_t struct_size;    /* set by the caller to sizeof(mx_storage_stats_t)                   */
  uint64_t bytes_in_use; /* allocated to arrays and scratch space now                         */
  uint64_t peak_in_use;  /* the most bytes_in_use seen (since start or the last reset)        */
  uint64_t bytes_pooled; /* freed and kept for reuse                                          */
  uint64_t num_allocs;   /* allocations served                                                */
  uint64_t num_system_allocs; /* allocations that had to ask the system (the slow ones)       */
} mx_storage_stats_t;

/* Memory statistics of `ctx`'s device. Set out_stats->struct_size first. */
MX_API mx_status_t mx_storage_get_stats(mx_context_t ctx, mx_storage_stats_t* out_stats);

/* Returns `ctx`'s pooled (free) memory to the system. */
MX_API mx_status_t mx_storage_release_pool(mx_context_t ctx);

/* Sets the peak statistic of `ctx` to what is in use now. */
MX_API mx_status_t mx_storage_reset_peak(mx_context_t ctx);

/* ---- NDArray --------------------------------------------------------------------------------
 * A lazy n-dimensional array on a device. Operations on arrays return at once; reading values
 * (mx_ndarray_copy_to_host, mx_ndarray_wait_to_read, mx_ndarray_get_data) blocks until the work
 * that writes them has run, and reports an error of that work.
 *
 *   int64_t shape[2] = {2, 3};
 *   float in[6] = {1, 2, 3, 4, 5, 6}, out[6];
 *   mx_context_t cpu = {MX_CPU, 0};
 *   mx_ndarray_t a, b, *outs;
 *   int32_t n_out = 0;
 *   mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, cpu, &a);
 *   mx_ndarray_copy_from_host(a, in, sizeof in);
 *   const char* keys[] = {"scalar"}, *vals[] = {"10"};
 *   mx_op_invoke("_mul_scalar", 1, &a, 1, keys, vals, &n_out, &outs);  // returns at once
 *   b = outs[0];
 *   mx_ndarray_copy_to_host(b, out, sizeof out);                          // blocks: 10, 20, ...
 *   mx_ndarray_free(b);
 *   mx_ndarray_free(a);                                                                          */

/* A new array of `ndim` dims (`shape`, each >= 0), element type `dtype` (MX_DTYPE_*), on `ctx`.
 * Memory is allocated at the first write. */
MX_API mx_status_t mx_ndarray_create(const int64_t* shape, int32_t ndim, int32_t dtype,
                                     mx_context_t ctx, mx_ndarray_t* out_array);

/* Releases the handle (NULL is fine). The memory is reused once pending work on it is done, and
 * once no view of it is alive. */
MX_API mx_status_t mx_ndarray_free(mx_ndarray_t array);

/* The shape: *out_ndim dims at *out_dims, valid until `array` is freed. */
MX_API mx_status_t mx_ndarray_get_shape(mx_ndarray_t array, int32_t* out_ndim,
                                        const int64_t** out_dims);

/* The element type (MX_DTYPE_*). */
MX_API mx_status_t mx_ndarray_get_dtype(mx_ndarray_t array, int32_t* out_dtype);

/* The device. */
MX_API mx_status_t mx_ndarray_get_context(mx_ndarray_t array, mx_context_t* out_ctx);

/* Copies `size` bytes of host memory (exactly the array's byte size) into the array. Returns at
 * once: the data is staged, so `data` may be reused right away. */
MX_API mx_status_t mx_ndarray_copy_from_host(mx_ndarray_t array, const void* data, size_t size);

/* Copies the array into `size` bytes of host memory (exactly its byte size). Blocks. */
MX_API mx_status_t mx_ndarray_copy_to_host(mx_ndarray_t array, void* data, size_t size);

/* Pushes a copy of `from` into `to`: same shape; any devices; on the host the element type is
 * converted when they differ. Returns at once. */
MX_API mx_status_t mx_ndarray_copy_to(mx_ndarray_t from, mx_ndarray_t to);

/* A view of rows [begin, end) of the first axis: shares memory with `array`. */
MX_API mx_status_t mx_ndarray_slice(mx_ndarray_t array, int64_t begin, int64_t end,
                                    mx_ndarray_t* out_view);

/* A view of row `index` of the first axis, without that axis. */
MX_API mx_status_t mx_ndarray_at(mx_ndarray_t array, int64_t index, mx_ndarray_t* out_view);

/* A view with another shape of the same size; one dim may be -1 (inferred). */
MX_API mx_status_t mx_ndarray_reshape(mx_ndarray_t array, const int64_t* shape, int32_t ndim,
                                      mx_ndarray_t* out_view);

/* Blocks until pending writes to the array are done (reports their error). */
MX_API mx_status_t mx_ndarray_wait_to_read(mx_ndarray_t array);

/* Blocks until pending reads and writes of the array are done (reports their error). */
MX_API mx_status_t mx_ndarray_wait_to_write(mx_ndarray_t array);

/* Waits for pending writes, then gives the address of a host array's elements. The pointer is
 * valid while `array` lives and nothing else writes it; GPU arrays are an error. */
MX_API mx_status_t mx_ndarray_get_data(mx_ndarray_t array, void** out_data);

/* Saves `num` arrays to `path` (format: docs/design/ndarray_format.md). `names` is NULL for a
 * list, or `num` strings for a name -> array map. */
MX_API mx_status_t mx_ndarray_save(const char* path, int32_t num, const mx_ndarray_t* arrays,
                                   const char* const* names);

/* Loads a file written by mx_ndarray_save: *out_num arrays at *out_arrays and *out_num names at
 * *out_names (NULL for a list). Each array handle is the caller's to free; the two lists
 * themselves stay valid until this thread's next mx_ndarray_load. A truncated or corrupt file, or
 * a path that is not a regular file (a device, FIFO or directory), is MX_ERR_IO naming the file
 * and the problem. */
MX_API mx_status_t mx_ndarray_load(const char* path, int32_t* out_num, mx_ndarray_t** out_arrays,
                                   const char*** out_names);

/* ---- DLPack ---------------------------------------------------------------------------------
 * Zero-copy exchange of arrays with other frameworks (numpy, PyTorch, ...) through DLPack's
 * DLManagedTensor, the struct in "dltensor" capsules (the legacy, unversioned struct every DLPack
 * from 0.6 to 1.x defines alike; not 1.0's DLManagedTensorVersioned). This header only declares
 * the struct: include <dlpack/dlpack.h> (DLPack 1.0, installed beside mx/ with libmx; in the
 * source tree third_party/dlpack/include) to use its fields. docs/design/dlpack.md has the full
 * contract.
 *
 *   #include <dlpack/dlpack.h>
 *   #include <mx/c_api.h>
 *
 *   static void free_tensor(DLManagedTensor* self) { free(self); }  // the producer's deleter
 *   ...
 *   float data[6] = {1, 2, 3, 4, 5, 6};
 *   int64_t shape[2] = {2, 3};
 *   DLManagedTensor* in = calloc(1, sizeof *in);
 *   in->dl_tensor.data = data;
 *   in->dl_tensor.device.device_type = kDLCPU;
 *   in->dl_tensor.ndim = 2;
 *   in->dl_tensor.dtype.code = kDLFloat;
 *   in->dl_tensor.dtype.bits = 32;
 *   in->dl_tensor.dtype.lanes = 1;
 *   in->dl_tensor.shape = shape;     // strides NULL: row-major compact
 *   in->deleter = free_tensor;
 *   const char* keys[] = {"scalar"}, *vals[] = {"10"};
 *   mx_ndarray_t a, *outs;
 *   int32_t n_out;
 *   if (mx_ndarray_from_dlpack(in, &a) != MX_OK) free_tensor(in);  // failed: still ours
 *   mx_op_invoke("_mul_scalar", 1, &a, 1, keys, vals, &n_out, &outs);  // reads `data`, no copy
 *   mx_ndarray_free(a);      // free_tensor(in) runs once the multiplication has read `data`
 *
 *   DLManagedTensor* out;
 *   mx_ndarray_to_dlpack(outs[0], &out);   // waits for the result; out->dl_tensor.data has it
 *   mx_ndarray_free(outs[0]);              // the memory stays: `out` holds a reference
 *   ... read ((float*)out->dl_tensor.data)[0..5] ...
 *   out->deleter(out);                     // libmx may reuse the memory now
 *
 * The memory is shared, not copied, both ways. libmx orders its own ops on an array, not the
 * other framework's accesses: wait (mx_ndarray_wait_to_read / _to_write) before the other side
 * touches memory that libmx ops pushed later may write or read, and do not let the other side
 * write while libmx ops on it are pending. */

/* Forward declaration of DLPack's struct; <dlpack/dlpack.h> defines it. */
struct DLManagedTensor;

/* A DLManagedTensor viewing `array`'s memory (no copy), for another framework to consume. It
 * first waits for every op pushed so far on the array (reads and writes: the consumer may read
 * and write), and reports their error instead of exporting. The tensor: data = the first
 * element (byte_offset 0), device kDLCPU (device_id 0) for cpu and cpu_pinned arrays or kDLCUDA
 * (the GPU's index) for gpu arrays, shape and compact row-major strides (never NULL), dtype
 * float16/32/64 (kDLFloat), int8/32/64 (kDLInt) or uint8 (kDLUInt), lanes 1. It holds a
 * reference to the array's memory: the memory stays valid after `array` is freed, until the
 * consumer calls (*out_tensor)->deleter(*out_tensor) exactly once, from any thread. Ops pushed on
 * the array afterwards still write into that memory (as in MXNet). */
MX_API mx_status_t mx_ndarray_to_dlpack(mx_ndarray_t array, struct DLManagedTensor** out_tensor);

/* An array viewing `tensor`'s memory (no copy), taking ownership of `tensor`: libmx calls
 * tensor->deleter(tensor) (if not NULL) exactly once, when the last array sharing the memory
 * (views, arrays held by executors or outputs written in place) is freed and every op pushed on
 * it has finished, on a library thread or the freeing one; the deleter must not wait on the
 * engine. Until then the memory must stay valid. A tensor libmx exported itself comes back as an
 * array sharing the original's memory and ordering, and is released at once.
 * Accepted: device kDLCPU or kDLCUDAHost (device_id 0; the latter becomes a cpu_pinned array),
 * or kDLCUDA of a GPU this libmx can use (it first waits for that whole GPU, so the producer's
 * pending work on its own streams is done); the dtypes mx_ndarray_to_dlpack lists; ndim 0..12;
 * strides NULL or row-major compact (a dim of extent 1 may have any stride); data + byte_offset
 * aligned to the element size (no larger alignment is needed). Anything else (a bool, bfloat16,
 * complex or vector type, a strided view, another device, more dims) is an error naming what is
 * wrong (MX_ERR_UNSUPPORTED, or MX_ERR_INVALID_ARGUMENT for a malformed tensor), and on ANY
 * failure the deleter is NOT called: the tensor is still the caller's, who must release it. */
MX_API mx_status_t mx_ndarray_from_dlpack(struct DLManagedTensor* tensor, mx_ndarray_t* out_array);

/* ---- Operators ------------------------------------------------------------------------------
 * Every operator is reached by name with string parameters, so bindings generate their
 * functions from mx_op_list and mx_op_get_info instead of hard-coding them.                  */

/* All operator names, sorted; the list and strings are static. Names starting with '_' are
 * internal (scalar arithmetic, gradients) but may still be invoked. */
MX_API mx_status_t mx_op_list(int32_t* out_num, const char* const** out_names);

/* Describes one operator; every string and list is static. */
typedef struct mx_op_info {
  size_t struct_size; /* set by the caller to sizeof(mx_op_info_t)                */
  const char* name;
  const char* doc;
  int32_t num_params;
  const char* const* param_names;
  const char* const* param_types;    /* e.g. "int, required", "float, optional, default=0" */
  const char* const* param_defaults; /* "" for a required parameter                        */
  const char* const* param_docs;
  int32_t num_inputs; /* with default parameters; -1 when it cannot be known */
  const char* const* input_names;
  const char* variadic_param; /* e.g. "num_args" for Concat, or ""                  */
  int32_t num_outputs;        /* with default parameters; -1 when it cannot be known */
  int32_t hidden;             /* 1 for internal operators                           */
  int32_t gpu;                /* 1 when it has GPU kernels (used by CUDA builds)    */
} mx_op_info_t;

/* Information about operator `name`. Set out_info->struct_size first. Unknown names are
 * MX_ERR_NOT_FOUND with a suggestion. */
MX_API mx_status_t mx_op_get_info(const char* name, mx_op_info_t* out_info);

/* Runs operator `name` on `inputs` with `num_params` string parameters (keys[i] = vals[i]).
 * Outputs are allocated by the library: *out_num handles at *out_outputs, each the caller's to
 * free; the list itself stays valid until this thread's next mx_op_invoke. A "ctx" parameter
 * ("cpu(0)", "gpu(1)") chooses the device of ops without inputs. Returns at once; errors of the
 * computation itself surface when the outputs are read. */
MX_API mx_status_t mx_op_invoke(const char* name, int32_t num_inputs, const mx_ndarray_t* inputs,
                                int32_t num_params, const char* const* keys,
                                const char* const* vals, int32_t* out_num,
                                mx_ndarray_t** out_outputs);

/* As mx_op_invoke, writing into `num_outputs` arrays the caller gives (right shape and type). An
 * output may be an input (e.g. sgd_update's weight); the library handles the aliasing. */
MX_API mx_status_t mx_op_invoke_into(const char* name, int32_t num_inputs,
                                     const mx_ndarray_t* inputs, int32_t num_params,
                                     const char* const* keys, const char* const* vals,
                                     int32_t num_outputs, const mx_ndarray_t* outputs);

/* Sets whether imperative op calls on this thread run in training mode (dropout, batch-norm
 * statistics). Writes the previous mode to *out_prev if it is not NULL. Default: 0. */
MX_API mx_status_t mx_set_training(int32_t is_train, int32_t* out_prev);

/* Seeds every device's random generator; later random ops draw the same numbers for the same
 * seed. */
MX_API mx_status_t mx_random_seed(uint64_t seed);

/* ---- Symbols --------------------------------------------------------------------------------
 * A symbol is a stateless graph: variables (data, weights, labels: all just arguments), operator
 * nodes and outputs. An operator symbol is created by name with string parameters, then composed
 * with its inputs; inputs left out become variables named "<node>_<input>". Nodes without a name
 * are named by the library ("fullyconnected0", "_plusscalar0"; the number counts per name in
 * this process), so every binding gets the same names. Outputs are named "<node>_output" (or
 * "<node>_<output name>" for several outputs); a variable's output is its name. Listing order is
 * stable: depth first from the outputs, inputs in order, first visit wins.
 *
 *   mx_symbol_t ab[2], sum, net;
 *   const char* keys[] = {"scalar"}, *vals[] = {"1"};
 *   mx_symbol_create_variable("A", &ab[0]);
 *   mx_symbol_create_variable("B", &ab[1]);
 *   mx_symbol_create_op("elemwise_add", 0, NULL, NULL, &sum);
 *   mx_symbol_compose(sum, NULL, 2, NULL, ab);      // sum = A + B, named "elemwiseadd<n>"
 *   mx_symbol_create_op("_plus_scalar", 1, keys, vals, &net);
 *   mx_symbol_compose(net, "out", 1, NULL, &sum);   // net = (A + B) + 1, named "out"
 *   // mx_symbol_list_arguments(net, ...) gives A, B; mx_symbol_list_outputs gives out_output.
 *   mx_symbol_free(net);
 *   mx_symbol_free(sum);
 *   mx_symbol_free(ab[1]);
 *   mx_symbol_free(ab[0]);
 *
 * Handles share graph nodes: a symbol made from another (an output, internals, children, a
 * group) sees attributes later set on the nodes they share. A handle may be used from any
 * thread, but not from two threads at once while one of them changes it (compose, set_attr). */

/* A variable (an argument of the graph) named `name` (not empty). */
MX_API mx_status_t mx_symbol_create_variable(const char* name, mx_symbol_t* out_symbol);

/* An operator symbol, not composed yet: operator `op_name` with `num_params` string parameters
 * (keys[i] = vals[i]). Parameters are checked now: an unknown operator is MX_ERR_NOT_FOUND with
 * a suggestion, a bad parameter MX_ERR_INVALID_ARGUMENT naming the operator and the key. */
MX_API mx_status_t mx_symbol_create_op(const char* op_name, int32_t num_params,
                                       const char* const* keys, const char* const* vals,
                                       mx_symbol_t* out_symbol);

/* Binds inputs, changing `symbol` in place. For an operator symbol just created: `args` fill the
 * operator's inputs in order (keys == NULL), or by input name (keys[i] names args[i]); inputs
 * left out become variables "<name>_<input>"; `name` names the node (NULL or "": a name is made
 * up). For any other symbol: its variables are replaced, in mx_symbol_list_arguments order
 * (keys == NULL) or by variable name; the graph is copied first, so other symbols sharing it are
 * unaffected, and `name` is ignored. Each input must have exactly one output. An unknown input
 * name, too many inputs or an input that is itself an operator not composed yet are
 * MX_ERR_INVALID_ARGUMENT naming the problem; `symbol` is then unchanged. */
MX_API mx_status_t mx_symbol_compose(mx_symbol_t symbol, const char* name, int32_t num_args,
                                     const char* const* keys, const mx_symbol_t* args);

/* A deep copy: new nodes with the same names and attributes. */
MX_API mx_status_t mx_symbol_copy(mx_symbol_t symbol, mx_symbol_t* out_symbol);

/* The outputs of `num` symbols, in order, as one symbol. */
MX_API mx_status_t mx_symbol_group(int32_t num, const mx_symbol_t* symbols,
                                   mx_symbol_t* out_symbol);

/* Every output of every node (variables included), in topological order, as one symbol. Pick one
 * with mx_symbol_get_output_by_name (e.g. "fc1_output") to read an intermediate value. */
MX_API mx_status_t mx_symbol_get_internals(mx_symbol_t symbol, mx_symbol_t* out_symbol);

/* The inputs of a single-output symbol's node, as one symbol (with no outputs for a variable). */
MX_API mx_status_t mx_symbol_get_children(mx_symbol_t symbol, mx_symbol_t* out_symbol);

/* Output `index` (0 <= index < mx_symbol_get_num_outputs) as a symbol. */
MX_API mx_status_t mx_symbol_get_output(mx_symbol_t symbol, int32_t index, mx_symbol_t* out_symbol);

/* The first output named `name`, as mx_symbol_list_outputs names them. An unknown name is
 * MX_ERR_NOT_FOUND; the message lists the outputs. */
MX_API mx_status_t mx_symbol_get_output_by_name(mx_symbol_t symbol, const char* name,
                                                mx_symbol_t* out_symbol);

/* The number of outputs. */
MX_API mx_status_t mx_symbol_get_num_outputs(mx_symbol_t symbol, int32_t* out_num);

/* The node name of a single-output symbol, or "" for a group. The string stays valid until this
 * thread's next call to mx_symbol_get_name. */
MX_API mx_status_t mx_symbol_get_name(mx_symbol_t symbol, const char** out_name);

/* The arguments (variables no operator writes), in the stable order. The list and its strings
 * stay valid until this thread's next call to mx_symbol_list_arguments. */
MX_API mx_status_t mx_symbol_list_arguments(mx_symbol_t symbol, int32_t* out_num,
                                            const char*** out_names);

/* The output names ("<node>_output", ...). Valid until this thread's next call to
 * mx_symbol_list_outputs. */
MX_API mx_status_t mx_symbol_list_outputs(mx_symbol_t symbol, int32_t* out_num,
                                          const char*** out_names);

/* The auxiliary states (variables an operator writes, e.g. batch-norm statistics). Valid until
 * this thread's next call to mx_symbol_list_auxiliary_states. */
MX_API mx_status_t mx_symbol_list_auxiliary_states(mx_symbol_t symbol, int32_t* out_num,
                                                   const char*** out_names);

/* Sets user attribute `key` (lr_mult, wd_mult, or any key) to `value` on the node of a
 * single-output symbol, or on every output node of a group. An operator parameter cannot be set
 * this way (MX_ERR_INVALID_ARGUMENT). */
MX_API mx_status_t mx_symbol_set_attr(mx_symbol_t symbol, const char* key, const char* value);

/* Reads attribute `key` of a single-output symbol's node: an operator parameter or a user
 * attribute. *out_found is 1 and *out_value the value, or 0 and NULL when there is none (a group
 * has none). The value stays valid until this thread's next call to mx_symbol_get_attr. */
MX_API mx_status_t mx_symbol_get_attr(mx_symbol_t symbol, const char* key, const char** out_value,
                                      int32_t* out_found);

/* Attributes (operator parameters and user attributes) as *out_num pairs. With recursive == 0:
 * those of the node of a single-output symbol (none for a group), keys as set. With recursive
 * != 0: those of every node of the graph, keys "<node>$<key>" (MXNet's attr_dict flattening),
 * sorted by node name, then key. The lists and strings stay valid until this thread's next call
 * to mx_symbol_list_attrs. */
MX_API mx_status_t mx_symbol_list_attrs(mx_symbol_t symbol, int32_t recursive, int32_t* out_num,
                                        const char*** out_keys, const char*** out_values);

/* The symbol as JSON (format: docs/design/symbol_json.md). The string stays valid until this
 * thread's next call to mx_symbol_to_json. An operator not composed yet cannot be saved. */
MX_API mx_status_t mx_symbol_to_json(mx_symbol_t symbol, const char** out_json);

/* A symbol from JSON written by mx_symbol_to_json (or by MXNet, for operators libmx has).
 * Malformed or inconsistent JSON (syntax, missing keys, wrong types, node ids out of range or
 * not earlier than their user, entries other than [node_id, output_index, 0], two variables of
 * one name, unknown operators, bad parameters) is MX_ERR_INVALID_ARGUMENT naming the place
 * ("nodes[3].inputs[0]: ...") and the problem. */
MX_API mx_status_t mx_symbol_from_json(const char* json, mx_symbol_t* out_symbol);

/* Writes the symbol's JSON to the file `path`. Failures are MX_ERR_IO naming the file. */
MX_API mx_status_t mx_symbol_save(mx_symbol_t symbol, const char* path);

/* Reads a symbol from a file written by mx_symbol_save. A file that cannot be read or is not a
 * regular file, or whose contents are not a valid symbol, is MX_ERR_IO naming the file and the
 * problem. */
MX_API mx_status_t mx_symbol_load(const char* path, mx_symbol_t* out_symbol);

/* Releases the handle (NULL is fine). Nodes shared with other symbols stay alive for them. */
MX_API mx_status_t mx_symbol_free(mx_symbol_t symbol);

/* ---- Training: initializers, optimizers, metrics ---------------------------------------------
 * The pieces of a training loop, created by name with string key/value parameters (as
 * operators are), so every binding reuses the same rules. Semantics follow MXNet's Python
 * package (initializer.py, optimizer.py, lr_scheduler.py, metric.py).
 *
 *   mx_initializer_t init;
 *   mx_optimizer_t opt;
 *   mx_metric_t acc;
 *   const char* ok[] = {"learning_rate", "momentum"}, *ov[] = {"0.1", "0.9"};
 *   const char* name;
 *   double value;
 *   mx_random_seed(42);
 *   mx_initializer_create("xavier", 0, NULL, NULL, &init);
 *   mx_initializer_apply(init, "fc1_weight", w);   (Xavier; "fc1_bias" would get zeros)
 *   mx_optimizer_create("sgd", 2, ok, ov, &opt);
 *   ... forward, backward ...
 *   mx_optimizer_update(opt, 0, w, w_grad);        (returns at once; runs on the engine)
 *   mx_metric_create("acc", 0, NULL, NULL, &acc);
 *   mx_metric_update(acc, 1, &label, &prob);       (blocks until prob is computed)
 *   mx_metric_get(acc, &name, &value);             ("accuracy", 0.93)
 *   mx_metric_free(acc); mx_optimizer_free(opt); mx_initializer_free(init);                      */

typedef struct mx_initializer mx_initializer;
typedef mx_initializer* mx_initializer_t;
typedef struct mx_optimizer mx_optimizer;
typedef mx_optimizer* mx_optimizer_t;
typedef struct mx_metric mx_metric;
typedef mx_metric* mx_metric_t;

/* An initializer by name: "uniform" (scale=0.07: U(-scale, scale)), "normal" (sigma=0.01:
 * N(0, sigma^2)), "xavier" (rnd_type=uniform|gaussian, factor_type=avg|in|out, magnitude=3; the
 * fans of an (out, in, k...) weight are in*k... and out*k...), "zero", "one", "constant"
 * (value, required). Unknown names and parameters are MX_ERR_INVALID_ARGUMENT naming them. */
MX_API mx_status_t mx_initializer_create(const char* name, int32_t num_params,
                                         const char* const* keys, const char* const* vals,
                                         mx_initializer_t* out_init);

/* Fills `array` by the rule that the argument's name `arg_name` selects, as in MXNet: a name
 * ending in "weight" gets the initializer's rule; "bias", "beta", "moving_mean",
 * "moving_inv_var", "moving_avg", "min" get 0; "gamma", "moving_var", "max" get 1; any other
 * name is MX_ERR_INVALID_ARGUMENT naming it (data and labels are not initialized). Returns at
 * once; random rules draw from the generator seeded by mx_random_seed. */
MX_API mx_status_t mx_initializer_apply(mx_initializer_t init, const char* arg_name,
                                        mx_ndarray_t array);

/* Releases the initializer (NULL is fine). */
MX_API mx_status_t mx_initializer_free(mx_initializer_t init);

/* An optimizer by name. Both "sgd" and "adam" take learning_rate, wd (0), rescale_grad (1; set
 * it to 1/batch_size for summed gradients), clip_gradient (off when negative or "None"),
 * begin_num_update (0) and a learning-rate schedule driven by the update count: lr_scheduler
 * "factor" (lr_step updates between reductions, lr_factor (1), lr_stop_factor_lr (1e-8)) or
 * "multifactor" (lr_steps "[s1, s2, ...]", lr_factor). "sgd": learning_rate (0.01), momentum
 * (0). "adam": learning_rate (0.001), beta1 (0.9), beta2 (0.999), epsilon (1e-8), with the bias
 * correction folded into the rate. Unknown names and parameters are errors naming them. */
MX_API mx_status_t mx_optimizer_create(const char* name, int32_t num_params,
                                       const char* const* keys, const char* const* vals,
                                       mx_optimizer_t* out_opt);

/* Names `num` arguments by index (merged with earlier calls), so that multipliers set by name
 * apply to them. Once named, an argument whose name ends in neither "_weight" nor "_gamma"
 * (a bias, a batch-norm shift) gets no weight decay unless a wd_mult names it, as in MXNet. */
MX_API mx_status_t mx_optimizer_set_arg_names(mx_optimizer_t opt, int32_t num,
                                              const int32_t* indices, const char* const* names);

/* Learning-rate and weight-decay multipliers of the arguments called `names` (merged with
 * earlier calls; 1 for an argument without one). */
MX_API mx_status_t mx_optimizer_set_lr_mult(mx_optimizer_t opt, int32_t num,
                                            const char* const* names, const double* values);
MX_API mx_status_t mx_optimizer_set_wd_mult(mx_optimizer_t opt, int32_t num,
                                            const char* const* names, const double* values);

/* Pushes one update of argument `index` (>= 0; one index per argument): `weight` is updated in
 * place from `grad` (same shape). State (momentum, Adam's moments) is created beside the weight
 * at the index's first update. Returns at once; the update runs on the engine after the work
 * already pushed on weight and grad. */
MX_API mx_status_t mx_optimizer_update(mx_optimizer_t opt, int32_t index, mx_ndarray_t weight,
                                       mx_ndarray_t grad);

/* Sets the base learning rate (>= 0). An error when the optimizer has an lr_scheduler, which
 * owns the rate then. */
MX_API mx_status_t mx_optimizer_set_learning_rate(mx_optimizer_t opt, double lr);

/* The learning rate at the current update count, before multipliers. */
MX_API mx_status_t mx_optimizer_get_learning_rate(mx_optimizer_t opt, double* out_lr);

/* Releases the handle (NULL is fine), and with it the optimizer and its state arrays unless a
 * key-value store shares them (mx_kvstore_set_optimizer). */
MX_API mx_status_t mx_optimizer_free(mx_optimizer_t opt);

/* A metric by name: "acc"/"accuracy" (axis=1: the argmax of each prediction row against the
 * label; predictions shaped like the labels are compared directly), "top_k_accuracy" (top_k=1),
 * "ce"/"cross-entropy" (eps=1e-12: mean of -log(p[label] + eps)), "mse" (the mean of each
 * batch's mean squared error). Unknown names and parameters are errors naming them. */
MX_API mx_status_t mx_metric_create(const char* name, int32_t num_params, const char* const* keys,
                                    const char* const* vals, mx_metric_t* out_metric);

/* Adds `num` (label, prediction) pairs of arrays to the running score. Blocks until the arrays
 * are computed (errors of that computation surface here). */
MX_API mx_status_t mx_metric_update(mx_metric_t metric, int32_t num, const mx_ndarray_t* labels,
                                    const mx_ndarray_t* preds);

/* The metric's name (valid until the metric is freed) and its value since the last reset: NaN
 * before any update. */
MX_API mx_status_t mx_metric_get(mx_metric_t metric, const char** out_name, double* out_value);

/* Starts the running score afresh. */
MX_API mx_status_t mx_metric_reset(mx_metric_t metric);

/* Releases the metric (NULL is fine). */
MX_API mx_status_t mx_metric_free(mx_metric_t metric);

/* ---- Data iterators -------------------------------------------------------------------------
 * Batches of samples for training and evaluation, prepared on a background thread while the
 * current batch is in use. An iterator walks an epoch: mx_data_iter_next makes the next batch
 * current and reports whether there was one; mx_data_iter_reset starts the next epoch
 * (reshuffling when asked to). Batches are float32 arrays on the CPU of shape (batch_size,
 * sample shape...); labels (batch_size, label shape...).
 *
 * Every batch is new arrays: the handles mx_data_iter_get_data and mx_data_iter_get_label return
 * are the caller's, and the iterator never writes into them again, so a batch keeps its contents
 * after mx_data_iter_next, mx_data_iter_reset and mx_data_iter_free for as long as the caller
 * holds it (keeping a whole epoch of batches is fine). Their memory goes back to the library's
 * pool when the caller frees the handles (and views of them) and the work pushed on them has run,
 * and later batches reuse it: a loop that frees each batch's handles allocates no new memory in
 * steady state. A handle kept for long keeps its batch's memory for as long.
 *
 *   mx_data_iter_mnist_options_t opt;
 *   mx_data_iter_t it;
 *   mx_ndarray_t x, y;
 *   int32_t has_batch = 0;
 *   memset(&opt, 0, sizeof opt);
 *   opt.struct_size = sizeof opt;
 *   opt.image_path = "data/mnist/train-images-idx3-ubyte";    (or its .gz beside it)
 *   opt.label_path = "data/mnist/train-labels-idx1-ubyte";
 *   opt.batch_size = 128;
 *   opt.shuffle = 1;
 *   opt.flat = 1;
 *   mx_data_iter_create_mnist(&opt, &it);
 *   while (mx_data_iter_next(it, &has_batch) == MX_OK && has_batch) {
 *     mx_data_iter_get_data(it, &x);            (x: 128 x 784, y: 128)
 *     mx_data_iter_get_label(it, &y);
 *     ... copy x and y into the executor's inputs, forward, backward, update ...
 *     mx_ndarray_free(x);
 *     mx_ndarray_free(y);
 *   }
 *   mx_data_iter_free(it);                                                                       */

/* What happens to the samples that do not fill a whole last batch of an epoch. */
enum {
  MX_LAST_BATCH_PAD = 0,      /* complete it from the epoch's start (default); see get_pad */
  MX_LAST_BATCH_DISCARD = 1,  /* drop them */
  MX_LAST_BATCH_ROLL_OVER = 2 /* keep them for the first batch of the next epoch */
};

/* Options of mx_data_iter_create_ndarray. Zero every field (memset), then set struct_size to
 * sizeof(mx_data_iter_ndarray_options_t) and the fields you need. `synchronous` nonzero prepares
 * each batch inside mx_data_iter_next instead of on a background thread (for debugging). */
typedef struct mx_data_iter_ndarray_options {
  size_t struct_size;         /* sizeof(mx_data_iter_ndarray_options_t) */
  const float* data;          /* the samples, row-major; the first axis indexes them */
  const int64_t* data_shape;  /* data_ndim dims */
  int32_t data_ndim;          /* >= 1 */
  int32_t label_ndim;         /* 0 when label is NULL */
  const float* label;         /* NULL (no labels), or one row per sample of data */
  const int64_t* label_shape; /* label_ndim dims */
  int64_t batch_size;         /* 1 to 2^24 */
  int32_t shuffle;            /* nonzero: a new order each epoch, determined by seed */
  int32_t last_batch_handle;  /* MX_LAST_BATCH_* */
  uint64_t seed;              /* of the shuffle */
  int32_t synchronous;        /* nonzero: no background thread */
} mx_data_iter_ndarray_options_t;

/* An iterator over host memory. data (and label) are copied in, so the caller may free or change
 * its buffers as soon as this returns. Bad shapes or options are MX_ERR_INVALID_ARGUMENT. */
MX_API mx_status_t mx_data_iter_create_ndarray(const mx_data_iter_ndarray_options_t* options,
                                               mx_data_iter_t* out_iter);

/* Options of mx_data_iter_create_mnist; zero it, then set struct_size and the fields. */
typedef struct mx_data_iter_mnist_options {
  size_t struct_size;        /* sizeof(mx_data_iter_mnist_options_t) */
  const char* image_path;    /* IDX image file (magic 2051), gzip'ed or plain */
  const char* label_path;    /* IDX label file (magic 2049), gzip'ed or plain */
  int64_t batch_size;        /* 1 to 2^24 */
  int32_t shuffle;           /* nonzero: a new order each epoch, determined by seed */
  int32_t flat;              /* nonzero: samples of (rows * cols); zero: (1, rows, cols) */
  uint64_t seed;             /* of the shuffle */
  int32_t last_batch_handle; /* MX_LAST_BATCH_* */
  int32_t synchronous;       /* nonzero: no background thread (for debugging) */
  /* Data parallelism across processes (MXNet's MNISTIter num_parts / part_index): the iterator
   * reads only part `part_index` of `num_parts` equal contiguous parts of the file (the last
   * count % num_parts samples are left out, so that every worker takes as many steps as the
   * others). 0 and 0: the whole file. */
  int32_t num_parts;
  int32_t part_index;
} mx_data_iter_mnist_options_t;

/* An iterator over MNIST-format IDX files (MNIST, Fashion-MNIST): pixels scaled to [0, 1], labels
 * as float class indices. Both files are read here. A file is gzip'ed when it starts with gzip's
 * magic bytes (1f 8b), whatever its name; a path that does not exist is tried with ".gz" added
 * (or removed, when it ends in ".gz"), so "DIR/train-images-idx3-ubyte" finds either form. A file
 * missing in both forms (the message names both paths), unreadable or not a regular file, corrupt
 * or truncated, with the wrong magic number, with sizes its header declares but its data does not
 * hold (checked before anything of that size is allocated; gzip'ed data is inflated no further
 * than that), or disagreeing with the other file's count is MX_ERR_IO naming the file and the
 * problem. */
MX_API mx_status_t mx_data_iter_create_mnist(const mx_data_iter_mnist_options_t* options,
                                             mx_data_iter_t* out_iter);

/* Starts the next epoch; there is no current batch until mx_data_iter_next. Batches the caller
 * holds keep their contents. */
MX_API mx_status_t mx_data_iter_reset(mx_data_iter_t iter);

/* Makes the next batch current: *out_has_batch is 1, or 0 at the end of the epoch (and until
 * mx_data_iter_reset). An error preparing the batch is reported here; the iterator stays usable. */
MX_API mx_status_t mx_data_iter_next(mx_data_iter_t iter, int32_t* out_has_batch);

/* The current batch's data as a new handle the caller frees with mx_ndarray_free. Its contents
 * never change afterwards (the iterator writes each batch into new arrays); calling this twice for
 * one batch gives two handles of the same array. MX_ERR_INVALID_ARGUMENT when there is no current
 * batch. */
MX_API mx_status_t mx_data_iter_get_data(mx_data_iter_t iter, mx_ndarray_t* out_data);

/* The current batch's labels, like mx_data_iter_get_data; *out_label is NULL when the iterator
 * has no labels. */
MX_API mx_status_t mx_data_iter_get_label(mx_data_iter_t iter, mx_ndarray_t* out_label);

/* How many samples at the end of the current batch are padding (MX_LAST_BATCH_PAD's last batch;
 * 0 otherwise). Exclude them from metrics. */
MX_API mx_status_t mx_data_iter_get_pad(mx_data_iter_t iter, int64_t* out_pad);

/* The shape of every batch's data and labels (*out_label_ndim is 0 and *out_label_dims NULL
 * without labels). The arrays stay valid until the iterator is freed. */
MX_API mx_status_t mx_data_iter_get_shapes(mx_data_iter_t iter, int32_t* out_data_ndim,
                                           const int64_t** out_data_dims, int32_t* out_label_ndim,
                                           const int64_t** out_label_dims);

/* Releases the iterator (NULL is fine), stopping its background thread. Batch handles the caller
 * still holds stay valid, with their batch's contents, until the caller frees them. */
MX_API mx_status_t mx_data_iter_free(mx_data_iter_t iter);

/* ---- Shape and type inference ---------------------------------------------------------------
 * From the shapes (types) of some inputs, infer those of every argument, output and auxiliary
 * state, forward and backward through every op until nothing changes. Given shapes may be
 * partial, as in MXNet: a dim of 0 (or -1) is unknown, and ndim 0 (or -1) says nothing is known;
 * what is given wins over a variable's "__shape__" attribute, which only fills in what stays
 * unknown. In results, unknown dims are -1 (an unknown rank is ndim -1). Lists stay valid until
 * this thread's next call to the same function.
 *
 *   const char* names[] = {"data"};
 *   int32_t ndims[] = {2};
 *   int64_t data_shape[] = {0, 784};                  (batch size unknown)
 *   const int64_t* dims[] = {data_shape};
 *   mx_shape_list_t args, outs, aux;
 *   int32_t complete;
 *   mx_symbol_infer_shape(net, 1, names, ndims, dims, &args, &outs, &aux, &complete);
 *
 * A conflict is MX_ERR_INVALID_ARGUMENT naming the argument variable, the node and its input,
 * and the given vs inferred shapes, e.g. "argument 'fc1_weight' (input 'weight' of node 'fc1'
 * (FullyConnected)): given shape (128,785), inferred (128,784)".                              */

typedef struct mx_shape_list {
  int32_t num;
  const int32_t* ndims;       /* ndims[i]: rank of shape i, -1 if unknown  */
  const int64_t* const* dims; /* dims[i][j]: extent j of shape i, -1 if unknown */
} mx_shape_list_t;

typedef struct mx_dtype_list {
  int32_t num;
  const int32_t* dtypes; /* MX_DTYPE_*, or -1 if unknown */
} mx_dtype_list_t;

/* Infers shapes given `num_known` input shapes (names[i] has ndims[i] dims at dims[i]). Writes
 * the arguments' (list_arguments order), outputs' and auxiliary states' shapes, and
 * *out_complete = 1 when every one is known (0: a partial result, not an error). With
 * out_complete NULL every shape must be inferred: what stays unknown is MX_ERR_INVALID_ARGUMENT
 * naming each such argument and the op input that reads it. */
MX_API mx_status_t mx_symbol_infer_shape(mx_symbol_t symbol, int32_t num_known,
                                         const char* const* names, const int32_t* ndims,
                                         const int64_t* const* dims, mx_shape_list_t* out_args,
                                         mx_shape_list_t* out_outputs, mx_shape_list_t* out_aux,
                                         int32_t* out_complete);

/* The same for element types: names[i] has dtype dtypes[i] (-1: unknown). What is given wins
 * over a variable's "__dtype__" attribute. */
MX_API mx_status_t mx_symbol_infer_type(mx_symbol_t symbol, int32_t num_known,
                                        const char* const* names, const int32_t* dtypes,
                                        mx_dtype_list_t* out_args, mx_dtype_list_t* out_outputs,
                                        mx_dtype_list_t* out_aux, int32_t* out_complete);

/* ---- Executors ------------------------------------------------------------------------------
 * A symbol bound to arrays on a device. Binding plans everything once (gradient graph, shapes,
 * memory, one cached engine op per node); forward and backward only push those ops and return at
 * once. Read outputs and gradients like any array.
 *
 *   mx_simple_bind_options_t o;
 *   mx_simple_bind_options_default(&o);
 *   const char* names[] = {"data"};
 *   int32_t ndims[] = {2};
 *   int64_t data_shape[] = {128, 784};
 *   const int64_t* shapes[] = {data_shape};
 *   o.num_shapes = 1; o.shape_names = names; o.shape_ndims = ndims; o.shapes = shapes;
 *   mx_executor_t exec;
 *   mx_executor_simple_bind(net, &o, &exec);
 *   mx_executor_forward(exec, 1);
 *   mx_executor_backward(exec, 0, NULL);
 *   mx_executor_free(exec);                                                                      */

enum { MX_GRAD_NULL = 0, MX_GRAD_WRITE = 1, MX_GRAD_ADD = 2 };

typedef struct mx_bind_options {
  size_t struct_size;            /* sizeof(mx_bind_options_t)                                  */
  mx_context_t ctx;              /* the device (default cpu(0))                                */
  int32_t num_args;              /* = the symbol's number of arguments                         */
  const mx_ndarray_t* args;      /* in list_arguments order                                    */
  const mx_ndarray_t* arg_grads; /* NULL, or num_args entries (NULL where there is none)       */
  const int32_t* grad_reqs;      /* NULL (write where a gradient array is given), or per arg   */
  int32_t num_aux;               /* = the symbol's number of auxiliary states                  */
  const mx_ndarray_t* aux;       /* in list_auxiliary_states order                             */
  mx_executor_t shared_exec;     /* NULL, or an executor whose planned memory may be reused    */
} mx_bind_options_t;

/* Zeroes `opts` and sets struct_size and ctx = cpu(0). */
MX_API mx_status_t mx_bind_options_default(mx_bind_options_t* opts);

/* Binds `symbol` to the caller's arrays (which stay the caller's; the executor references them).
 */
MX_API mx_status_t mx_executor_bind(mx_symbol_t symbol, const mx_bind_options_t* opts,
                                    mx_executor_t* out_exec);

typedef struct mx_simple_bind_options {
  size_t struct_size; /* sizeof(mx_simple_bind_options_t)                        */
  mx_context_t ctx;   /* default cpu(0)                                          */
  int32_t num_shapes; /* known input shapes: names, ranks, dims                  */
  const char* const* shape_names;
  const int32_t* shape_ndims;
  const int64_t* const* shapes;
  int32_t num_dtypes; /* known input types (others follow, else float32)         */
  const char* const* dtype_names;
  const int32_t* dtypes;
  int32_t grad_req; /* for every argument not listed below (default write)     */
  int32_t num_grad_reqs;
  const char* const* grad_req_names;
  const int32_t* grad_reqs;
  mx_executor_t shared_exec; /* NULL, or an executor whose planned memory may be reused */
} mx_simple_bind_options_t;

/* Zeroes `opts` and sets struct_size, ctx = cpu(0) and grad_req = MX_GRAD_WRITE. */
MX_API mx_status_t mx_simple_bind_options_default(mx_simple_bind_options_t* opts);

/* Infers every shape from the given ones (partial shapes as for mx_symbol_infer_shape),
 * allocates arguments (zeros), gradients and auxiliary states, and binds. A shape that stays
 * unknown, or a conflict, is MX_ERR_INVALID_ARGUMENT naming the argument and the op input that
 * reads it. Get the arrays with mx_executor_get_arrays. */
MX_API mx_status_t mx_executor_simple_bind(mx_symbol_t symbol, const mx_simple_bind_options_t* opts,
                                           mx_executor_t* out_exec);

/* Pushes the forward pass (training mode when is_train != 0). Returns at once. */
MX_API mx_status_t mx_executor_forward(mx_executor_t exec, int32_t is_train);

/* Pushes the backward pass. `head_grads`: one array per output, or num = 0 for ones (loss outputs
 * such as SoftmaxOutput ignore them). Returns at once. */
MX_API mx_status_t mx_executor_backward(mx_executor_t exec, int32_t num_head_grads,
                                        const mx_ndarray_t* head_grads);

enum { MX_EXEC_ARGS = 0, MX_EXEC_GRADS = 1, MX_EXEC_AUX = 2, MX_EXEC_OUTPUTS = 3 };

/* The executor's arrays of one kind (MX_EXEC_*): *out_num new handles (NULL for an argument
 * without gradient), each the caller's to free, and their names. Both lists stay valid until
 * this thread's next call. */
MX_API mx_status_t mx_executor_get_arrays(mx_executor_t exec, int32_t kind, int32_t* out_num,
                                          const char* const** out_names, mx_ndarray_t** out_arrays);

/* Bytes of the planned internal memory and what one buffer per value would take. */
MX_API mx_status_t mx_executor_get_memory(mx_executor_t exec, uint64_t* out_planned_bytes,
                                          uint64_t* out_naive_bytes);

/* The memory plan as text (valid until this thread's next call). */
MX_API mx_status_t mx_executor_get_plan(mx_executor_t exec, const char** out_text);

/* Called on an engine thread with each node output's name and value as it is computed; `value`
 * is borrowed for the duration of the call. */
typedef void (*mx_monitor_fn)(const char* name, mx_ndarray_t value, void* user_data);

/* Installs (fn != NULL) or removes the monitor. Once this returns, the previous monitor is
 * never called again (a call already running finishes first; calls still queued are skipped),
 * so its user_data may be released. */
MX_API mx_status_t mx_executor_set_monitor(mx_executor_t exec, mx_monitor_fn fn, void* user_data);

/* Releases the executor (NULL is fine); pending work finishes first. Its monitor, if any, is
 * never called after this returns (as with mx_executor_set_monitor). */
MX_API mx_status_t mx_executor_free(mx_executor_t exec);

/* ---- Key-value stores -----------------------------------------------------------------------
 * Parameter synchronisation for data parallelism (MXNet's KVStore). Each key (a string; MXNet's
 * integer keys are their decimal spelling) holds one array. mx_kvstore_push sums the values given
 * for a key in one call (the gradients of several devices), then runs the store's optimizer on
 * the stored value with that sum as gradient, or stores the sum when it has no optimizer;
 * mx_kvstore_pull copies the stored value into every output given for the key. Calls return at
 * once: the work runs on the engine, after the work already pushed on the arrays.
 *
 *   mx_kvstore_t kv;
 *   const char* keys[2] = {"fc1_weight", "fc1_weight"};
 *   mx_ndarray_t grads[2] = {g_dev0, g_dev1}, weights[2] = {w_dev0, w_dev1};
 *   mx_kvstore_create("local", &kv);
 *   mx_kvstore_init(kv, 1, keys, &w);             (stores a copy of w)
 *   mx_kvstore_set_optimizer(kv, sgd);
 *   mx_kvstore_push(kv, 2, keys, grads, 0);       (g_dev0 + g_dev1, then one SGD step)
 *   mx_kvstore_pull(kv, 2, keys, weights, 0);     (both devices get the new weight)
 *   mx_kvstore_free(kv);
 *
 * Types: "local" keeps and sums every key on the CPU; "device" keeps each key on the device of
 * the value it was initialised with and sums there. Both run in one process: rank 0 of 1 worker.
 * "dist_sync" and "dist_device_sync" are the same across the processes of an MPI job (started
 * with mpirun; docs/distributed.md): init takes rank 0's values, and a push sums the values of
 * this process and then of every worker (an allreduce; the small keys of one call travel in one
 * message), so the optimizer makes the same step on every worker. Every worker must make the same
 * calls in the same order. A process not started by mpirun is a group of one. A collective that
 * waits longer than MX_KVSTORE_TIMEOUT seconds (300) for the other workers fails, and so does
 * every later one. "dist_async" is MX_ERR_UNSUPPORTED, and so are the dist_* types in a libmx
 * built without MPI. Use a store from one thread at a time.                                    */

/* A new store of `type` ("local", "device", "dist_sync" or "dist_device_sync"). */
MX_API mx_status_t mx_kvstore_create(const char* type, mx_kvstore_t* out_kv);

/* Releases the store (NULL is fine); work already pushed still completes. */
MX_API mx_status_t mx_kvstore_free(mx_kvstore_t kv);

/* The store's type ("local", ...); the string is valid until the store is freed. */
MX_API mx_status_t mx_kvstore_get_type(mx_kvstore_t kv, const char** out_type);

/* This process's rank among the store's workers and their number (0 and 1 but for dist_*). */
MX_API mx_status_t mx_kvstore_get_rank(mx_kvstore_t kv, int32_t* out_rank);
MX_API mx_status_t mx_kvstore_get_num_workers(mx_kvstore_t kv, int32_t* out_num);

/* Stores a copy of values[i] under keys[i] for each of the `num` pairs. A key initialised before
 * (or twice in the call) is MX_ERR_INVALID_ARGUMENT, and the store is then unchanged. dist_*:
 * rank 0's values are stored on every worker; keys, shapes or types that differ between the
 * workers are MX_ERR_INVALID_ARGUMENT on all of them. */
MX_API mx_status_t mx_kvstore_init(mx_kvstore_t kv, int32_t num, const char* const* keys,
                                   const mx_ndarray_t* values);

/* Pushes `num` (key, value) pairs; values of the same key are summed, then each key is updated
 * once. A key not initialised is MX_ERR_NOT_FOUND, a value whose shape differs from the key's
 * MX_ERR_INVALID_ARGUMENT (nothing is pushed then). `priority` orders the copies it makes. */
MX_API mx_status_t mx_kvstore_push(mx_kvstore_t kv, int32_t num, const char* const* keys,
                                   const mx_ndarray_t* values, int32_t priority);

/* Copies the value of keys[i] into outs[i] for each of the `num` pairs (errors as push). */
MX_API mx_status_t mx_kvstore_pull(mx_kvstore_t kv, int32_t num, const char* const* keys,
                                   const mx_ndarray_t* outs, int32_t priority);

/* Pushes from now on update with `opt` (see mx_optimizer_update), which the store shares: the
 * caller may go on using or free its handle. A key spelling a non-negative integer below 2^30 is
 * the optimizer's argument index (name it with mx_optimizer_set_arg_names); any other key gets an
 * index of its own and is named after itself, so multipliers set by name apply to it. */
MX_API mx_status_t mx_kvstore_set_optimizer(mx_kvstore_t kv, mx_optimizer_t opt);

/* ---- Prediction ------------------------------------------------------------------------------
 * Serving a trained model from many threads. A model (the symbol and its weights) is loaded once
 * and never changes; each thread creates its own predictor over it, which binds an inference
 * executor with its own inputs, outputs and scratch memory and shares the model's weights (no
 * copy). A model may be used by any number of threads at once; a predictor by one at a time.
 *
 *   mx_model_t model;
 *   mx_model_load("lenet-symbol.json", "lenet-0010.params", cpu, &model);
 *   // on each serving thread:
 *   const char* names[] = {"data"};
 *   int32_t ndims[] = {4};
 *   int64_t shape[] = {1, 1, 28, 28};
 *   const int64_t* shapes[] = {shape};
 *   mx_predictor_t p;
 *   mx_predictor_create(model, 1, names, ndims, shapes, &p);
 *   mx_predictor_set_input(p, "data", pixels, 784);
 *   mx_predictor_forward(p);
 *   mx_predictor_get_output(p, 0, scores, 10);        (waits for the forward pass)
 *   mx_predictor_free(p);
 *   ...
 *   mx_model_free(model);                              (after, or before, its predictors)
 *
 * The parameters are what mx_ndarray_save writes: named arrays, "arg:<name>" and "aux:<name>" as
 * training checkpoints hold them (bare argument names work too). A file that is not such a file,
 * a parameter the symbol does not have, a missing weight or auxiliary state, or an input of the
 * wrong shape is MX_ERR_INVALID_ARGUMENT (MX_ERR_IO for an unreadable file) naming it. */

/* A model from symbol JSON text and the bytes of a parameter file (`param_size` bytes at
 * `param_bytes`), with its weights placed on `ctx`. The caller may free its buffers afterwards. */
MX_API mx_status_t mx_model_create(const char* symbol_json, const void* param_bytes,
                                   size_t param_size, mx_context_t ctx, mx_model_t* out_model);

/* The same from a symbol file and a parameter file. */
MX_API mx_status_t mx_model_load(const char* symbol_path, const char* param_path, mx_context_t ctx,
                                 mx_model_t* out_model);

/* Releases the caller's reference (NULL is fine); predictors created from it keep the model. */
MX_API mx_status_t mx_model_free(mx_model_t model);

/* A predictor for `num_inputs` named inputs of these shapes (arguments of the symbol that the
 * parameters do not hold; labels of loss outputs such as "softmax_label" need none). */
MX_API mx_status_t mx_predictor_create(mx_model_t model, int32_t num_inputs,
                                       const char* const* input_names, const int32_t* ndims,
                                       const int64_t* const* shapes, mx_predictor_t* out_pred);

/* Binds `pred` again for new input shapes (e.g. a batch size), keeping the shared weights. Input
 * values and outputs are new; earlier output shape pointers are no longer valid. On an error the
 * predictor is unchanged. */
MX_API mx_status_t mx_predictor_reshape(mx_predictor_t pred, int32_t num_inputs,
                                        const char* const* input_names, const int32_t* ndims,
                                        const int64_t* const* shapes);

/* Copies `count` floats (exactly the input's size) into input `name`. Returns at once. */
MX_API mx_status_t mx_predictor_set_input(mx_predictor_t pred, const char* name, const float* data,
                                          size_t count);

/* Pushes the forward pass (inference mode) and returns at once. */
MX_API mx_status_t mx_predictor_forward(mx_predictor_t pred);

MX_API mx_status_t mx_predictor_get_num_outputs(mx_predictor_t pred, int32_t* out_num);

/* Output `index`'s shape: *out_ndim dims at *out_dims, valid until `pred` is reshaped or freed. */
MX_API mx_status_t mx_predictor_get_output_shape(mx_predictor_t pred, int32_t index,
                                                 int32_t* out_ndim, const int64_t** out_dims);

/* Waits for the forward pass and copies output `index` (`count` floats, exactly its size) into
 * `data`. An error inside the forward pass is reported here. */
MX_API mx_status_t mx_predictor_get_output(mx_predictor_t pred, int32_t index, float* data,
                                           size_t count);

/* Releases the predictor (NULL is fine), after the work it pushed has run. */
MX_API mx_status_t mx_predictor_free(mx_predictor_t pred);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MX_C_API_H_ */
