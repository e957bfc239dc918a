"""Loading libmx, errors, and the small ctypes helpers every module uses.

The binding speaks to the library only through ``include/mx/c_api.h``: the prototypes are in
``_capi.py``, and this module finds and loads ``libmx.so``, turns a failed status into
:class:`MXError` carrying the library's own message, and converts strings and lists.

The library is looked for, in order:

1. ``$MX_LIBRARY_PATH`` (a file, or a directory holding ``libmx.so``);
2. next to this package (``mx/libmx.so``, where an installed wheel keeps it);
3. the build tree of the checkout this package lives in (``<repo>/build/libmx.so``);
4. the system's search path (an installed libmx: ``cmake --install``).
"""
import atexit
import ctypes
import os
import threading
import types

__all__ = ["MXError", "check_call", "find_lib_path", "c_str", "py_str", "c_str_array",
           "c_array", "c_handle_array", "lib", "py_str_list"]


class MXError(Exception):
    """A failure reported by libmx (or by the binding on its behalf).

    ``str(e)`` is the library's message; ``e.status`` the C ABI's status code (``MX_ERR_*``,
    0 when the binding itself rejected the call before reaching the library) and
    ``e.code`` its name (``"invalid_argument"``, ``"not_found"``, ...).
    """

    CODES = {0: "binding", 1: "invalid_argument", 2: "out_of_memory", 3: "not_found", 4: "io",
             5: "unsupported", 6: "internal", 7: "failed"}

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status
        self.code = self.CODES.get(status, "unknown")


def find_lib_path():
    """The candidate paths of libmx.so, most specific first (see the module's doc)."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = []
    env = os.environ.get("MX_LIBRARY_PATH")
    if env:
        paths.append(os.path.join(env, "libmx.so") if os.path.isdir(env) else env)
    paths.append(os.path.join(here, "libmx.so"))
    paths.append(os.path.join(os.path.dirname(os.path.dirname(here)), "build", "libmx.so"))
    return paths


def _load_lib():
    env = os.environ.get("MX_LIBRARY_PATH")
    tried = []
    for i, path in enumerate(find_lib_path()):
        if not os.path.exists(path):
            if i == 0 and env:
                # An explicit request that cannot be honoured is an error, not a fallback.
                raise MXError("MX_LIBRARY_PATH is %r, but %s does not exist" % (env, path))
            tried.append(path)
            continue
        return ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
    for name in ("libmx.so", "libmx.so.0"):
        try:
            return ctypes.CDLL(name, mode=ctypes.RTLD_LOCAL)
        except OSError:
            tried.append(name + " (system search path)")
    raise MXError("cannot find libmx.so; tried: %s. Build it (cmake --build build) or set "
                  "MX_LIBRARY_PATH" % ", ".join(tried))


lib = _load_lib()

from . import _capi  # noqa: E402  (needs `lib`)

_missing = _capi.declare(lib)
if _missing:
    raise MXError("%s is older than this binding: it lacks %s; rebuild it from this checkout or "
                  "point MX_LIBRARY_PATH at a newer one" % (lib._name, ", ".join(_missing)))

# The ABI this binding was written against: the same major version is required, since the
# ABI is append-only within one.
ABI_MAJOR = 0
_version = lib.mx_get_version()
if _version // 10000 != ABI_MAJOR:
    raise MXError("libmx %s has ABI major version %d; this binding needs %d"
                  % (lib.mx_get_version_string().decode(), _version // 10000, ABI_MAJOR))
__version__ = lib.mx_get_version_string().decode()


# The hot paths' unchecked entry points (see _capi.unchecked: every argument exactly typed).
raw = types.SimpleNamespace(**_capi.unchecked(lib, (
    "mx_op_invoke", "mx_op_invoke_into", "mx_ndarray_free", "mx_ndarray_slice", "mx_ndarray_at",
    "mx_ndarray_copy_to_host", "mx_ndarray_get_dtype")))


def _load_fast():
    """mx._fast (python/mx/_fast.c), the binding's hot paths in C, built next to the loaded
    libmx.so (or installed next to this package); None where it is not there, or when
    MX_PY_FAST=0 asks for the pure-ctypes binding. One that is there but fails to load is an
    error: it was built for this Python (its name says so), so something is broken; so is a
    missing one under MX_PY_FAST=1 (the tests set it: the extension must be what they test)."""
    setting = os.environ.get("MX_PY_FAST", "")
    if setting == "0":
        return None
    import importlib.machinery
    import importlib.util
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (os.path.dirname(lib._name), here):
        path = os.path.join(folder, "_fast" + suffix)
        if folder and os.path.exists(path):
            spec = importlib.util.spec_from_file_location("mx._fast", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    if setting == "1":
        raise MXError("MX_PY_FAST=1, but mx._fast (_fast%s) is neither next to %s nor in %s; "
                      "build it (cmake --build build: target mx_python_fast, which needs "
                      "python3-dev) or unset MX_PY_FAST" % (suffix, lib._name, here))
    return None


# None: the pure-ctypes binding (mx.ndarray picks its classes from this).
fast = _load_fast()


def check_call(status):
    """Raises MXError with the library's message when `status` is not MX_OK."""
    if status != 0:
        raise MXError(py_str(lib.mx_get_last_error()), status)


def c_str(s):
    """A Python string as a NUL-terminated UTF-8 byte string (None stays NULL)."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8")


def py_str(b):
    """A C string (bytes or None) as a Python string."""
    return "" if b is None else b.decode("utf-8", errors="replace")


def py_str_list(ptr, n):
    """`n` C strings at `ptr` as a list of Python strings (copied: the C list is borrowed)."""
    return [py_str(ptr[i]) for i in range(n)]


def c_str_array(strings):
    """A `const char* const*` for a list of Python strings."""
    arr = (ctypes.c_char_p * len(strings))()
    arr[:] = [c_str(s) for s in strings]
    return arr


def c_array(ctype, values):
    """A C array of `ctype` holding `values`."""
    arr = (ctype * len(values))()
    arr[:] = list(values)
    return arr


def c_handle_array(objects, handle_type=ctypes.c_void_p):
    """An array of the handles of `objects` (each with a `.handle`; None stays NULL)."""
    arr = (handle_type * len(objects))()
    for i, o in enumerate(objects):
        arr[i] = None if o is None else o.handle
    return arr


# Set while Python code runs on an engine thread (an executor's monitor callback). Freeing an
# executor or a data iterator waits for engine work, so one collected there (the callback's
# allocations may run the garbage collector) is freed later, from an ordinary thread, by the
# next free_deferred(), instead of deadlocking the engine.
in_engine_callback = threading.local()
_deferred_frees = []


def free_later_if_in_callback(free, handle, keep_alive=None):
    """Calls free(handle) now, or queues it when running inside an engine callback, keeping
    `keep_alive` (e.g. the ctypes callback the handle still uses) until then."""
    if getattr(in_engine_callback, "active", False):
        _deferred_frees.append((free, handle, keep_alive))
    else:
        free(handle)


def free_deferred():
    """Frees what free_later_if_in_callback queued (cheap when nothing is queued)."""
    while _deferred_frees and not getattr(in_engine_callback, "active", False):
        free, handle, _ = _deferred_frees.pop()
        free(handle)


def _wait_at_exit():
    # Work still queued at interpreter exit may call back into Python (executor monitors);
    # finishing it while the interpreter is whole avoids running Python code during teardown.
    # Its errors were the program's to read; they are not reported twice here.
    try:
        lib.mx_engine_wait_all()
    except Exception:  # pragma: no cover - best effort during shutdown
        pass


atexit.register(_wait_at_exit)
