"""DLPack exchange: mx.nd.from_dlpack, NDArray.__dlpack__ / __dlpack_device__, with numpy (1.24's
numpy.from_dlpack), PyTorch (torch.utils.dlpack; skipped when torch is not importable), libmx
itself and a producer written here in ctypes with a counting deleter. Memory is shared both
ways, each tensor is released exactly once and only after its last user, and what libmx cannot
represent is an MXError that leaves the capsule to its producer."""
import ctypes
import gc
import sys
import weakref

import numpy as np
import pytest

import mx
from mx import _capi, _dlpack
from mx.base import check_call, lib

try:
    import torch
    import torch.utils.dlpack
    _TORCH_ERROR = None
except ImportError as e:  # pragma: no cover - depends on the machine
    torch = None
    _TORCH_ERROR = "%s: %s" % (type(e).__name__, e)

needs_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch is not importable (%s); scripts/setup.sh installs Debian's "
    "python3-torch" % _TORCH_ERROR)

DTYPES = ["float32", "float64", "float16", "uint8", "int32", "int8", "int64"]


@pytest.fixture
def no_gc():
    """Storage statistics are compared before and after: no collection of an earlier test's
    garbage (arrays freed by the cycle collector) may run in between."""
    gc.collect()
    mx.nd.waitall()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def cpu_bytes_in_use():
    mx.nd.waitall()
    s = _capi.StorageStats()
    s.struct_size = ctypes.sizeof(s)
    check_call(lib.mx_storage_get_stats(mx.cpu().as_c(), ctypes.byref(s)))
    return s.bytes_in_use


def capsule_name_is(capsule, name):
    fn = _dlpack._api("PyCapsule_IsValid", ctypes.c_int, [ctypes.py_object, ctypes.c_char_p])
    return fn(capsule, name) == 1


# ---- a producer in ctypes: a DLManagedTensor over a numpy buffer, with a counting deleter ------


class Producer:
    """A "dltensor" capsule over `values` (kept alive here), whose deleter counts its calls.
    The capsule has no destructor: a test that sees the import fail releases it itself."""

    def __init__(self, values, code=None, bits=None, strides=None):
        self.values = values
        self.calls = 0
        self.shape = (ctypes.c_int64 * max(values.ndim, 1))(*values.shape)
        self.strides = None if strides is None else (ctypes.c_int64 * len(strides))(*strides)
        self.managed = _dlpack.DLManagedTensor()
        t = self.managed.dl_tensor
        t.data = values.ctypes.data
        t.device = _dlpack.DLDevice(_dlpack.KDLCPU, 0)
        t.ndim = values.ndim
        kind = {"f": 2, "i": 0, "u": 1}[values.dtype.kind]
        t.dtype = _dlpack.DLDataType(kind if code is None else code,
                                     values.dtype.itemsize * 8 if bits is None else bits, 1)
        t.shape = self.shape
        if self.strides is not None:
            t.strides = self.strides
        self.deleter = _dlpack.DELETER(self._delete)
        self.managed.deleter = self.deleter
        self.capsule = _dlpack._capsule_new(ctypes.addressof(self.managed), _dlpack._DLTENSOR,
                                            None)

    def _delete(self, ptr):
        assert ptr == ctypes.addressof(self.managed)
        self.calls += 1


def test_producer_deleter_runs_once_after_the_last_user():
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    p = Producer(values)
    x = mx.nd.from_dlpack(p.capsule)
    assert capsule_name_is(p.capsule, b"used_dltensor")
    rows = x[1:3]
    y = x * 2
    del x
    mx.nd.waitall()
    assert p.calls == 0  # the view still uses the memory
    np.testing.assert_array_equal(y.asnumpy(), values * 2)
    np.testing.assert_array_equal(rows.asnumpy(), values[1:3])
    del rows
    mx.nd.waitall()
    assert p.calls == 1
    del y
    mx.nd.waitall()
    assert p.calls == 1


