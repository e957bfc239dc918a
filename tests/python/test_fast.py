"""mx._fast, the binding's hot paths in C (python/mx/_fast.c): it is the binding under test when
asked for, and what it computes, returns and raises is what the pure-Python paths it replaces
(mx.ndarray._PyBase, _py_invoke) give. scripts/test.sh runs the whole suite twice: with
MX_PY_FAST=1 (the extension must load) and MX_PY_FAST=0 (pure ctypes)."""
import ctypes
import gc
import inspect
import os
import pickle
import sys
import weakref

import numpy as np
import pytest

import mx
from mx import _capi
from mx import ndarray as nd_mod
from mx.base import check_call, lib

fast = mx.base.fast
needs_fast = pytest.mark.skipif(fast is None, reason="mx._fast is not loaded (MX_PY_FAST=0)")
Py = nd_mod._PyBase  # the pure-Python implementations


def test_the_binding_in_use_is_the_one_asked_for():
    setting = os.environ.get("MX_PY_FAST", "")
    if setting == "1":
        assert fast is not None
    if setting == "0":
        assert fast is None
    base = fast.NDArrayBase if fast is not None else Py
    assert mx.nd.NDArray.__mro__[1] is base
    assert isinstance(mx.nd.ones(2) + 1, mx.nd.NDArray)
    assert nd_mod.invoke is (fast.invoke if fast is not None else nd_mod._py_invoke)


def _outcome(fn, *args):
    """(type, shape, values) of fn(*args), or (exception type, message) when it raises."""
    try:
        r = fn(*args)
        if isinstance(r, mx.nd.NDArray):
            return ("NDArray", r.shape, r.dtype, r.asnumpy().tolist(), r.writable)
    except Exception as e:  # noqa: BLE001 - the comparison is the point
        return (type(e).__name__, str(e))
    if isinstance(r, list):
        return [_outcome(lambda x: x, x) for x in r]
    if isinstance(r, np.ndarray):
        return ("ndarray", r.dtype, r.shape, r.tolist())
    return (type(r).__name__, repr(r))


def _operands():
    a = mx.nd.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = mx.nd.array([[2.0, 4.0, 8.0], [1.0, 2.0, 4.0]])
    row = mx.nd.array([1.0, 10.0, 100.0])
    freed = mx.nd.ones(3)
    freed.free()
    return a, b, row, freed


@needs_fast
@pytest.mark.parametrize("op,slow,forward", [
    ("__add__", Py.__add__, None), ("__radd__", Py.__add__, Py.__add__),
    ("__sub__", Py.__sub__, None), ("__rsub__", Py.__rsub__, Py.__sub__),
    ("__mul__", Py.__mul__, None), ("__rmul__", Py.__mul__, Py.__mul__),
    ("__truediv__", Py.__truediv__, None), ("__rtruediv__", Py.__rtruediv__, Py.__truediv__)])
def test_arithmetic_matches_the_python_path(op, slow, forward):
    a, b, row, freed = _operands()
    others = [b, row, 2, -3, 2.5, 0.1, 10**30, True, np.float32(1.5), np.int64(3),
              np.ones(3), "x", None, freed, 10**400]
    for lhs in (a, freed):
        for other in others:
            got = _outcome(getattr(lhs, op), other)
            if forward is not None and isinstance(other, mx.nd.NDArray):
                # a.__rsub__(b) called by hand: C's one slot computes b - a, where the Python
                # method refuses (Python's own dispatch never makes that call).
                want = _outcome(forward, other, lhs)
                assert got[0] == want[0], (op, other)
                if got[0] == "NDArray":
                    assert got == want, (op, other)
                continue
            want = _outcome(slow, lhs, other)
            assert got == want, (op, other)
    # The operators themselves (Python's dispatch, reflected ones included).
    assert _outcome(lambda: 3 - a) == _outcome(Py.__rsub__, a, 3)
    assert _outcome(lambda: 1 / b) == _outcome(Py.__rtruediv__, b, 1)
    assert _outcome(lambda: np.float32(2) * a) == _outcome(Py.__mul__, a, np.float32(2))


