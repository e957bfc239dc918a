"""mx.nd: lazy n-dimensional arrays on a device.

Every operation pushes work to the library's dependency engine and returns at once; reading
values (``asnumpy``, ``asscalar``, ``wait_to_read``, ``mx.nd.waitall``) blocks, and that is
where an error of the asynchronous work surfaces, as an :class:`mx.MXError`.

Besides the functions below, every operator the library registers is a function here,
generated from the C ABI's op list (``mx.nd.FullyConnected``, ``mx.nd.softmax``, ...), with the
operator's documentation as its docstring. Internal operators live in ``mx.nd._internal``.

    >>> a = mx.nd.ones((2, 3))
    >>> b = (a * 2 + 1).T          # lazy
    >>> b.asnumpy()                # blocks
    array([[3., 3.], [3., 3.], [3., 3.]], dtype=float32)
"""
import builtins
import ctypes
import numbers
import sys
import types

import numpy as np

from . import _capi, _dlpack, _ops
from ._capi import NDArrayHandle
from .base import (MXError, c_handle_array, c_str, c_str_array, check_call, fast, lib, py_str,
                   raw)
from .context import Context, current_context

__all__ = ["NDArray", "array", "empty", "zeros", "ones", "full", "arange", "save", "load",
           "waitall", "concatenate", "concat", "maximum", "minimum", "add", "subtract",
           "multiply", "divide", "power", "as_shape", "dtype_code", "dtype_name", "np_dtype",
           "host_array", "invoke", "from_dlpack"]

_internal = types.ModuleType("mx.nd._internal", "Every registered operator, hidden ones included.")
_code_of_name = {}
_np_of_code = {}


def dtype_name(dtype):
    """The numpy name ('float32', ...) of a dtype, type or name; MXError if it is none."""
    try:
        return np.dtype(dtype).name
    except (TypeError, ValueError) as e:
        raise MXError("%r is not a data type: %s" % (dtype, e)) from None


def host_array(value, dtype):
    """`value` (numpy array, nested lists, number) as a C-contiguous numpy array of `dtype`."""
    try:
        return np.ascontiguousarray(np.asarray(value, dtype=dtype_name(dtype)))
    except (TypeError, ValueError) as e:
        raise MXError("cannot convert %s to an array of %s: %s"
                      % (type(value).__name__, dtype_name(dtype), e)) from None


def dtype_code(dtype):
    """The library's MX_DTYPE_* code of a numpy dtype, type or name (asks the library)."""
    name = dtype_name(dtype)
    code = _code_of_name.get(name)
    if code is None:
        c = ctypes.c_int32()
        check_call(lib.mx_dtype_from_name(c_str(name), ctypes.byref(c)))
        code = _code_of_name[name] = c.value
    return code


def np_dtype(code):
    """The numpy type (np.float32, ...) of an MX_DTYPE_* code."""
    t = _np_of_code.get(code)
    if t is None:
        name = ctypes.c_char_p()
        check_call(lib.mx_dtype_name(code, ctypes.byref(name)))
        t = _np_of_code[code] = np.dtype(py_str(name.value)).type
    return t


def _new_handle():
    return NDArrayHandle()


# ---- the per-op path: what one small op costs in Python is mostly here (bench/op_latency_py.py)

_raw = raw
_byref = ctypes.byref
_c_int32 = ctypes.c_int32
_c_int64 = ctypes.c_int64
_c_size_t = ctypes.c_size_t
_np_empty = np.empty
_c_char_at = ctypes.c_char.from_buffer  # the first byte of a numpy array, to pass its address
_out_list_type = ctypes.POINTER(ctypes.c_void_p)  # mx_op_invoke's outputs, read as plain ints
_handle_array_types = [NDArrayHandle * n for n in range(9)]
_H1, _H2 = _handle_array_types[1], _handle_array_types[2]
# Indices and byte counts 0..1023 as c_int64 / c_size_t, made once (~70 ns each per call
# otherwise). Passed by value and never written, so every thread may share them.
_small_int64 = [ctypes.c_int64(i) for i in range(1024)]
_small_size_t = [ctypes.c_size_t(i) for i in range(1024)]


def _int64(i):
    return _small_int64[i] if 0 <= i < 1024 else _c_int64(i)


# A one-element array's value is read into a ctypes scalar of its type, then made the numpy
# scalar asscalar returns (cheaper than a 0-d numpy array as the target).
_ctypes_of_dtype = {np.dtype(t).type: c for t, c in (
    ("float32", ctypes.c_float), ("float64", ctypes.c_double), ("int8", ctypes.c_int8),
    ("uint8", ctypes.c_uint8), ("int32", ctypes.c_int32), ("int64", ctypes.c_int64))}
