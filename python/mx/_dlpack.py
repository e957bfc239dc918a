"""DLPack's structs in ctypes, and the "dltensor" capsules of the Python DLPack protocol.

The C ABI hands out and takes ``DLManagedTensor*`` (``mx_ndarray_to_dlpack``,
``mx_ndarray_from_dlpack``); Python frameworks exchange that pointer inside a PyCapsule named
``"dltensor"``, which the consumer renames to ``"used_dltensor"`` when it takes ownership
(https://dmlc.github.io/dlpack/latest/python_spec.html). Making and consuming capsules needs the
CPython API, reached here through ``ctypes.pythonapi``'s library (no C extension). The struct
layout is the legacy unversioned one (the same from DLPack 0.6 to 1.x), as the vendored
``third_party/dlpack/include/dlpack/dlpack.h`` declares it.
"""
import ctypes
from ctypes import POINTER, c_char_p, c_int, c_int64, c_uint8, c_uint16, c_uint64, c_void_p

# DLDeviceType values the binding names (DLPack's numbering, shared with MX_CPU / MX_GPU).
KDLCPU, KDLCUDA = 1, 2


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", c_int), ("device_id", c_int)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", c_void_p), ("device", DLDevice), ("ndim", c_int), ("dtype", DLDataType),
                ("shape", POINTER(c_int64)), ("strides", POINTER(c_int64)),
                ("byte_offset", c_uint64)]


DELETER = ctypes.CFUNCTYPE(None, c_void_p)


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", c_void_p), ("deleter", DELETER)]


def _leak(obj):
    # Capsules keep a pointer to their name and their destructor, and may outlive this module
    # (a capsule still referenced at interpreter exit): both must never be freed.
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    return obj


_DLTENSOR = _leak(ctypes.create_string_buffer(b"dltensor"))
_USED_DLTENSOR = _leak(ctypes.create_string_buffer(b"used_dltensor"))

# A private view of the CPython API (ctypes.pythonapi's handle): the argument types set below
# must not change the shared ctypes.pythonapi function objects other code in the process uses.
_py = ctypes.PyDLL(ctypes.pythonapi._name, handle=ctypes.pythonapi._handle)


def _api(name, restype, argtypes):
    fn = _py._FuncPtr((name, _py))
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_capsule_new = _api("PyCapsule_New", ctypes.py_object, [c_void_p, c_char_p, c_void_p])
_capsule_is_valid = _api("PyCapsule_IsValid", c_int, [ctypes.py_object, c_char_p])
_capsule_get_pointer = _api("PyCapsule_GetPointer", c_void_p, [ctypes.py_object, c_char_p])
_capsule_set_name = _api("PyCapsule_SetName", c_int, [ctypes.py_object, c_char_p])
# The destructor receives the dying capsule's address: passed on as an address, it is never
# turned into a Python reference (its reference count is already zero).
_raw_is_valid = _api("PyCapsule_IsValid", c_int, [c_void_p, c_char_p])
_raw_get_pointer = _api("PyCapsule_GetPointer", c_void_p, [c_void_p, c_char_p])


def call_deleter(ptr):
    """Calls the deleter of the DLManagedTensor at address `ptr` (if it has one)."""
    managed = DLManagedTensor.from_address(ptr)
    if managed.deleter:
        managed.deleter(ptr)


@ctypes.CFUNCTYPE(None, c_void_p)
def _capsule_destructor(capsule, _is_valid=_raw_is_valid, _get=_raw_get_pointer,
                        _name=_DLTENSOR, _release=call_deleter):
    # A capsule still named "dltensor" was never consumed: the tensor is still ours to release.
    # A consumer renamed it "used_dltensor" and calls the deleter itself. (Defaults, not
    # globals: the destructor may run while the interpreter tears this module down.)
    if _is_valid(capsule, _name):
        _release(_get(capsule, _name))


_leak(_capsule_destructor)
_DESTRUCTOR_ADDRESS = ctypes.cast(_capsule_destructor, c_void_p).value


def new_capsule(ptr):
    """A "dltensor" capsule owning the DLManagedTensor at `ptr`: its deleter runs when the
    capsule goes unconsumed; a consumer that renames it takes over."""
    try:
        return _capsule_new(ptr, _DLTENSOR, _DESTRUCTOR_ADDRESS)
    except BaseException:
        call_deleter(ptr)
        raise


def is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def capsule_pointer(capsule):
    """The DLManagedTensor of an unconsumed "dltensor" capsule, or None."""
    if not _capsule_is_valid(capsule, _DLTENSOR):
        return None
    return _capsule_get_pointer(capsule, _DLTENSOR)


def mark_consumed(capsule):
    """Renames the capsule "used_dltensor": its producer's destructor then leaves the tensor to
    the consumer, who has taken ownership."""
    _capsule_set_name(capsule, _USED_DLTENSOR)
