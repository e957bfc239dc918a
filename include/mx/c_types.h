/*
 * libmx C ABI: the types, constants and handles that c_api.h's functions speak in.
 *
 * Everything here is C99 and ABI-stable: enums are passed as int32_t, structs the caller fills in
 * start with `struct_size` so later versions can append fields, handles are pointers to
 * incomplete structs (one distinct type per concept, so the compiler catches a symbol passed
 * where an array was expected).
 */
#ifndef MX_C_TYPES_H_
#define MX_C_TYPES_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MX_API __declspec(dllexport)
#elif defined(__GNUC__)
#define MX_API __attribute__((visibility("default")))
#else
#define MX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status --------------------------------------------------------------------------------
 * Every fallible call returns an mx_status_t: MX_OK (0) on success, otherwise one of the codes
 * below, and the calling thread's message (mx_get_last_error) says what was wrong.            */
typedef int32_t mx_status_t;

enum {
  MX_OK = 0,
  MX_ERR_INVALID_ARGUMENT = 1, /* a bad shape, parameter, dtype, NULL pointer or handle use */
  MX_ERR_OUT_OF_MEMORY = 2,    /* an allocation failed; the message names size and device  */
  MX_ERR_NOT_FOUND = 3,        /* an unknown operator, name, key or device                  */
  MX_ERR_IO = 4,               /* a file could not be read or written, or is corrupt        */
  MX_ERR_UNSUPPORTED = 5,      /* valid, but not available in this build (e.g. no CUDA)     */
  MX_ERR_INTERNAL = 6,         /* a broken internal invariant: please report it             */
  MX_ERR_FAILED = 7            /* any other failure, e.g. an error inside an asynchronous op */
};

/* ---- Devices -------------------------------------------------------------------------------
 * Device types use DLPack's numbering so contexts convert to DLDevice without a table.        */
enum { MX_CPU = 1, MX_GPU = 2, MX_CPU_PINNED = 3 };

/* A device: type (MX_CPU, MX_GPU, MX_CPU_PINNED) and index. Passed by value. */
typedef struct mx_context {
  int32_t device_type;
  int32_t device_id;
} mx_context_t;

/* ---- Element types ---------------------------------------------------------------------------
 * The numbering matches MXNet's type flags, so files and bindings that know one know the other. */
enum {
  MX_DTYPE_FLOAT32 = 0,
  MX_DTYPE_FLOAT64 = 1,
  MX_DTYPE_FLOAT16 = 2,
  MX_DTYPE_UINT8 = 3,
  MX_DTYPE_INT32 = 4,
  MX_DTYPE_INT8 = 5,
  MX_DTYPE_INT64 = 6
};

/* ---- Log levels (mx_set_log_level); the library is silent by default ---------------------- */
enum { MX_LOG_OFF = 0, MX_LOG_ERROR = 1, MX_LOG_WARNING = 2, MX_LOG_INFO = 3, MX_LOG_DEBUG = 4 };

/* ---- Handles ---------------------------------------------------------------------------------
 * Opaque, one type per concept. Every handle the caller receives is released by the caller with
 * the matching mx_<object>_free (which accepts NULL). Functions for each arrive with the layer
 * that implements it (see docs/design/c_api_rules.md).                                         */
/* clang-format off */
typedef struct mx_ndarray mx_ndarray;       /* a lazy n-dimensional array                     */
typedef mx_ndarray* mx_ndarray_t;
typedef struct mx_symbol mx_symbol;         /* a symbolic graph                               */
typedef mx_symbol* mx_symbol_t;
typedef struct mx_executor mx_executor;     /* a symbol bound to arrays on a device           */
typedef mx_executor* mx_executor_t;
typedef struct mx_engine_var mx_engine_var; /* a dependency-engine variable                   */
typedef mx_engine_var* mx_engine_var_t;
typedef struct mx_data_iter mx_data_iter;   /* a data iterator                                */
typedef mx_data_iter* mx_data_iter_t;
typedef struct mx_kvstore mx_kvstore;       /* a key-value store for parameter sync           */
typedef mx_kvstore* mx_kvstore_t;
typedef struct mx_model mx_model;           /* a trained model loaded for prediction          */
typedef mx_model* mx_model_t;
typedef struct mx_predictor mx_predictor;   /* one thread's inference executor over a model   */
typedef mx_predictor* mx_predictor_t;
/* clang-format on */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MX_C_TYPES_H_ */