# op name -> its bytes, and a call's string parameters -> (count, keys, values) as the C arrays
# mx_op_invoke reads (read-only there, so one set serves every thread). Both bounded: a program
# using ever new scalars (`a * x` for many x) refills them rather than growing them.
_name_bytes = {}
_param_arrays = {}
_CACHE_LIMIT = 4096


def _handle_array(arrays, what):
    """The handles of `arrays` (NDArrays; None stays NULL) as a new C array. A new one per call:
    a shared one could be overwritten by another thread (or by a callback on this one) while
    the library reads it."""
    n = len(arrays)
    try:
        if n == 2:  # the common arities without a list in between
            return _H2(arrays[0].handle, arrays[1].handle)
        if n == 1:
            return _H1(arrays[0].handle)
    except AttributeError:
        pass  # a None (NULL) or a wrong object: sorted out below
    try:
        handles = [None if a is None else a.handle for a in arrays]
    except AttributeError:
        bad = next(a for a in arrays if a is not None and not hasattr(a, "handle"))
        raise MXError("%s: expected NDArrays, got %s" % (what, type(bad).__name__)) from None
    return (_handle_array_types[n] if n < 9 else NDArrayHandle * n)(*handles)


def _c_params(params):
    """(count, keys, values) of a dict of string parameters as C arrays, cached when every key
    and value is a str (equal tuples of strs are the same strings; 1 and True, say, are not)."""
    items = tuple(params.items())
    try:
        hit = _param_arrays.get(items)
    except TypeError:  # an unhashable value: formatted below, not cached
        hit = None
    if hit is not None:
        return hit
    n = len(items)
    keys = (ctypes.c_char_p * n)(*[c_str(k) for k, _ in items])
    vals = (ctypes.c_char_p * n)(*[c_str(v) for _, v in items])
    hit = (n, keys, vals)
    if builtins.all(type(k) is str and type(v) is str for k, v in items):
        if len(_param_arrays) >= _CACHE_LIMIT:
            _param_arrays.clear()
        _param_arrays[items] = hit
    return hit


def _py_invoke(op_name, inputs, params=None, out=None):
    """Runs operator `op_name` on NDArrays `inputs` with string `params`; returns one NDArray,
    a list for several outputs, or `out` (an NDArray or list the results are written into).
    (mx._fast.invoke does the same in C, and calls this for every case it does not take.)"""
    try:
        name = _name_bytes[op_name]
    except KeyError:
        name = c_str(op_name)
        if len(_name_bytes) >= _CACHE_LIMIT:
            _name_bytes.clear()
        _name_bytes[op_name] = name
    except TypeError:  # not a str: the library names what it got
        name = c_str(op_name)
    cin = _handle_array(inputs, op_name)
    if params:
        n_params, ckeys, cvals = _c_params(params)
    else:
        n_params, ckeys, cvals = 0, None, None
    if out is not None:
        if type(out) is NDArray and out.writable:
            n_out, couts = 1, _H1(out.handle)
        else:
            outs = out if isinstance(out, (list, tuple)) else (out,)
            for o in outs:
                if not isinstance(o, NDArray):
                    raise MXError("%s: out must be an NDArray or a list of them, got %s"
                                  % (op_name, type(o).__name__))
                o._check_writable()
            n_out, couts = len(outs), _handle_array(outs, op_name)
        status = _raw.mx_op_invoke_into(name, len(cin), cin, n_params, ckeys, cvals, n_out, couts)
        if status:
            check_call(status)
        return out
    n = _c_int32()
    handles = _out_list_type()
    status = _raw.mx_op_invoke(name, len(cin), cin, n_params, ckeys, cvals, _byref(n),
                               _byref(handles))
    if status:
        check_call(status)
    # The list is the library's (valid until this thread's next invoke); each handle is ours.
    if n.value == 1:
        return _wrap(NDArrayHandle(handles[0]))
    return [_wrap(NDArrayHandle(handles[i])) for i in range(n.value)]


def as_shape(shape):
    """A shape (an int or a sequence of ints) as a tuple; MXError otherwise (the library checks
    the values)."""
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not builtins.all(isinstance(d, numbers.Integral) for d in dims):
        raise MXError("a shape must be an int or a sequence of ints, got %r" % (shape,))
    return tuple(int(d) for d in dims)


