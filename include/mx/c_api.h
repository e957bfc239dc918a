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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MX_C_API_H_ */