@needs_fast
def test_indexing_matches_the_python_path():
    a = mx.nd.array(np.arange(12, dtype=np.float32).reshape(4, 3))
    ro = a[0:4]
    ro.writable = False
    scalar = mx.nd.ones(())
    freed = mx.nd.ones(3)
    freed.free()
    keys = [0, 3, -1, -4, 4, -5, 2**70, slice(1, 3), slice(None, 2), slice(2, None),
            slice(None), slice(-3, -1), slice(3, 1), slice(0, 100), slice(0, 4, 1),
            slice(0, 4, 2), slice(None, None, -1), (1, 2), (1,), Ellipsis, 1.5, "x",
            np.int64(2), slice(np.int64(1), np.int64(3))]
    for arr in (a, ro, scalar, freed):
        for key in keys:
            got, want = _outcome(arr.__getitem__, key), _outcome(Py.__getitem__, arr, key)
            assert got == want, key
    view = a[1:3]
    assert view._view_of[0] is a and view._view_of[1:] == (1, 3)
    assert a[:] is a


@needs_fast
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8",
                                   "int8"])
def test_reading_values_matches_the_python_path(dtype):
    one = mx.nd.array([7], dtype=dtype)
    several = mx.nd.array([[1, 2], [3, 4]], dtype=dtype)
    empty = mx.nd.empty((0, 3), dtype=dtype)
    freed = mx.nd.ones(1)
    freed.free()
    for arr in (one, several, empty, mx.nd.array(np.array(5, dtype)), freed):
        for name in ("asnumpy", "asscalar"):
            got, want = _outcome(getattr(arr, name)), _outcome(getattr(Py, name), arr)
            assert got == want, (name, arr)
    value = one.asscalar()
    assert type(value) is np.dtype(dtype).type and value == 7
    host = several.asnumpy()
    assert host.dtype == np.dtype(dtype) and host.flags.c_contiguous and host.flags.writeable


@needs_fast
def test_invoke_matches_the_python_path():
    a, b, row, freed = _operands()
    c = mx.nd.empty((2, 3))
    ro = mx.nd.NDArray(mx.nd.empty((2, 3)).handle, writable=False)
    calls = [
        ("elemwise_add", [a, b]), ("elemwise_add", (a, b)), ("elemwise_add", [a, b], None, c),
        ("elemwise_add", [a, b], {}, [c]), ("elemwise_add", [a, b], None, ro),
        ("elemwise_add", [a]), ("elemwise_add", [a, row]), ("elemwise_add", [a, freed]),
        ("elemwise_add", [a, None]), ("elemwise_add", [a, 3]), ("no_such_op", [a]),
        (b"elemwise_add", [a, b]), (None, [a]),
        ("_mul_scalar", [a], {"scalar": "2"}), ("_mul_scalar", [a], {"scalar": 2}),
        ("_mul_scalar", [a], {"scalar": "x"}), ("_mul_scalar", [a], {"scalr": "2"}),
        ("SliceChannel", [a], {"num_outputs": "3", "axis": "1"}),
        ("sum", [a], {"axis": "1", "keepdims": "true"}),
        ("add_n", [a] * 40, {"num_args": "40"}),
        ("transpose", [a], {"axes": "(1,0)"}, c),
    ]
    for call in calls:
        got, want = _outcome(nd_mod.invoke, *call), _outcome(nd_mod._py_invoke, *call)
        assert got == want, call[:1]
    # By keyword as well as by position.
    assert (_outcome(lambda: nd_mod.invoke("_mul_scalar", [a], params={"scalar": "3"}))
            == _outcome(nd_mod._py_invoke, "_mul_scalar", [a], {"scalar": "3"}))
    assert nd_mod.invoke("elemwise_add", [a, b], out=c) is c
    with pytest.raises(TypeError):
        nd_mod.invoke("elemwise_add", [a, b], outs=c)