class _PyBase:
    """What mx._fast.NDArrayBase does in C (python/mx/_fast.c), in Python: NDArray's base class
    without the extension (MX_PY_FAST=0), and the fallback the extension hands every case it
    does not take itself (so both behave the same, messages included)."""

    # Slots: no per-object dict, and wrapping a result (_wrap) is five stores. An array's shape
    # and type never change, so both are read from the library once.
    __slots__ = ("handle", "writable", "_shape", "_dtype", "_view_of", "__weakref__")

    def __init__(self, handle, writable=True):
        if handle is not None and not isinstance(handle, NDArrayHandle):
            handle = NDArrayHandle(handle)
        self.handle = handle
        self.writable = writable
        self._shape = None
        self._dtype = None
        self._view_of = None

    def __del__(self, _free=raw.mx_ndarray_free):
        try:
            handle = self.handle
        except AttributeError:  # __init__ never ran
            return
        if handle is not None:
            _free(handle)

    def asnumpy(self):
        """The values as a new numpy array. Blocks until they are computed."""
        shape = self._shape
        if shape is None or self.handle is None:
            shape = self.shape
        return self._to_host(shape)

    def asscalar(self):
        """The value of a one-element array as a Python/numpy scalar."""
        if self.size != 1:
            raise MXError("asscalar: the array has shape %s, not exactly one element"
                          % (self.shape,))
        t = self.dtype
        c = _ctypes_of_dtype.get(t)
        if c is None:  # float16, ...: no ctypes type of that width
            return self._to_host(())[()]
        value = c()
        status = _raw.mx_ndarray_copy_to_host(self.handle, _byref(value),
                                              _small_size_t[ctypes.sizeof(c)])
        if status:
            check_call(status)
        return t(value.value)

    def __getitem__(self, key):
        # Exact types first: the numbers.Integral test is an ABC check, slow for a slice.
        cls = type(key)
        if cls is slice:
            if key.step is not None and key.step != 1:
                raise MXError("NDArray slicing supports step 1 only, got step %r" % (key.step,))
            if key.start is None and key.stop is None:
                return self
            shape = self._shape
            if shape is None or self.handle is None:
                shape = self.shape
            if not shape:
                raise MXError("len() of a 0-d NDArray")
            start, stop, _ = key.indices(shape[0])
            if stop < start:
                stop = start
            view = NDArrayHandle()
            status = _raw.mx_ndarray_slice(
                self.handle, _small_int64[start] if start < 1024 else _c_int64(start),
                _small_int64[stop] if stop < 1024 else _c_int64(stop), _byref(view))
            if status:
                check_call(status)
            result = _new_object(NDArray)  # _wrap, inlined
            result.handle = view
            result.writable = self.writable
            result._shape = result._dtype = None
            result._view_of = (self, start, stop)
            return result
        if cls is int or isinstance(key, numbers.Integral):
            return self._index(int(key))
        if isinstance(key, tuple) and builtins.all(isinstance(k, numbers.Integral) for k in key):
            result = self
            for k in key:
                result = result._index(int(k))
            return result
        if key is Ellipsis:
            return self
        raise MXError("NDArray indexing takes an int, a slice of the first axis or a tuple of "
                      "ints (views), got %r" % (key,))

    def __add__(self, other):
        return _binary(self, other, "elemwise_add", "broadcast_add", "_plus_scalar")

    __radd__ = __add__

    def __sub__(self, other):
        return _binary(self, other, "elemwise_sub", "broadcast_sub", "_minus_scalar")

    def __rsub__(self, other):
        return _binary(self, other, None, None, "_rminus_scalar")

    def __mul__(self, other):
        return _binary(self, other, "elemwise_mul", "broadcast_mul", "_mul_scalar")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _binary(self, other, "elemwise_div", "broadcast_div", "_div_scalar")

    def __rtruediv__(self, other):
        return _binary(self, other, None, None, "_rdiv_scalar")


_Base = fast.NDArrayBase if fast is not None else _PyBase


