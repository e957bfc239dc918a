"""The C header (include/mx/c_api.h) in ctypes: its structs, handle types and prototypes.

Every function the binding calls is declared here with its exact argument types, so a wrong
Python value is refused by ctypes before it reaches the library, and 64-bit dims and sizes are
never truncated. ``tests/python/test_capi.py`` parses c_api.h and checks that this table and
the header agree (names, argument counts, struct fields), so the two cannot drift apart.
"""
import ctypes
from ctypes import POINTER, c_char, c_char_p, c_double, c_int32, c_int64, c_size_t, c_uint64, \
    c_void_p

# ---- handles: one type per concept, as in the header -----------------------------------------


class NDArrayHandle(c_void_p):
    pass


class SymbolHandle(c_void_p):
    pass


class ExecutorHandle(c_void_p):
    pass


class DataIterHandle(c_void_p):
    pass


class KVStoreHandle(c_void_p):
    pass


class InitializerHandle(c_void_p):
    pass


class OptimizerHandle(c_void_p):
    pass


class MetricHandle(c_void_p):
    pass


class EngineVarHandle(c_void_p):
    pass


class ModelHandle(c_void_p):
    pass


class PredictorHandle(c_void_p):
    pass


# ---- structs (field for field as in the header) ----------------------------------------------


class Context(ctypes.Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class InitOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("engine_type", c_int32), ("cpu_workers", c_int32),
                ("cpu_priority_workers", c_int32), ("gpu_compute_workers", c_int32),
                ("gpu_copy_workers", c_int32)]


class ProfilerDumpOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("format", c_int32), ("reset", c_int32)]


class StorageStats(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("bytes_in_use", c_uint64), ("peak_in_use", c_uint64),
                ("bytes_pooled", c_uint64), ("num_allocs", c_uint64),
                ("num_system_allocs", c_uint64)]


class OpInfo(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("doc", c_char_p),
                ("num_params", c_int32), ("param_names", POINTER(c_char_p)),
                ("param_types", POINTER(c_char_p)), ("param_defaults", POINTER(c_char_p)),
                ("param_docs", POINTER(c_char_p)), ("num_inputs", c_int32),
                ("input_names", POINTER(c_char_p)), ("variadic_param", c_char_p),
                ("num_outputs", c_int32), ("hidden", c_int32), ("gpu", c_int32)]


class ShapeList(ctypes.Structure):
    _fields_ = [("num", c_int32), ("ndims", POINTER(c_int32)),
                ("dims", POINTER(POINTER(c_int64)))]


class DTypeList(ctypes.Structure):
    _fields_ = [("num", c_int32), ("dtypes", POINTER(c_int32))]


class BindOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("ctx", Context), ("num_args", c_int32),
                ("args", POINTER(NDArrayHandle)), ("arg_grads", POINTER(NDArrayHandle)),
                ("grad_reqs", POINTER(c_int32)), ("num_aux", c_int32),
                ("aux", POINTER(NDArrayHandle)), ("shared_exec", ExecutorHandle)]


class SimpleBindOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("ctx", Context), ("num_shapes", c_int32),
                ("shape_names", POINTER(c_char_p)), ("shape_ndims", POINTER(c_int32)),
                ("shapes", POINTER(POINTER(c_int64))), ("num_dtypes", c_int32),
                ("dtype_names", POINTER(c_char_p)), ("dtypes", POINTER(c_int32)),
                ("grad_req", c_int32), ("num_grad_reqs", c_int32),
                ("grad_req_names", POINTER(c_char_p)), ("grad_reqs", POINTER(c_int32)),
                ("shared_exec", ExecutorHandle)]


class DataIterNDArrayOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("data", POINTER(ctypes.c_float)),
                ("data_shape", POINTER(c_int64)), ("data_ndim", c_int32),
                ("label_ndim", c_int32), ("label", POINTER(ctypes.c_float)),
                ("label_shape", POINTER(c_int64)), ("batch_size", c_int64),
                ("shuffle", c_int32), ("last_batch_handle", c_int32), ("seed", c_uint64),
                ("synchronous", c_int32)]


class DataIterMNISTOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("image_path", c_char_p), ("label_path", c_char_p),
                ("batch_size", c_int64), ("shuffle", c_int32), ("flat", c_int32),
                ("seed", c_uint64), ("last_batch_handle", c_int32), ("synchronous", c_int32),
                ("num_parts", c_int32), ("part_index", c_int32)]


STRUCTS = {"mx_context_t": Context, "mx_init_options_t": InitOptions,
           "mx_profiler_dump_options_t": ProfilerDumpOptions,
           "mx_storage_stats_t": StorageStats, "mx_op_info_t": OpInfo,
           "mx_shape_list_t": ShapeList, "mx_dtype_list_t": DTypeList,
           "mx_bind_options_t": BindOptions, "mx_simple_bind_options_t": SimpleBindOptions,
           "mx_data_iter_ndarray_options_t": DataIterNDArrayOptions,
           "mx_data_iter_mnist_options_t": DataIterMNISTOptions}

# ---- callbacks -------------------------------------------------------------------------------

ENGINE_FN = ctypes.CFUNCTYPE(c_int32, c_void_p, POINTER(c_char), c_size_t)
FREE_FN = ctypes.CFUNCTYPE(None, c_void_p)
MONITOR_FN = ctypes.CFUNCTYPE(None, c_char_p, NDArrayHandle, c_void_p)

# ---- prototypes: name -> (restype, [argtypes]) -----------------------------------------------

