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
 * means "the environment's value, else the built-in default". */
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

/* The running engine's type: "naive" or "threaded" (a static string). Starts the engine if needed. */
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
 * NULL) is called with it exactly once, after fn ran or was skipped, or before this call returns
 * if the push fails. `priority` is a hint for ordering ready ops; `name` (may be NULL) is copied
 * and names the op in error messages. `fn` runs on a library thread and must not wait on the
 * engine. */
MX_API mx_status_t mx_engine_push(mx_engine_fn fn, void* user_data,
                                  void (*free_user_data)(void* user_data),
                                  const mx_engine_var_t* read, int32_t n_read,
                                  const mx_engine_var_t* write, int32_t n_write, int32_t priority,
                                  const char* name);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MX_C_API_H_ */