class NDArray(_Base):
    """A lazy array: a handle to the library's array, released when the object goes.

    Views (``a[1:3]``, ``a[0]``, ``a.reshape(...)``) share memory with the array they come
    from. ``free()`` releases the handle early; any later use is an MXError, never a crash.
    """

    __slots__ = ()  # the base class has them (_PyBase's list, or mx._fast.NDArrayBase's)
    # Makes numpy hand `np_array + nd` to NDArray.__radd__ instead of converting us.
    __array_priority__ = 1000.0

    def free(self):
        """Releases the handle now (the memory is reused once pending work is done)."""
        handle, self.handle = self.handle, None
        if handle is not None:
            check_call(lib.mx_ndarray_free(handle))

    def __reduce__(self):
        return (_rebuild, (self.asnumpy(), self.context.device_type, self.context.device_id))

    # ---- properties ---------------------------------------------------------------------------

    @property
    def shape(self):
        if self._shape is None or self.handle is None:
            ndim = ctypes.c_int32()
            dims = ctypes.POINTER(ctypes.c_int64)()
            check_call(lib.mx_ndarray_get_shape(self.handle, ctypes.byref(ndim),
                                                ctypes.byref(dims)))
            self._shape = tuple(dims[i] for i in range(ndim.value))
        return self._shape

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        if self._dtype is None or self.handle is None:
            code = _c_int32()
            check_call(_raw.mx_ndarray_get_dtype(self.handle, _byref(code)))
            self._dtype = np_dtype(code.value)
        return self._dtype

    @property
    def context(self):
        c = _capi.Context()
        check_call(lib.mx_ndarray_get_context(self.handle, ctypes.byref(c)))
        return Context(c.device_type, c.device_id)

    ctx = context

    @property
    def T(self):
        return invoke("transpose", [self])

    def __len__(self):
        if not self.shape:
            raise MXError("len() of a 0-d NDArray")
        return self.shape[0]

    def __repr__(self):
        shape = "x".join(str(d) for d in self.shape)
        return "\n%s\n<NDArray %s @%s>" % (self.asnumpy(), shape, self.context)

    # ---- reading and copying ------------------------------------------------------------------

    def _to_host(self, shape):
        dtype = self._dtype
        if dtype is None or self.handle is None:
            dtype = self.dtype
        out = _np_empty(shape, dtype)
        nbytes = out.nbytes
        # byref(c_char.from_buffer(out)) is out's address at a third of out.ctypes.data's cost.
        status = _raw.mx_ndarray_copy_to_host(self.handle,
                                              _byref(_c_char_at(out)) if nbytes else None,
                                              _small_size_t[nbytes] if nbytes < 1024
                                              else _c_size_t(nbytes))
        if status:
            check_call(status)
        return out

    def __array__(self, dtype=None):
        a = self.asnumpy()
        return a if dtype is None else a.astype(dtype)

    def __bool__(self):
        if self.size == 0:
            return False
        if self.size == 1:
            return bool(self.asscalar())
        raise MXError("the truth value of an NDArray with %d elements is ambiguous" % self.size)

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    # ---- DLPack: zero-copy exchange with numpy, PyTorch, ... (docs/python.md) ------------------

    def __dlpack__(self, stream=None):
        """A "dltensor" capsule sharing this array's memory (the DLPack protocol; consumers such
        as ``numpy.from_dlpack`` and ``torch.utils.dlpack.from_dlpack`` call it).

        Blocks until every op pushed on the array so far has run (and raises its error), so the
        memory is ready for any consumer and any CUDA stream: `stream` (None or an int, as the
        protocol passes it) needs no further synchronisation and is accepted as is. The
        consumer shares the memory: ops pushed on this array later write into it, so wait
        (``wait_to_read`` / ``wait_to_write``) before the other side touches it again."""
        if stream is not None and not isinstance(stream, numbers.Integral):
            raise MXError("__dlpack__: stream must be None or an int, got %s"
                          % type(stream).__name__)
        ptr = ctypes.c_void_p()
        check_call(lib.mx_ndarray_to_dlpack(self.handle, ctypes.byref(ptr)))
        return _dlpack.new_capsule(ptr.value)

    def __dlpack_device__(self):
        """(device type, device id) in DLPack's numbering: (1, 0) for host memory (cpu and
        cpu_pinned), (2, n) for gpu(n)."""
        ctx = self.context
        if ctx.device_type == "gpu":
            return (_dlpack.KDLCUDA, ctx.device_id)
        return (_dlpack.KDLCPU, 0)

    def wait_to_read(self):
        """Blocks until pending writes are done; raises their error, if any."""
        check_call(lib.mx_ndarray_wait_to_read(self.handle))

    def wait_to_write(self):
        check_call(lib.mx_ndarray_wait_to_write(self.handle))

    def copy(self):
        """A new array with the same values (lazy)."""
        return self.copyto(self.context)

    def copyto(self, other):
        """Copies into `other`: an NDArray (returned) or a Context (a new array there)."""
        if isinstance(other, Context):
            target = empty(self.shape, other, self.dtype)
        elif isinstance(other, NDArray):
            target = other
            if target.handle is not None and target.handle.value == self.handle.value:
                return target
            target._check_writable()
        else:
            raise MXError("copyto: expected an NDArray or a Context, got %s"
                          % type(other).__name__)
        check_call(lib.mx_ndarray_copy_to(self.handle, target.handle))
        return target

    def as_in_context(self, ctx):
        """This array if it is on `ctx`, else a copy there."""
        return self if self.context == ctx else self.copyto(ctx)

    def astype(self, dtype, copy=True):
        """The values converted to `dtype` (lazy)."""
        if not copy and dtype_name(dtype) == dtype_name(self.dtype):
            return self
        return invoke("Cast", [self], {"dtype": dtype_name(dtype)})

    def reshape(self, *shape, **kwargs):
        """A view with another shape of the same size; one dim may be -1."""
        if "shape" in kwargs:
            shape = kwargs.pop("shape")
        elif len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = shape[0]
        if kwargs:
            raise MXError("reshape: unknown arguments %s" % ", ".join(kwargs))
        shape = as_shape(shape)
        view = _new_handle()
        check_call(lib.mx_ndarray_reshape(self.handle, (ctypes.c_int64 * len(shape))(*shape),
                                          len(shape), ctypes.byref(view)))
        return NDArray(view, self.writable)

    # ---- indexing: views along the first axis -------------------------------------------------

    def _index(self, i):
        n = len(self)
        if i < 0:
            i += n
        view = NDArrayHandle()
        status = _raw.mx_ndarray_at(self.handle, _int64(i), _byref(view))
        if status:
            check_call(status)
        return _wrap(view, self.writable)

    def __setitem__(self, key, value):
        self._check_writable()
        target = self[key]
        if isinstance(value, NDArray):
            if value is target or _same_view(value, target):
                return  # `a[1:3] += x` already wrote in place
            if value.shape != target.shape:
                if value.ndim < target.ndim:  # numpy's rule: missing leading axes are 1
                    value = value.reshape((1,) * (target.ndim - value.ndim) + value.shape)
                value = invoke("broadcast_to", [value], {"shape": _ops.param_str(target.shape)})
            check_call(lib.mx_ndarray_copy_to(value.handle, target.handle))
        elif isinstance(value, (numbers.Number, np.generic)) and np.ndim(value) == 0:
            invoke("_full", [], {"shape": _ops.param_str(target.shape),
                                 "value": _ops.param_str(float(value)),
                                 "dtype": dtype_name(target.dtype),
                                 "ctx": str(target.context)}, out=target)
        else:
            src = host_array(value, target.dtype)
            if src.shape != target.shape:
                try:
                    src = np.broadcast_to(src, target.shape)
                except ValueError:
                    raise MXError("cannot assign an array of shape %s to an NDArray (view) of "
                                  "shape %s" % (src.shape, target.shape)) from None
            src = np.ascontiguousarray(src)
            check_call(lib.mx_ndarray_copy_from_host(target.handle,
                                                     src.ctypes.data_as(ctypes.c_void_p),
                                                     src.nbytes))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _check_writable(self):
        if not self.writable:
            raise MXError("this NDArray is read-only")

    # ---- arithmetic ---------------------------------------------------------------------------

    def __pow__(self, other):
        return _binary(self, other, "_power", "broadcast_power", "_power_scalar")

    def __rpow__(self, other):
        return _binary(self, other, None, None, "_rpower_scalar")

    def __neg__(self):
        return invoke("negative", [self])

    def __pos__(self):
        return self

    def __abs__(self):
        return invoke("abs", [self])

    def __iadd__(self, other):
        return _binary(self, other, "elemwise_add", "broadcast_add", "_plus_scalar", out=self)

    def __isub__(self, other):
        return _binary(self, other, "elemwise_sub", "broadcast_sub", "_minus_scalar", out=self)

    def __imul__(self, other):
        return _binary(self, other, "elemwise_mul", "broadcast_mul", "_mul_scalar", out=self)

    def __itruediv__(self, other):
        return _binary(self, other, "elemwise_div", "broadcast_div", "_div_scalar", out=self)

    # Elementwise comparisons give 0/1 arrays (of this array's type), as MXNet's do.
    def __eq__(self, other):
        if other is None:
            return False
        return _binary(self, other, "_equal", "broadcast_equal", "_equal_scalar")

    def __ne__(self, other):
        if other is None:
            return True
        return _binary(self, other, "_not_equal", "broadcast_not_equal", "_not_equal_scalar")

    def __gt__(self, other):
        return _binary(self, other, "_greater", "broadcast_greater", "_greater_scalar")

    def __ge__(self, other):
        return _binary(self, other, "_greater_equal", "broadcast_greater_equal",
                       "_greater_equal_scalar")

    def __lt__(self, other):
        return _binary(self, other, "_lesser", "broadcast_lesser", "_lesser_scalar")

    def __le__(self, other):
        return _binary(self, other, "_lesser_equal", "broadcast_lesser_equal",
                       "_lesser_equal_scalar")

    __hash__ = object.__hash__