S = c_int32  # mx_status_t
P = POINTER
PROTOTYPES = {
    "mx_get_last_error": (c_char_p, []),
    "mx_get_version": (c_int32, []),
    "mx_get_version_string": (c_char_p, []),
    "mx_dtype_size": (S, [c_int32, P(c_size_t)]),
    "mx_dtype_name": (S, [c_int32, P(c_char_p)]),
    "mx_dtype_from_name": (S, [c_char_p, P(c_int32)]),
    "mx_gpu_count": (S, [P(c_int32)]),
    "mx_context_to_string": (S, [Context, P(c_char), c_size_t]),
    "mx_set_log_level": (S, [c_int32]),
    "mx_init_options_default": (S, [P(InitOptions)]),
    "mx_init": (S, [P(InitOptions)]),
    "mx_shutdown": (S, []),
    "mx_engine_wait_all": (S, []),
    "mx_engine_get_type": (S, [P(c_char_p)]),
    "mx_engine_get_worker_count": (S, [c_int32, P(c_int32)]),
    "mx_engine_var_new": (S, [P(EngineVarHandle)]),
    "mx_engine_var_free": (S, [EngineVarHandle]),
    "mx_engine_wait_for_var": (S, [EngineVarHandle]),
    "mx_engine_push": (S, [ENGINE_FN, c_void_p, FREE_FN, P(EngineVarHandle), c_int32,
                           P(EngineVarHandle), c_int32, c_int32, c_char_p]),
    "mx_profiler_set_state": (S, [c_int32]),
    "mx_profiler_dump_options_default": (S, [P(ProfilerDumpOptions)]),
    "mx_profiler_dump": (S, [c_char_p, P(ProfilerDumpOptions)]),
    "mx_storage_get_stats": (S, [Context, P(StorageStats)]),
    "mx_storage_release_pool": (S, [Context]),
    "mx_storage_reset_peak": (S, [Context]),
    "mx_ndarray_create": (S, [P(c_int64), c_int32, c_int32, Context, P(NDArrayHandle)]),
    "mx_ndarray_free": (S, [NDArrayHandle]),
    "mx_ndarray_get_shape": (S, [NDArrayHandle, P(c_int32), P(P(c_int64))]),
    "mx_ndarray_get_dtype": (S, [NDArrayHandle, P(c_int32)]),
    "mx_ndarray_get_context": (S, [NDArrayHandle, P(Context)]),
    "mx_ndarray_copy_from_host": (S, [NDArrayHandle, c_void_p, c_size_t]),
    "mx_ndarray_copy_to_host": (S, [NDArrayHandle, c_void_p, c_size_t]),
    "mx_ndarray_copy_to": (S, [NDArrayHandle, NDArrayHandle]),
    "mx_ndarray_slice": (S, [NDArrayHandle, c_int64, c_int64, P(NDArrayHandle)]),
    "mx_ndarray_at": (S, [NDArrayHandle, c_int64, P(NDArrayHandle)]),
    "mx_ndarray_reshape": (S, [NDArrayHandle, P(c_int64), c_int32, P(NDArrayHandle)]),
    "mx_ndarray_wait_to_read": (S, [NDArrayHandle]),
    "mx_ndarray_wait_to_write": (S, [NDArrayHandle]),
    "mx_ndarray_get_data": (S, [NDArrayHandle, P(c_void_p)]),
    "mx_ndarray_save": (S, [c_char_p, c_int32, P(NDArrayHandle), P(c_char_p)]),
    "mx_ndarray_load": (S, [c_char_p, P(c_int32), P(P(NDArrayHandle)), P(P(c_char_p))]),
    "mx_ndarray_to_dlpack": (S, [NDArrayHandle, P(c_void_p)]),
    "mx_ndarray_from_dlpack": (S, [c_void_p, P(NDArrayHandle)]),
    "mx_op_list": (S, [P(c_int32), P(P(c_char_p))]),
    "mx_op_get_info": (S, [c_char_p, P(OpInfo)]),
    "mx_op_invoke": (S, [c_char_p, c_int32, P(NDArrayHandle), c_int32, P(c_char_p),
                         P(c_char_p), P(c_int32), P(P(NDArrayHandle))]),
    "mx_op_invoke_into": (S, [c_char_p, c_int32, P(NDArrayHandle), c_int32, P(c_char_p),
                              P(c_char_p), c_int32, P(NDArrayHandle)]),
    "mx_set_training": (S, [c_int32, P(c_int32)]),
    "mx_random_seed": (S, [c_uint64]),
    "mx_symbol_create_variable": (S, [c_char_p, P(SymbolHandle)]),
    "mx_symbol_create_op": (S, [c_char_p, c_int32, P(c_char_p), P(c_char_p), P(SymbolHandle)]),
    "mx_symbol_compose": (S, [SymbolHandle, c_char_p, c_int32, P(c_char_p), P(SymbolHandle)]),
    "mx_symbol_copy": (S, [SymbolHandle, P(SymbolHandle)]),
    "mx_symbol_group": (S, [c_int32, P(SymbolHandle), P(SymbolHandle)]),
    "mx_symbol_get_internals": (S, [SymbolHandle, P(SymbolHandle)]),
    "mx_symbol_get_children": (S, [SymbolHandle, P(SymbolHandle)]),
    "mx_symbol_get_output": (S, [SymbolHandle, c_int32, P(SymbolHandle)]),
    "mx_symbol_get_output_by_name": (S, [SymbolHandle, c_char_p, P(SymbolHandle)]),
    "mx_symbol_get_num_outputs": (S, [SymbolHandle, P(c_int32)]),
    "mx_symbol_get_name": (S, [SymbolHandle, P(c_char_p)]),
    "mx_symbol_list_arguments": (S, [SymbolHandle, P(c_int32), P(P(c_char_p))]),
    "mx_symbol_list_outputs": (S, [SymbolHandle, P(c_int32), P(P(c_char_p))]),
    "mx_symbol_list_auxiliary_states": (S, [SymbolHandle, P(c_int32), P(P(c_char_p))]),
    "mx_symbol_set_attr": (S, [SymbolHandle, c_char_p, c_char_p]),
    "mx_symbol_get_attr": (S, [SymbolHandle, c_char_p, P(c_char_p), P(c_int32)]),
    "mx_symbol_list_attrs": (S, [SymbolHandle, c_int32, P(c_int32), P(P(c_char_p)),
                                 P(P(c_char_p))]),
    "mx_symbol_to_json": (S, [SymbolHandle, P(c_char_p)]),
    "mx_symbol_from_json": (S, [c_char_p, P(SymbolHandle)]),
    "mx_symbol_save": (S, [SymbolHandle, c_char_p]),
    "mx_symbol_load": (S, [c_char_p, P(SymbolHandle)]),
    "mx_symbol_free": (S, [SymbolHandle]),
    "mx_initializer_create": (S, [c_char_p, c_int32, P(c_char_p), P(c_char_p),
                                  P(InitializerHandle)]),
    "mx_initializer_apply": (S, [InitializerHandle, c_char_p, NDArrayHandle]),
    "mx_initializer_free": (S, [InitializerHandle]),
    "mx_optimizer_create": (S, [c_char_p, c_int32, P(c_char_p), P(c_char_p),
                                P(OptimizerHandle)]),
    "mx_optimizer_set_arg_names": (S, [OptimizerHandle, c_int32, P(c_int32), P(c_char_p)]),
    "mx_optimizer_set_lr_mult": (S, [OptimizerHandle, c_int32, P(c_char_p), P(c_double)]),
    "mx_optimizer_set_wd_mult": (S, [OptimizerHandle, c_int32, P(c_char_p), P(c_double)]),
    "mx_optimizer_update": (S, [OptimizerHandle, c_int32, NDArrayHandle, NDArrayHandle]),
    "mx_optimizer_set_learning_rate": (S, [OptimizerHandle, c_double]),
    "mx_optimizer_get_learning_rate": (S, [OptimizerHandle, P(c_double)]),
    "mx_optimizer_free": (S, [OptimizerHandle]),
    "mx_metric_create": (S, [c_char_p, c_int32, P(c_char_p), P(c_char_p), P(MetricHandle)]),
    "mx_metric_update": (S, [MetricHandle, c_int32, P(NDArrayHandle), P(NDArrayHandle)]),
    "mx_metric_get": (S, [MetricHandle, P(c_char_p), P(c_double)]),
    "mx_metric_reset": (S, [MetricHandle]),
    "mx_metric_free": (S, [MetricHandle]),
    "mx_data_iter_create_ndarray": (S, [P(DataIterNDArrayOptions), P(DataIterHandle)]),
    "mx_data_iter_create_mnist": (S, [P(DataIterMNISTOptions), P(DataIterHandle)]),
    "mx_data_iter_reset": (S, [DataIterHandle]),
    "mx_data_iter_next": (S, [DataIterHandle, P(c_int32)]),
    "mx_data_iter_get_data": (S, [DataIterHandle, P(NDArrayHandle)]),
    "mx_data_iter_get_label": (S, [DataIterHandle, P(NDArrayHandle)]),
    "mx_data_iter_get_pad": (S, [DataIterHandle, P(c_int64)]),
    "mx_data_iter_get_shapes": (S, [DataIterHandle, P(c_int32), P(P(c_int64)), P(c_int32),
                                    P(P(c_int64))]),
    "mx_data_iter_free": (S, [DataIterHandle]),
    "mx_symbol_infer_shape": (S, [SymbolHandle, c_int32, P(c_char_p), P(c_int32),
                                  P(P(c_int64)), P(ShapeList), P(ShapeList), P(ShapeList),
                                  P(c_int32)]),
    "mx_symbol_infer_type": (S, [SymbolHandle, c_int32, P(c_char_p), P(c_int32), P(DTypeList),
                                 P(DTypeList), P(DTypeList), P(c_int32)]),
    "mx_bind_options_default": (S, [P(BindOptions)]),
    "mx_executor_bind": (S, [SymbolHandle, P(BindOptions), P(ExecutorHandle)]),
    "mx_simple_bind_options_default": (S, [P(SimpleBindOptions)]),
    "mx_executor_simple_bind": (S, [SymbolHandle, P(SimpleBindOptions), P(ExecutorHandle)]),
    "mx_executor_forward": (S, [ExecutorHandle, c_int32]),
    "mx_executor_backward": (S, [ExecutorHandle, c_int32, P(NDArrayHandle)]),
    "mx_executor_get_arrays": (S, [ExecutorHandle, c_int32, P(c_int32), P(P(c_char_p)),
                                   P(P(NDArrayHandle))]),
    "mx_executor_get_memory": (S, [ExecutorHandle, P(c_uint64), P(c_uint64)]),
    "mx_executor_get_plan": (S, [ExecutorHandle, P(c_char_p)]),
    "mx_executor_set_monitor": (S, [ExecutorHandle, MONITOR_FN, c_void_p]),
    "mx_executor_free": (S, [ExecutorHandle]),
    "mx_kvstore_create": (S, [c_char_p, P(KVStoreHandle)]),
    "mx_kvstore_free": (S, [KVStoreHandle]),
    "mx_kvstore_get_type": (S, [KVStoreHandle, P(c_char_p)]),
    "mx_kvstore_get_rank": (S, [KVStoreHandle, P(c_int32)]),
    "mx_kvstore_get_num_workers": (S, [KVStoreHandle, P(c_int32)]),
    "mx_kvstore_init": (S, [KVStoreHandle, c_int32, P(c_char_p), P(NDArrayHandle)]),
    "mx_kvstore_push": (S, [KVStoreHandle, c_int32, P(c_char_p), P(NDArrayHandle), c_int32]),
    "mx_kvstore_pull": (S, [KVStoreHandle, c_int32, P(c_char_p), P(NDArrayHandle), c_int32]),
    "mx_kvstore_set_optimizer": (S, [KVStoreHandle, OptimizerHandle]),
    "mx_model_create": (S, [c_char_p, c_void_p, c_size_t, Context, P(ModelHandle)]),
    "mx_model_load": (S, [c_char_p, c_char_p, Context, P(ModelHandle)]),
    "mx_model_free": (S, [ModelHandle]),
    "mx_predictor_create": (S, [ModelHandle, c_int32, P(c_char_p), P(c_int32), P(P(c_int64)),
                                P(PredictorHandle)]),
    "mx_predictor_reshape": (S, [PredictorHandle, c_int32, P(c_char_p), P(c_int32),
                                 P(P(c_int64))]),
    "mx_predictor_set_input": (S, [PredictorHandle, c_char_p, P(ctypes.c_float), c_size_t]),
    "mx_predictor_forward": (S, [PredictorHandle]),
    "mx_predictor_get_num_outputs": (S, [PredictorHandle, P(c_int32)]),
    "mx_predictor_get_output_shape": (S, [PredictorHandle, c_int32, P(c_int32), P(P(c_int64))]),
    "mx_predictor_get_output": (S, [PredictorHandle, c_int32, P(ctypes.c_float), c_size_t]),
    "mx_predictor_free": (S, [PredictorHandle]),
}


