"""The binding's per-op fast paths (issue 16: bench/op_latency_py.py) give what the general paths
gave: the same values, the same errors, with caches that never mix up two calls."""
import ctypes
import threading

import numpy as np
import pytest

import mx
from mx import _capi
from mx import ndarray as nd_mod
from mx.base import lib, raw


# ---- the unchecked entry points ----------------------------------------------------------------


def test_unchecked_entry_points_are_declared_functions_and_lib_stays_checked():
    for name, fn in vars(raw).items():
        assert name in _capi.PROTOTYPES, name  # so test_capi's header check covers its arity
        assert fn.argtypes is None
        assert fn.restype is _capi.PROTOTYPES[name][0]
        assert getattr(lib, name).argtypes == _capi.PROTOTYPES[name][1]
        # Like lib's: the GIL is released during the call (an engine thread may need it, e.g.
        # to run a DLPack producer's deleter, while this thread waits in the library).
        assert not fn._flags_ & ctypes._FUNCFLAG_PYTHONAPI
    a = mx.nd.ones(4)
    with pytest.raises(ctypes.ArgumentError):
        lib.mx_ndarray_slice(a.handle, "0", 2, None)


def test_64_bit_indices_reach_the_library_whole():
    # Memory is allocated at the first write, so a 4 GiB int8 array costs nothing here. A start
    # past 2**31 passed as a 32-bit int would be refused by ctypes or wrapped around.
    big = mx.nd.empty((2**32,), dtype="int8")
    assert big[2**31 + 1:2**31 + 4].shape == (3,)
    assert big[2**32 - 2:].shape == (2,)
    assert big[2**31 + 5].shape == ()
    assert big[-1].shape == ()


# ---- parameters: cached C arrays ----------------------------------------------------------------


def test_repeated_parameters_with_different_values_are_not_mixed_up():
    a = mx.nd.array([1.0, 2.0, 3.0])
    for _ in range(3):
        for k in (2, 3, 2.5, -1, 0.5):
            np.testing.assert_allclose((a * k).asnumpy(), np.array([1.0, 2.0, 3.0]) * k)
            np.testing.assert_allclose((a + k).asnumpy(), np.array([1.0, 2.0, 3.0]) + k)
    # Equal but different values (1 == True == 1.0) format differently: only strs are cached.
    assert [bytes(v) for v in nd_mod._c_params({"k": "1"})[2]] == [b"1"]
    assert [bytes(v) for v in nd_mod._c_params({"k": True})[2]] == [b"True"]
    assert [bytes(v) for v in nd_mod._c_params({"k": 1.0})[2]] == [b"1.0"]
    assert [bytes(v) for v in nd_mod._c_params({"k": "1"})[2]] == [b"1"]


def test_parameter_order_and_count_are_kept():
    a = mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    s1 = mx.nd.sum(a, axis=1, keepdims=True)
    s0 = mx.nd.sum(a, axis=0)
    s1b = mx.nd.sum(a, keepdims=True, axis=1)
    assert s1.shape == (2, 1) and s0.shape == (3,) and s1b.shape == (2, 1)
    np.testing.assert_allclose(s1.asnumpy().ravel(), [3, 12])
    np.testing.assert_allclose(s0.asnumpy(), [3, 5, 7])


def test_the_caches_stay_bounded_and_right(monkeypatch):
    monkeypatch.setattr(nd_mod, "_CACHE_LIMIT", 4)
    monkeypatch.setattr(nd_mod, "_param_arrays", {})
    monkeypatch.setattr(nd_mod, "_name_bytes", {})
    a = mx.nd.ones(2)
    for k in range(20):
        assert (a * k).asnumpy().tolist() == [k, k]
        assert len(nd_mod._param_arrays) <= 4
    assert len(nd_mod._name_bytes) <= 4


def test_unhashable_parameter_values_are_formatted_not_cached():
    before = dict(nd_mod._param_arrays)
    n, keys, vals = nd_mod._c_params({"shape": [3, 2]})
    assert (n, bytes(keys[0]), bytes(vals[0])) == (1, b"shape", b"[3, 2]")
    assert nd_mod._param_arrays == before
    a = mx.nd.ones((2, 3))
    try:  # whatever the library makes of "[3, 2]", the binding adds no TypeError of its own
        r = mx.nd.invoke("Reshape", [a], {"shape": [3, 2]})
        assert r.shape == (3, 2)
    except mx.MXError as e:
        assert e.status != 0


