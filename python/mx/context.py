"""Devices: mx.cpu(), mx.gpu(), mx.Context, and the default device of a `with` block."""
import ctypes
import threading

from . import _capi
from .base import check_call, lib, py_str

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus"]


class Context:
    """A device: ``Context('cpu', 0)``, ``Context('gpu', 1)`` or a copy of another Context.

    Creating one never fails for a missing device: the library reports that (MXError) when
    an array or executor is placed there. ``with ctx:`` makes it the default device of the
    arrays created inside the block (on this thread).
    """

    devtype2str = {_capi.MX_CPU: "cpu", _capi.MX_GPU: "gpu", _capi.MX_CPU_PINNED: "cpu_pinned"}
    devstr2type = {v: k for k, v in devtype2str.items()}
    _state = threading.local()

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            self.device_typeid, self.device_id = device_type.device_typeid, device_type.device_id
            return
        if isinstance(device_type, int):
            self.device_typeid = device_type
        elif device_type in self.devstr2type:
            self.device_typeid = self.devstr2type[device_type]
        else:
            from .base import MXError
            raise MXError("unknown device type %r: expected 'cpu', 'gpu' or 'cpu_pinned'"
                          % (device_type,))
        self.device_id = int(device_id)

    @property
    def device_type(self):
        return self.devtype2str.get(self.device_typeid, "unknown")

    def as_c(self):
        return _capi.Context(self.device_typeid, self.device_id)

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_typeid == other.device_typeid and
                self.device_id == other.device_id)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __str__(self):
        buf = ctypes.create_string_buffer(64)
        check_call(lib.mx_context_to_string(self.as_c(), buf, len(buf)))
        return py_str(buf.value)

    __repr__ = __str__

    def __enter__(self):
        stack = Context._stack()
        stack.append(self)
        return self

    def __exit__(self, *exc):
        Context._stack().pop()

    @staticmethod
    def _stack():
        if not hasattr(Context._state, "stack"):
            Context._state.stack = []
        return Context._state.stack

    @classmethod
    def default_ctx(cls):
        stack = cls._stack()
        return stack[-1] if stack else Context("cpu", 0)


def cpu(device_id=0):
    """The CPU (device_id only distinguishes contexts, e.g. for data parallelism)."""
    return Context("cpu", device_id)


def gpu(device_id=0):
    """GPU `device_id`."""
    return Context("gpu", device_id)


def cpu_pinned(device_id=0):
    """Page-locked host memory (for fast copies to a GPU)."""
    return Context("cpu_pinned", device_id)


def current_context():
    """The default device: the innermost ``with ctx:`` block's, else cpu(0)."""
    return Context.default_ctx()


def num_gpus():
    """Number of usable GPUs (0 in a build without CUDA)."""
    n = ctypes.c_int32()
    check_call(lib.mx_gpu_count(ctypes.byref(n)))
    return n.value