def test_rejected_tensors_are_left_to_their_producer():
    cases = [
        (dict(values=np.zeros((2, 3), np.float32), code=6, bits=8), "code 6 (bool)"),
        (dict(values=np.zeros((2, 3), np.uint16), code=4, bits=16), "code 4 (bfloat)"),
        (dict(values=np.zeros((2, 3), np.int16)), "code 0 (int), 16 bits"),
        (dict(values=np.zeros((2, 3), np.float32), strides=(1, 2)), "not row-major compact"),
    ]
    for kwargs, needle in cases:
        p = Producer(**kwargs)
        with pytest.raises(mx.MXError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            mx.nd.from_dlpack(p.capsule)
        mx.nd.waitall()
        assert p.calls == 0
        assert capsule_name_is(p.capsule, b"dltensor")  # not consumed
        _dlpack.call_deleter(ctypes.addressof(p.managed))  # the producer releases it
        assert p.calls == 1


# ---- numpy -----------------------------------------------------------------------------------


def test_numpy_to_mx_shares_memory_both_ways():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = mx.nd.from_dlpack(a)
    assert x.shape == (3, 4) and x.dtype == np.float32 and x.context == mx.cpu()
    np.testing.assert_array_equal(x.asnumpy(), a)
    x *= 2  # libmx writes into numpy's buffer
    x.wait_to_read()
    np.testing.assert_array_equal(a, np.arange(12).reshape(3, 4) * 2)
    x.wait_to_write()  # nothing of libmx's is pending: numpy may write
    a[0, 0] = -7
    assert x.asnumpy()[0, 0] == -7


def test_numpy_source_freed_before_the_view():
    a = np.arange(6, dtype=np.float64)
    ref = weakref.ref(a)
    count = sys.getrefcount(a)
    x = mx.nd.from_dlpack(a)
    assert sys.getrefcount(a) == count + 1  # numpy's tensor holds the array
    del a
    gc.collect()
    assert ref() is not None
    y = x + 1
    del x  # the op on the memory may still be pending
    np.testing.assert_array_equal(y.asnumpy(), np.arange(6) + 1)
    mx.nd.waitall()
    gc.collect()
    assert ref() is None  # numpy's deleter ran (on an engine thread, taking the GIL)


def test_mx_to_numpy_shares_memory_and_outlives_the_handle(no_gc):
    before = cpu_bytes_in_use()
    x = mx.nd.arange(12).reshape((3, 4))
    n = np.from_dlpack(x)
    np.testing.assert_array_equal(n, np.arange(12).reshape(3, 4))
    x[:] = 5  # libmx writes; numpy sees it once the write has run
    x.wait_to_read()
    assert (n == 5).all()
    rows = np.from_dlpack(x[1:3])
    assert rows.shape == (2, 4) and rows.ctypes.data == n.ctypes.data + 16
    del x, rows
    assert cpu_bytes_in_use() > before  # numpy's view holds the memory
    assert (n == 5).all()
    del n
    assert cpu_bytes_in_use() == before


def test_unconsumed_capsule_releases_the_export(no_gc):
    before = cpu_bytes_in_use()
    x = mx.nd.ones((64,))
    capsule = x.__dlpack__()
    del x
    assert cpu_bytes_in_use() > before
    assert capsule_name_is(capsule, b"dltensor")
    del capsule  # nobody consumed it: its destructor calls the deleter
    assert cpu_bytes_in_use() == before


def test_a_capsule_is_consumed_once():
    x = mx.nd.ones((2, 2))
    capsule = x.__dlpack__()
    y = mx.nd.from_dlpack(capsule)
    assert capsule_name_is(capsule, b"used_dltensor")
    with pytest.raises(mx.MXError, match="consumed once"):
        mx.nd.from_dlpack(capsule)
    del capsule  # renamed: its destructor leaves the tensor alone (no double release)
    np.testing.assert_array_equal(y.asnumpy(), np.ones((2, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips_through_numpy(dtype):
    a = (np.arange(10) % 7).astype(dtype).reshape(2, 5)
    x = mx.nd.from_dlpack(a)
    assert x.dtype == np.dtype(dtype)
    back = np.from_dlpack(x)
    assert back.dtype == np.dtype(dtype) and back.ctypes.data == a.ctypes.data
    np.testing.assert_array_equal(back, a)


def test_scalars_and_empty_arrays():
    s = mx.nd.from_dlpack(np.array(2.5, dtype=np.float32))
    assert s.shape == () and s.asscalar() == 2.5
    assert np.from_dlpack(mx.nd.ones(()) * 3).shape == ()
    e = mx.nd.from_dlpack(np.zeros((0, 4), np.float32))
    assert e.shape == (0, 4)
    assert np.from_dlpack(mx.nd.zeros((0, 4))).shape == (0, 4)


def test_what_libmx_cannot_represent_is_an_error_and_numpy_keeps_its_array():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    count = sys.getrefcount(a)
    with pytest.raises(mx.MXError, match=r"strides \(4,2\) are not row-major compact \(2,1\)"):
        mx.nd.from_dlpack(a[:, ::2])
    with pytest.raises(mx.MXError, match=r"strides \(1,4\)"):
        mx.nd.from_dlpack(a.T)
    gc.collect()
    assert sys.getrefcount(a) == count  # numpy's capsule destructor released its tensor
    with pytest.raises(mx.MXError, match=r"code 5 \(complex\)"):
        mx.nd.from_dlpack(np.zeros(3, np.complex64))
    with pytest.raises(mx.MXError, match=r"code 0 \(int\), 16 bits"):
        mx.nd.from_dlpack(np.zeros(3, np.int16))
    with pytest.raises(mx.MXError, match=r"code 1 \(uint\), 64 bits"):
        mx.nd.from_dlpack(np.zeros(3, np.uint64))
    with pytest.raises(mx.MXError, match="ndim is 13, libmx arrays have at most 12 dims"):
        mx.nd.from_dlpack(np.zeros((1,) * 13, np.float32))
    with pytest.raises(mx.MXError, match="expected an object with __dlpack__"):
        mx.nd.from_dlpack([1, 2, 3])
    # A strided but compact view (a[1:], rows of a C-contiguous array) is fine, unaligned or not.
    x = mx.nd.from_dlpack(a[1:])
    np.testing.assert_array_equal(x.asnumpy(), a[1:])


def test_export_reports_failed_work():
    x = mx.nd.ones((4,))
    y = mx.nd.empty((4,), dtype="float16")
    x.copyto(y)  # float32 -> float16 on the host fails when it runs
    with pytest.raises(mx.MXError, match="float16"):
        y.__dlpack__()


def test_stream_argument():
    x = mx.nd.ones((2,))
    for stream in (None, 1, 2):
        np.testing.assert_array_equal(mx.nd.from_dlpack(x.__dlpack__(stream=stream)).asnumpy(),
                                      [1, 1])
    with pytest.raises(mx.MXError, match="stream must be None or an int"):
        x.__dlpack__(stream="default")


# ---- libmx to libmx, on every device -----------------------------------------------------------


def test_round_trip_shares_memory_and_ordering(ctx):
    # Only copies touch the device here: they are what every context has (operators on a GPU
    # are not written yet), and they go through the engine like any op.
    x = mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3), ctx=ctx)
    assert x.__dlpack_device__() == ((2, ctx.device_id) if ctx.device_type == "gpu" else (1, 0))
    y = mx.nd.from_dlpack(x)
    assert y.context == ctx
    # Ordered before the read below by the shared engine variable: no wait needed.
    mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3) + 10).copyto(y)
    np.testing.assert_array_equal(x.asnumpy(), np.arange(6).reshape(2, 3) + 10)
    del x
    np.testing.assert_array_equal(y.asnumpy(), np.arange(6).reshape(2, 3) + 10)