@needs_fast
def test_generated_functions_take_the_fast_path_only_when_plain():
    dot = mx.nd.dot
    assert isinstance(dot, fast.OpFunction)
    assert dot.__name__ == "dot" and "Dot product" in dot.__doc__ and "dot" in repr(dot)
    assert "out=None" in str(inspect.signature(dot)) and dot.__module__ == "mx.ndarray"
    assert pickle.loads(pickle.dumps(dot)) is dot  # by reference, as a function pickles
    x = mx.nd.array(np.arange(4, dtype=np.float32).reshape(2, 2))
    want = np.arange(4, dtype=np.float32).reshape(2, 2)
    np.testing.assert_array_equal(dot(x, x).asnumpy(), want @ want)
    np.testing.assert_array_equal(dot(x, x, transpose_a=True).asnumpy(), want.T @ want)
    out = mx.nd.empty((2, 2))
    assert dot(x, x, out=out) is out
    assert mx.nd.concat(x, x, dim=0).shape == (4, 2)  # variadic, count set from the inputs
    assert mx.nd.Concat(x, x, x).shape == (2, 6)
    assert mx.nd.add_n(x, x, x, out=out) is out
    np.testing.assert_array_equal(out.asnumpy(), 3 * want)
    with mx.Context("cpu", 0):  # an op without inputs takes the current context
        assert mx.nd._internal._ones(shape=(2,)).context == mx.cpu(0)
    with pytest.raises(mx.MXError, match="dot"):
        dot(x, mx.nd.ones((3, 3)))
    with pytest.raises(mx.MXError):
        dot(x, x, out=[out, out])
    with pytest.raises(mx.MXError, match="unknown input"):
        dot(x, bogus=x)


@needs_fast
def test_handles_and_their_objects():
    a = mx.nd.ones(3)
    h = a.handle
    assert isinstance(h, _capi.NDArrayHandle) and a.handle is h
    b = mx.nd.NDArray(h.value)  # an int: the same array, a second owner would double-free...
    b.handle = None  # ...so this one lets go without freeing
    assert b.handle is None and a.asnumpy().tolist() == [1.0, 1.0, 1.0]
    view = a[0:2]
    ref = weakref.ref(view)
    del view
    gc.collect()
    assert ref() is None
    a.free()
    assert a.handle is None
    with pytest.raises(mx.MXError):
        a + 1
    with pytest.raises(mx.MXError):
        a.asnumpy()
    with pytest.raises(TypeError):
        mx.nd.NDArray("not a handle")
    c = mx.nd.ones(2)
    c.writable = 0
    assert c.writable is False
    with pytest.raises(mx.MXError, match="read-only"):
        mx.nd.elemwise_add(c, c, out=c)


def _bytes_in_use():
    stats = _capi.StorageStats()
    stats.struct_size = ctypes.sizeof(stats)
    check_call(lib.mx_storage_get_stats(_capi.Context(1, 0), ctypes.byref(stats)))
    return stats.bytes_in_use


def test_results_and_views_are_released():
    # Runs with either binding: every path that makes an array frees it when it goes.
    a, b = mx.nd.ones((64, 64)), mx.nd.ones((64, 64))
    s = mx.nd.ones(1)

    def churn():
        for _ in range(300):
            a + b
            a * 2.0
            3 - a
            a[1:5]
            a[3]
            mx.nd.dot(a, b)
            mx.nd.split(a, num_outputs=2) if hasattr(mx.nd, "split") else mx.nd.SliceChannel(
                a, num_outputs=2)
            s.asscalar()
            a.asnumpy()
        mx.nd.waitall()
        gc.collect()

    churn()  # warm up the pools
    before = (_bytes_in_use(), sys.getrefcount(a), sys.getrefcount(b),
              sys.getrefcount(mx.nd.NDArray))
    churn()
    after = (_bytes_in_use(), sys.getrefcount(a), sys.getrefcount(b),
             sys.getrefcount(mx.nd.NDArray))
    assert after == before