_new_object = NDArray.__new__  # called as _new_object(NDArray): object's, or the C base's
if fast is not None:
    fast.setup({name: ctypes.cast(getattr(lib, name), ctypes.c_void_p).value for name in (
        "mx_op_invoke", "mx_op_invoke_into", "mx_ndarray_free", "mx_ndarray_slice",
        "mx_ndarray_at", "mx_ndarray_get_shape", "mx_ndarray_get_dtype",
        "mx_ndarray_copy_to_host")}, NDArrayHandle, check_call, np_dtype)
    fast.set_class(NDArray, _PyBase, _py_invoke)
    invoke = fast.invoke
else:
    invoke = _py_invoke


def _wrap(handle, writable=True):
    """NDArray(handle, writable) for a handle object the library just gave us (no checks)."""
    a = _new_object(NDArray)
    a.handle = handle
    a.writable = writable
    a._shape = None
    a._dtype = None
    a._view_of = None
    return a


def _binary(lhs, rhs, elem_op, bcast_op, scalar_op, out=None):
    """lhs (an NDArray) op rhs: an NDArray (elementwise when the shapes agree, else
    broadcasting) or a number (the scalar op; the reversed ops pass elem_op None)."""
    if isinstance(rhs, NDArray):
        if elem_op is None:  # reflected op with an NDArray on the left: not reached normally
            raise MXError("unsupported operand order")
        op = elem_op if lhs.shape == rhs.shape else bcast_op
        return invoke(op, [lhs, rhs], out=out)
    # float and int by exact type first: the Number ABC and np.ndim cost ~1 us together.
    if type(rhs) is float or type(rhs) is int or (
            isinstance(rhs, (numbers.Number, np.generic)) and np.ndim(rhs) == 0):
        return invoke(scalar_op, [lhs], {"scalar": repr(float(rhs))}, out=out)
    raise MXError("unsupported operand: NDArray and %s (use an NDArray or a number)"
                  % type(rhs).__name__)