def test_param_str_forms():
    from mx._ops import param_str

    class MyInt(int):
        def __str__(self):
            return "my"

    cases = [(1, "1"), (-7, "-7"), (True, "true"), (np.bool_(False), "false"), (1.0, "1.0"),
             (0.1, "0.1"), (float("inf"), "inf"), ("x", "x"), ("", ""), (np.int64(3), "3"),
             (np.float32(0.5), "0.5"), ((1,), "(1,)"), ([1, 2], "(1,2)"), ((), "()"),
             ((1, 2.5, True), "(1,2.5,true)"), (np.float32, "float32"),
             (np.dtype("int8"), "int8"), (None, "None"), (MyInt(3), "my")]
    for value, text in cases:
        assert param_str(value) == text, value


def test_positional_and_keyword_parameters():
    x = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    a = mx.nd.array(x)
    np.testing.assert_allclose(mx.nd.clip(a, 0.3, 0.6).asnumpy(), np.clip(x, 0.3, 0.6))
    np.testing.assert_allclose(mx.nd.clip(a, 0.3, a_max=0.6).asnumpy(), np.clip(x, 0.3, 0.6))
    np.testing.assert_allclose(mx.nd.clip(a, 0.6, a_min=0.3).asnumpy(), np.clip(x, 0.3, 0.6))
    with pytest.raises(mx.MXError, match="positional values given after the inputs"):
        mx.nd.clip(a, 0.3, 0.6, 0.7)
    with pytest.raises(mx.MXError, match="input given after the parameters"):
        mx.nd.clip(a, 0.3, a)


# ---- errors: the library's, on first and repeated calls ---------------------------------------


def test_errors_are_the_librarys_on_every_call():
    a = mx.nd.ones(3)
    for _ in range(2):
        with pytest.raises(mx.MXError) as e:
            mx.nd.invoke("no_such_op", [a])
        assert e.value.code == "not_found" and "no_such_op" in str(e.value)
        with pytest.raises(mx.MXError) as e:
            mx.nd.invoke("_mul_scalar", [a], {"scalar": "two"})
        assert e.value.code == "invalid_argument" and "two" in str(e.value)
        with pytest.raises(mx.MXError) as e:
            mx.nd.elemwise_add(a, a, out=mx.nd.empty(4))
        assert e.value.status != 0
        with pytest.raises(mx.MXError) as e:
            mx.nd.invoke(["elemwise_add"], [a, a])  # unhashable: not cached, still the library's
        assert e.value.code == "not_found"
        with pytest.raises(mx.MXError, match="expected NDArrays, got ndarray"):
            mx.nd.invoke("elemwise_add", [a, np.ones(3)])
        with pytest.raises(mx.MXError, match="out must be an NDArray"):
            mx.nd.elemwise_add(a, a, out=np.ones(3))
    assert (a + a).asnumpy().tolist() == [2, 2, 2]  # the library keeps working


def test_freed_arrays_are_errors_not_cached_properties():
    a = mx.nd.ones((2, 2), dtype="int32")
    assert a.dtype == np.int32 and a.shape == (2, 2)
    b = a[0:1]
    a.free()
    for use in (lambda: a.dtype, lambda: a.shape, lambda: a.asnumpy(), lambda: a + b,
                lambda: a[0:1], lambda: a[0], lambda: mx.nd.dot(a, a), lambda: b + a):
        with pytest.raises(mx.MXError):
            use()
    assert b.asnumpy().tolist() == [[1, 1]]


def test_an_ndarray_never_initialised_is_collected_quietly(monkeypatch):
    import gc
    import sys
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    half = mx.nd.NDArray.__new__(mx.nd.NDArray)  # as when __init__ raised
    del half
    gc.collect()
    assert seen == []


def test_read_only_outputs_and_views_stay_read_only():
    it = mx.io.NDArrayIter(np.ones((4, 2)), np.zeros(4), batch_size=2)
    data = next(iter(it)).data[0]
    assert not data[0:1].writable and not data[0].writable
    with pytest.raises(mx.MXError, match="read-only"):
        mx.nd.elemwise_add(data, data, out=data)
    with pytest.raises(mx.MXError, match="read-only"):
        data += 1