def test_pinned_memory_exports_as_host_memory():
    x = mx.nd.ones((3,), ctx=mx.cpu_pinned())
    assert x.__dlpack_device__() == (1, 0)
    np.testing.assert_array_equal(np.from_dlpack(x), [1, 1, 1])


# ---- PyTorch ---------------------------------------------------------------------------------


def storage_expired(ref):
    return torch.UntypedStorage._expired(ref)


@needs_torch
@pytest.mark.parametrize("via_capsule", [False, True], ids=["__dlpack__", "to_dlpack"])
def test_torch_to_mx_shares_memory_and_releases_once(via_capsule):
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    ref = t.storage()._weak_ref()
    try:
        src = torch.utils.dlpack.to_dlpack(t) if via_capsule else t
        x = mx.nd.from_dlpack(src)
        if via_capsule:
            assert capsule_name_is(src, b"used_dltensor")
        del src
        np.testing.assert_array_equal(x.asnumpy(), np.arange(12).reshape(3, 4))
        x *= 3
        x.wait_to_read()
        assert t[2, 3].item() == 33  # libmx wrote into torch's storage
        x.wait_to_write()
        t[0, 0] = -1
        assert x.asnumpy()[0, 0] == -1
        del t  # the source goes first
        gc.collect()
        assert not storage_expired(ref)
        y = x + 1
        del x
        np.testing.assert_array_equal(y.asnumpy()[2], [25, 28, 31, 34])
        mx.nd.waitall()
        assert storage_expired(ref)  # torch's deleter ran
    finally:
        torch.UntypedStorage._free_weak_ref(ref)