def _same_view(a, b):
    # Compared by identity: NDArray == NDArray is elementwise.
    va, vb = a._view_of, b._view_of
    return va is not None and vb is not None and va[0] is vb[0] and va[1:] == vb[1:]


def _rebuild(values, device_type, device_id):
    return array(values, Context(device_type, device_id), values.dtype)


# ---- creation --------------------------------------------------------------------------------


def _ctx(ctx):
    return current_context() if ctx is None else Context(ctx)


def empty(shape, ctx=None, dtype="float32"):
    """An array whose values are not set (memory is allocated at the first write)."""
    shape = as_shape(shape)
    handle = _new_handle()
    check_call(lib.mx_ndarray_create((ctypes.c_int64 * len(shape))(*shape), len(shape),
                                     dtype_code(dtype), _ctx(ctx).as_c(), ctypes.byref(handle)))
    return NDArray(handle)


def _filled(op, shape, ctx, dtype, **params):
    p = {"shape": _ops.param_str(as_shape(shape)), "ctx": str(_ctx(ctx)),
         "dtype": dtype_name(dtype)}
    p.update({k: _ops.param_str(v) for k, v in params.items()})
    return invoke(op, [], p)


def zeros(shape, ctx=None, dtype="float32", **kwargs):
    """An array of zeros."""
    return _filled("_zeros", shape, ctx, dtype or "float32", **kwargs)


def ones(shape, ctx=None, dtype="float32", **kwargs):
    """An array of ones."""
    return _filled("_ones", shape, ctx, dtype or "float32", **kwargs)


