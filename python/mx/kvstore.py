"""mx.kv: key-value stores for data parallelism (the library's, see docs/design/kvstore.md).

``push`` sums the values given for a key (one per device) and updates the stored value with
the optimizer set by ``set_optimizer`` (or stores the sum); ``pull`` copies it into every
output. Keys are ints or strings. 'local' sums on the CPU, 'device' on the device the key was
initialised on. 'dist_sync' and 'dist_device_sync' do the same across the processes of an MPI job
(``mpirun -np 2 python3 train.py``; docs/distributed.md): ``init`` takes rank 0's values, ``push``
sums every worker's values, and every worker makes the same optimizer step. They need a libmx
built with MPI; 'dist_async' is not supported.
"""
import ctypes

from ._capi import KVStoreHandle, NDArrayHandle
from .base import MXError, c_handle_array, c_str, c_str_array, check_call, lib, py_str
from .ndarray import NDArray

__all__ = ["KVStore", "create"]


def _pairs(key, value, what):
    """Flattens (key, value) given as one key with one array or a list of arrays (several
    devices), or lists of keys and of values, into parallel key and array lists."""
    if isinstance(key, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(key):
            raise MXError("kvstore %s: %d keys need a list of %d values" % (what, len(key),
                                                                          len(key)))
        keys, arrays = [], []
        for k, v in zip(key, value):
            ks, vs = _pairs(k, v, what)
            keys += ks
            arrays += vs
        return keys, arrays
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if not isinstance(v, NDArray):
            raise MXError("kvstore %s: expected NDArrays, got %s" % (what, type(v).__name__))
    return [str(key)] * len(values), values


class KVStore:
    """A library key-value store; see mx.kv.create."""

    def __init__(self, handle):
        self.handle = handle
        self._optimizer = None

    def __del__(self, _free=lib.mx_kvstore_free):
        handle = getattr(self, "handle", None)
        if handle is not None:
            _free(handle)

    def _call(self, fn, key, value, what, *extra):
        keys, arrays = _pairs(key, value, what)
        check_call(fn(self.handle, len(keys), c_str_array(keys),
                      c_handle_array(arrays, NDArrayHandle), *extra))

    def init(self, key, value):
        """Stores a copy of `value` under `key` (or of each value under each key)."""
        self._call(lib.mx_kvstore_init, key, value, "init")

    def push(self, key, value, priority=0):
        """Sums the value(s) of each key and updates the key (lazy)."""
        self._call(lib.mx_kvstore_push, key, value, "push", int(priority))

    def pull(self, key, out=None, priority=0):
        """Copies each key's value into `out` (an NDArray or a list, e.g. one per device)."""
        if out is None:
            raise MXError("kvstore pull: out is required")
        self._call(lib.mx_kvstore_pull, key, out, "pull", int(priority))

    def set_optimizer(self, optimizer):
        """Pushes update the stored values with `optimizer` (an mx.optimizer.Optimizer)."""
        check_call(lib.mx_kvstore_set_optimizer(self.handle, optimizer.handle))
        self._optimizer = optimizer

    @property
    def type(self):
        out = ctypes.c_char_p()
        check_call(lib.mx_kvstore_get_type(self.handle, ctypes.byref(out)))
        return py_str(out.value)

    @property
    def rank(self):
        out = ctypes.c_int32()
        check_call(lib.mx_kvstore_get_rank(self.handle, ctypes.byref(out)))
        return out.value

    @property
    def num_workers(self):
        out = ctypes.c_int32()
        check_call(lib.mx_kvstore_get_num_workers(self.handle, ctypes.byref(out)))
        return out.value


def create(name="local"):
    """A store of type `name`: 'local', 'device', 'dist_sync' or 'dist_device_sync' (the last
    two need a libmx built with MPI)."""
    if not isinstance(name, str):
        raise MXError("kvstore type must be a str, got %s" % type(name).__name__)
    handle = KVStoreHandle()
    check_call(lib.mx_kvstore_create(c_str(name), ctypes.byref(handle)))
    return KVStore(handle)