def declare(lib):
    """Sets restype and argtypes of every prototype on the loaded library. Returns the names
    the library does not export (an older library than this binding)."""
    missing = []
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return missing


def unchecked(lib, names):
    """Second function objects for `names`, with the prototype's restype but no argtypes, for the
    binding's per-op hot paths (mx.nd's invoke, indexing, asnumpy, freeing).

    ctypes converts each argument through its argtypes entry on every call, which was about a
    third of the binding's own cost of one small op (~700 ns of an mx_op_invoke_into call).
    Without argtypes nothing is checked or converted, so each caller passes exactly the C
    types: handles as handle objects (or None for NULL), int32_t as a Python int, any wider
    integer as c_int64 / c_size_t (a plain int would be passed as a 32-bit int), pointers as
    byref() or ctypes arrays. The checked prototypes on `lib` stay for everything else."""
    fns = {}
    for name in names:
        fn = lib[name]  # indexing makes a new function object; lib.<name> keeps its argtypes
        fn.restype = PROTOTYPES[name][0]
        fns[name] = fn
    return fns

# ---- constants (the header's enums) ----------------------------------------------------------

MX_CPU, MX_GPU, MX_CPU_PINNED = 1, 2, 3
MX_GRAD_NULL, MX_GRAD_WRITE, MX_GRAD_ADD = 0, 1, 2
MX_EXEC_ARGS, MX_EXEC_GRADS, MX_EXEC_AUX, MX_EXEC_OUTPUTS = 0, 1, 2, 3
MX_LAST_BATCH_PAD, MX_LAST_BATCH_DISCARD, MX_LAST_BATCH_ROLL_OVER = 0, 1, 2
MX_LOG_OFF, MX_LOG_ERROR, MX_LOG_WARNING, MX_LOG_INFO, MX_LOG_DEBUG = 0, 1, 2, 3, 4
MX_PROFILER_STOP, MX_PROFILER_RUN = 0, 1
MX_PROFILER_FORMAT_AUTO, MX_PROFILER_FORMAT_CHROME_TRACE, MX_PROFILER_FORMAT_TABLE = 0, 1, 2