# ---- the generated functions' shortcut for inputs-only calls ------------------------------------


def test_inputs_only_calls_match_the_general_path():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a, b = mx.nd.array(x), mx.nd.array(x.T.copy())
    np.testing.assert_allclose(mx.nd.dot(a, b).asnumpy(), x @ x.T)
    np.testing.assert_allclose(mx.nd.dot(a, b, transpose_a=False).asnumpy(), x @ x.T)
    # Variadic: the count parameter comes from the inputs on both paths.
    np.testing.assert_allclose(mx.nd.Concat(a, a).asnumpy(), np.concatenate([x, x], axis=1))
    np.testing.assert_allclose(mx.nd.Concat(a, a, a, dim=0).asnumpy(),
                               np.concatenate([x, x, x], axis=0))
    c = mx.nd.empty((3, 3))
    assert mx.nd.dot(a, b, out=c) is c
    np.testing.assert_allclose(c.asnumpy(), x @ x.T)


def test_inputs_only_calls_without_inputs_use_the_current_context():
    with mx.cpu(1):
        z = mx.nd._internal._ones()
    assert z.context == mx.cpu(1)
    assert mx.nd._internal._zeros().context == mx.current_context()


def test_several_outputs_come_back_as_a_list():
    a = mx.nd.array(np.arange(6, dtype=np.float32))
    parts = mx.nd.SliceChannel(a.reshape((2, 3)), num_outputs=3)
    assert isinstance(parts, list) and len(parts) == 3
    assert [p.asnumpy().ravel().tolist() for p in parts] == [[0, 3], [1, 4], [2, 5]]


# ---- reading values ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8",
                                   "int8"])
def test_asnumpy_and_asscalar_keep_the_type(dtype):
    s = mx.nd.array([7], dtype=dtype)
    v = s.asscalar()
    assert type(v) is np.dtype(dtype).type and v == 7
    assert s.asnumpy().dtype == np.dtype(dtype) and s.asnumpy().tolist() == [7]
    assert mx.nd.array([[5]], dtype=dtype).asscalar() == 5
    m = mx.nd.array(np.arange(6).reshape(2, 3), dtype=dtype)
    assert m.asnumpy().tolist() == [[0, 1, 2], [3, 4, 5]] and m.size == 6
    with pytest.raises(mx.MXError, match="exactly one element"):
        m.asscalar()


def test_asscalar_keeps_every_value():
    for dtype in ("float32", "float64"):
        values = [np.inf, -np.inf, -0.0, 0.1, np.finfo(dtype).max, np.finfo(dtype).tiny]
        for v in values:
            got = mx.nd.array([v], dtype=dtype).asscalar()
            assert got == np.dtype(dtype).type(v) and np.signbit(got) == np.signbit(v)
        assert np.isnan(mx.nd.array([np.nan], dtype=dtype).asscalar())
    for v in (2**62 + 1, -2**63, 2**63 - 1):
        assert mx.nd.array(np.array([v], dtype=np.int64), dtype="int64").asscalar() == v


def test_indices_around_the_small_index_table():
    x = np.arange(3000, dtype=np.float32)
    a = mx.nd.array(x)
    for start, stop in ((1022, 1026), (0, 3), (1023, 1024), (1024, 1025), (2990, 3000)):
        assert a[start:stop].asnumpy().tolist() == x[start:stop].tolist()
    for i in (0, 1023, 1024, 2999, -1, -3000):
        assert a[i].asscalar() == x[i]


def test_empty_arrays_read_as_empty():
    e = mx.nd.empty((0, 3))
    assert e.asnumpy().shape == (0, 3) and e.size == 0
    assert mx.nd.ones(5)[3:1].asnumpy().shape == (0,)


# ---- threads share the caches ------------------------------------------------------------------


def test_threads_calling_with_their_own_parameters_get_their_own_results():
    errors = []

    def work(k):
        try:
            a = mx.nd.ones(8)
            for _ in range(200):
                r = ((a * k) + k)[1:3]
                if r.asnumpy().tolist() != [2.0 * k, 2.0 * k]:
                    errors.append((k, r.asnumpy().tolist()))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((k, e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