def full(shape, val, ctx=None, dtype="float32", out=None):
    """An array filled with `val`."""
    if out is not None:
        out[:] = val
        return out
    return _filled("_full", shape, ctx, dtype or "float32", value=float(val))


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype="float32"):
    """Evenly spaced values in [start, stop) (stop None: [0, start)), each repeated."""
    params = {"start": _ops.param_str(float(start)), "step": _ops.param_str(float(step)),
              "repeat": str(int(repeat)), "ctx": str(_ctx(ctx)), "dtype": dtype_name(dtype)}
    if stop is not None:
        params["stop"] = _ops.param_str(float(stop))
    return invoke("_arange", [], params)


def array(source_array, ctx=None, dtype=None):
    """An array with a copy of `source_array` (numpy array, nested lists, NDArray).

    The type is `dtype`, else the source's for an NDArray, else float32 (as MXNet does)."""
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        src = source_array.as_in_context(_ctx(ctx)) if ctx is not None else source_array
        return src.astype(dtype) if dtype_name(dtype) != dtype_name(src.dtype) else src.copy()
    src = host_array(source_array, dtype or np.float32)
    arr = empty(src.shape, ctx, src.dtype)
    check_call(lib.mx_ndarray_copy_from_host(arr.handle, src.ctypes.data_as(ctypes.c_void_p),
                                             src.nbytes))
    return arr


def from_dlpack(x):
    """An NDArray sharing memory with `x` (no copy): any object with ``__dlpack__`` (a numpy
    array, a PyTorch tensor, an NDArray) or a "dltensor" capsule (``torch.utils.dlpack.
    to_dlpack``), which is consumed (renamed "used_dltensor") as the DLPack protocol says.

    The producer's memory stays alive until this array and every view of it are gone and the
    ops pushed on it have run. Writes on either side are seen on the other, but libmx orders only
    its own ops: wait (``wait_to_read`` / ``wait_to_write``) before the other side touches the
    memory. What libmx cannot represent (a strided view, bool, complex, bfloat16, int16, ...)
    raises MXError and leaves the capsule unconsumed."""
    if _dlpack.is_capsule(x):
        capsule = x
    elif hasattr(x, "__dlpack__"):
        capsule = x.__dlpack__()
    else:
        raise MXError("from_dlpack: expected an object with __dlpack__ (a numpy array, a torch "
                      "tensor, ...) or a 'dltensor' capsule, got %s" % type(x).__name__)
    ptr = _dlpack.capsule_pointer(capsule)
    if ptr is None:
        raise MXError("from_dlpack: the capsule is not an unconsumed 'dltensor' capsule (a "
                      "DLPack capsule can be consumed once)")
    handle = _new_handle()
    # On failure the capsule is still "dltensor": its own destructor hands the tensor back.
    check_call(lib.mx_ndarray_from_dlpack(ptr, ctypes.byref(handle)))
    _dlpack.mark_consumed(capsule)
    return NDArray(handle)


# ---- files -----------------------------------------------------------------------------------


def save(fname, data):
    """Saves an NDArray, a list of them, or a dict name -> NDArray to `fname`."""
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        names = list(data)
        arrays = [data[k] for k in names]
        cnames = c_str_array(names)
    else:
        arrays, cnames = list(data), None
    for a in arrays:
        if not isinstance(a, NDArray):
            raise MXError("save: expected NDArrays, got %s" % type(a).__name__)
    check_call(lib.mx_ndarray_save(c_str(fname), len(arrays),
                                   c_handle_array(arrays, NDArrayHandle), cnames))


def load(fname):
    """Loads a file written by save: a list, or a dict when it was saved with names."""
    n = ctypes.c_int32()
    handles = ctypes.POINTER(NDArrayHandle)()
    names = ctypes.POINTER(ctypes.c_char_p)()
    check_call(lib.mx_ndarray_load(c_str(fname), ctypes.byref(n), ctypes.byref(handles),
                                   ctypes.byref(names)))
    arrays = [NDArray(NDArrayHandle(handles[i].value)) for i in range(n.value)]
    if not names:
        return arrays
    return {py_str(names[i]): arrays[i] for i in range(n.value)}


def waitall():
    """Blocks until all pushed work is done; raises the first unreported error of it."""
    check_call(lib.mx_engine_wait_all())


# ---- functions with Python conveniences over the generated ones ------------------------------


def _either(lhs, rhs, elem_op, bcast_op, scalar_op):
    if isinstance(lhs, NDArray):
        return _binary(lhs, rhs, elem_op, bcast_op, scalar_op)
    if isinstance(rhs, NDArray):
        return _binary(rhs, lhs, elem_op, bcast_op, scalar_op)
    raise MXError("expected at least one NDArray, got %s and %s"
                  % (type(lhs).__name__, type(rhs).__name__))