@needs_torch
@pytest.mark.parametrize("via_capsule", [False, True], ids=["__dlpack__", "capsule"])
def test_mx_to_torch_shares_memory_and_releases_once(via_capsule, no_gc):
    before = cpu_bytes_in_use()
    x = mx.nd.arange(6).reshape((2, 3))
    t = torch.utils.dlpack.from_dlpack(x.__dlpack__() if via_capsule else x)
    assert t.shape == (2, 3) and t.dtype == torch.float32 and t.device.type == "cpu"
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]
    t.mul_(2)  # torch writes into libmx's memory
    assert x.asnumpy().tolist() == [[0, 2, 4], [6, 8, 10]]
    x += 1  # libmx writes; torch sees it once the write has run
    x.wait_to_read()
    assert t.tolist() == [[1, 3, 5], [7, 9, 11]]
    del x  # the handle goes first; torch's tensor keeps the memory
    assert cpu_bytes_in_use() > before
    assert t.sum().item() == 36
    del t
    assert cpu_bytes_in_use() == before  # libmx's deleter ran when torch freed its tensor


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips_through_torch(dtype):
    x = mx.nd.array(np.arange(6) % 5, dtype=dtype)
    t = torch.utils.dlpack.from_dlpack(x)
    assert str(t.dtype) == "torch." + dtype
    back = mx.nd.from_dlpack(t)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back.asnumpy(), np.arange(6) % 5)


@needs_torch
def test_torch_tensors_libmx_cannot_represent():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    ref = t.storage()._weak_ref()
    try:
        with pytest.raises(mx.MXError, match=r"strides \(1,4\) are not row-major compact"):
            mx.nd.from_dlpack(t.T)
        capsule = torch.utils.dlpack.to_dlpack(t[:, 1:])
        with pytest.raises(mx.MXError, match="contiguous"):
            mx.nd.from_dlpack(capsule)
        assert capsule_name_is(capsule, b"dltensor")  # left to torch
        del capsule, t
        gc.collect()
        assert storage_expired(ref)  # torch's capsule destructor released it: no leak
    finally:
        torch.UntypedStorage._free_weak_ref(ref)
    with pytest.raises(mx.MXError, match=r"code 4 \(bfloat\)"):
        mx.nd.from_dlpack(torch.zeros(3, dtype=torch.bfloat16))
    with pytest.raises(mx.MXError, match=r"code 5 \(complex\)"):
        mx.nd.from_dlpack(torch.zeros(3, dtype=torch.complex64))
    with pytest.raises(mx.MXError, match=r"code 0 \(int\), 16 bits"):
        mx.nd.from_dlpack(torch.zeros(3, dtype=torch.int16))
    # A dim of extent 1 may carry any stride (torch leaves odd ones there).
    odd = torch.zeros(3, 1, 4).transpose(0, 1)
    assert mx.nd.from_dlpack(odd).shape == (1, 3, 4)


@needs_torch
def test_torch_cuda_tensors_share_memory_both_ways():
    """On a GPU machine whose PyTorch has CUDA (the lent GPU machine; Debian's python3-torch has
    none): device memory crosses without a copy both ways."""
    if mx.num_gpus() == 0 or not torch.cuda.is_available():
        pytest.skip("needs a CUDA build of libmx, a GPU and a CUDA build of PyTorch")
    t = torch.arange(12, dtype=torch.float32, device="cuda:0").reshape(3, 4)
    x = mx.nd.from_dlpack(t)  # waits for torch's pending work on the device first
    assert x.context == mx.gpu(0) and x.__dlpack_device__() == (2, 0)
    np.testing.assert_array_equal(x.asnumpy(), np.arange(12).reshape(3, 4))
    mx.nd.array(np.arange(12, dtype=np.float32).reshape(3, 4) * 2).copyto(x)
    x.wait_to_read()
    assert t[2, 3].item() == 22  # libmx's copy wrote torch's device memory
    x.wait_to_write()
    t[0, 0] = -1
    torch.cuda.synchronize()
    assert x.asnumpy()[0, 0] == -1
    y = mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3), ctx=mx.gpu(0))
    u = torch.utils.dlpack.from_dlpack(y)
    assert u.device == torch.device("cuda:0")
    assert u.tolist() == [[0, 1, 2], [3, 4, 5]]
    u.add_(1)  # torch's kernel writes libmx's device memory: shared, not copied
    torch.cuda.synchronize()
    assert y.asnumpy().tolist() == [[1, 2, 3], [4, 5, 6]]