def maximum(lhs, rhs):
    """Elementwise maximum of two arrays (broadcasting) or an array and a number."""
    return _either(lhs, rhs, "_maximum", "broadcast_maximum", "_maximum_scalar")


def minimum(lhs, rhs):
    """Elementwise minimum of two arrays (broadcasting) or an array and a number."""
    return _either(lhs, rhs, "_minimum", "broadcast_minimum", "_minimum_scalar")


def add(lhs, rhs):
    return lhs + rhs


def subtract(lhs, rhs):
    return lhs - rhs


def multiply(lhs, rhs):
    return lhs * rhs


def divide(lhs, rhs):
    return lhs / rhs


def power(base, exp):
    return base ** exp


def concatenate(arrays, axis=0, always_copy=True):
    """Joins arrays along `axis` (numpy-style name; the Concat operator does the work)."""
    if not arrays:
        raise MXError("concatenate: no arrays given")
    if len(arrays) == 1 and not always_copy:
        return arrays[0]
    return invoke("Concat", list(arrays), {"dim": str(axis), "num_args": str(len(arrays))})


def concat(*arrays, dim=1, out=None):
    """Joins arrays along `dim` (the Concat operator)."""
    return invoke("Concat", list(arrays), {"dim": str(dim), "num_args": str(len(arrays))}, out)


# ---- generated operator functions ------------------------------------------------------------


def _is_ndarray(v):
    return isinstance(v, NDArray)


def _make_function(op):
    op_name, variadic = op.name, op.variadic
    has_ctx = "ctx" in op.param_names

    def fn(*args, out=None, name=None, **kwargs):
        if not kwargs:
            for v in args:
                if not isinstance(v, NDArray):
                    break
            else:  # inputs only (mx.nd.dot(a, b)): what split_call would return, without it
                params = {variadic: str(len(args))} if variadic else None
                if has_ctx and not args:
                    params = dict(params or (), ctx=str(current_context()))
                return invoke(op_name, args, params, out)
        inputs, named, params, _ = _ops.split_call(op, args, kwargs, _is_ndarray)
        if named:
            order = [n for n in op.inputs[len(inputs):] if n in named]
            unknown = set(named) - set(order)
            if unknown:
                raise MXError("%s: unknown input%s %s; its inputs are %s"
                              % (op.name, "s" if len(unknown) > 1 else "",
                                 ", ".join(sorted(unknown)), ", ".join(op.inputs)))
            expected = op.inputs[len(inputs):len(inputs) + len(order)]
            if order != expected:
                missing = [n for n in expected if n not in named]
                raise MXError("%s: input %s is missing" % (op.name, ", ".join(missing)))
            inputs += [named[n] for n in order]
        if "ctx" in op.param_names and "ctx" not in params and not inputs:
            params["ctx"] = str(current_context())
        return invoke(op.name, inputs, params, out)
    if fast is not None:  # the plain calls (f(*arrays), f(*arrays, out=a)) in C, the rest in fn
        f = fast.OpFunction(op_name, variadic or None, has_ctx, fn)
        f.__wrapped__ = fn  # inspect.signature and help() read fn's signature
        f.__module__ = __name__
        return f
    return fn


def _fluent(op_name):
    def method(self, *args, **kwargs):
        return getattr(_internal, op_name)(self, *args, **kwargs)
    method.__name__ = op_name
    method.__doc__ = "self.%s(...) is mx.nd.%s(self, ...)." % (op_name, op_name)
    return method


def _init_ops():
    module = sys.modules[__name__]
    public = {}
    _ops.generate(_ops.list_ops(), _make_function, public, _internal.__dict__)
    for name, fn in public.items():
        if not hasattr(module, name):
            setattr(module, name, fn)
            __all__.append(name)
    for name in ("sum", "mean", "max", "min", "prod", "argmax", "argmin", "exp", "log", "sqrt",
                 "square", "abs", "sign", "relu", "sigmoid", "tanh", "softmax", "log_softmax",
                 "transpose", "flatten", "expand_dims", "clip", "one_hot", "broadcast_to",
                 "slice_axis", "take", "sin", "cos", "rsqrt", "zeros_like", "ones_like"):
        op_name = "Flatten" if name == "flatten" else name
        if op_name in _internal.__dict__ and not hasattr(NDArray, name):
            setattr(NDArray, name, _fluent(op_name))


_init_ops()
