"""Every failure is an mx.MXError carrying the library's message, bad inputs of every kind never
crash the interpreter, and the library keeps computing after each of them."""
import ctypes
import threading

import numpy as np
import pytest

import mx
from mx import _capi
from mx.base import lib


def still_computes():
    a = mx.nd.array([[1, 2], [3, 4]])
    assert np.array_equal((mx.nd.dot(a, a) + 1).asnumpy(), [[8, 11], [16, 23]])


def raises(fn, *parts, code=None):
    """Runs fn, expecting an MXError whose message contains every part; returns it."""
    with pytest.raises(mx.MXError) as info:
        fn()
    message = str(info.value)
    for p in parts:
        assert p in message, "%r not in %r" % (p, message)
    if code is not None:
        assert info.value.code == code, message
    still_computes()
    return info.value


def test_the_error_class():
    assert mx.MXError is mx.base.MXError and issubclass(mx.MXError, Exception)
    e = raises(lambda: mx.nd.invoke("no_such_op", []), "no_such_op", code="not_found")
    assert e.status == 3


def test_unknown_operators():
    raises(lambda: mx.nd.invoke("FullyConected", []), "'FullyConected'", "FullyConnected",
           code="not_found")  # the library suggests the close match
    raises(lambda: mx.sym._create("Convolutionn", {}, [], {}, None, None), "Convolutionn",
           code="not_found")
    bad = mx.sym.Variable("x").tojson().replace('"null"', '"NoSuchOp"')
    raises(lambda: mx.sym.load_json(bad), "NoSuchOp")


def test_bad_parameters():
    x = mx.nd.ones((2, 3))
    raises(lambda: mx.nd.FullyConnected(x, mx.nd.ones((4, 3)), mx.nd.ones(4), num_hidden="four"),
           "FullyConnected", "num_hidden", code="invalid_argument")
    raises(lambda: mx.nd.sum(x, axes=1), "sum", "axes", "axis")  # lists the valid keys
    # (The library's message for a bad enum value names the operator and the valid values,
    # but not the parameter.)
    raises(lambda: mx.sym.Activation(mx.sym.Variable("d"), act_type="swish"), "Activation",
           "swish", "relu")
    raises(lambda: mx.nd.FullyConnected(x, mx.nd.ones((4, 3)), mx.nd.ones(4)), "num_hidden")
    raises(lambda: mx.nd.clip(x, a_min=2, a_max=1), "a_min")
    raises(lambda: mx.optimizer.SGD(momentum="fast"), "momentum")
    raises(lambda: mx.metric.TopKAccuracy(top_k="x"), "top_k")
    raises(lambda: mx.init.Xavier(rnd_type="cauchy"), "cauchy")


def test_wrong_shapes():
    a, b = mx.nd.ones((2, 3)), mx.nd.ones((3, 2))
    raises(lambda: a + b, "broadcast_add", "(2,3)", "(3,2)")
    raises(lambda: mx.nd.dot(a, a), "dot", code="invalid_argument")
    raises(lambda: a.reshape((4, 2)), "reshape")
    raises(lambda: mx.nd.zeros((2, -3)), "-3")
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=4, name="fc")
    # The argument the user named first, then the node and its input, given vs inferred.
    where = "argument 'fc_weight' (input 'weight' of node 'fc' (FullyConnected)): "
    raises(lambda: net.infer_shape(data=(2, 3), fc_weight=(4, 5)),
           where + "given shape (4,5), inferred (4,3)")
    raises(lambda: net.simple_bind(mx.cpu(), data=(2, 3), fc_weight=(5, 3)),
           where + "given shape (5,3), inferred (4,3)")
    raises(lambda: net.bind(mx.cpu(), [mx.nd.ones((2, 3)), mx.nd.ones((4, 2)), mx.nd.ones(4)]),
           where + "given shape (4,2), inferred (4,3)")
    raises(lambda: net.simple_bind(mx.cpu(), data=(2, 3), type_dict={"data": np.float32, "fc_bias": np.float64}),
           "argument 'fc_bias' (input 'bias' of node 'fc' (FullyConnected)): given type float64")
    raises(lambda: net.simple_bind(mx.cpu()), "simple_bind: cannot infer the shape of argument "
           "'data' (input 'data' of node 'fc' (FullyConnected)) is ?")
    raises(lambda: net.bind(mx.cpu(), [mx.nd.ones((2, 3))]), "3 arguments (data, fc_weight, "
           "fc_bias), got 1")
    exe = net.simple_bind(mx.cpu(), data=(2, 3))
    raises(lambda: exe.backward([mx.nd.ones((5, 5))]), "head gradient")
    raises(lambda: a[5], "5")


def test_bad_handle_use():
    a = mx.nd.ones(3)
    a.free()
    a.free()  # releasing twice is harmless
    raises(lambda: a.asnumpy(), "must not be NULL", code="invalid_argument")
    raises(lambda: a + 1, "must not be NULL")
    s = mx.sym.Variable("v")
    alien = mx.nd.NDArray(s.handle.value)  # a symbol's handle posing as an array's
    try:
        raises(lambda: alien.shape, "not a live mx_ndarray_t")
    finally:
        alien.handle = None  # it was never this object's to free
    s.free()
    raises(lambda: s.list_arguments(), "must not be NULL")
    it = mx.io.NDArrayIter(np.ones((4, 2)), np.zeros(4), batch_size=2)
    it.free()
    raises(lambda: it.reset(), "must not be NULL")
    raises(lambda: mx.nd.ones(2).copyto("cpu"), "expected an NDArray or a Context")
    raises(lambda: mx.nd.save("/tmp/never", [1, 2]), "expected NDArrays")


def test_corrupt_and_missing_files(tmp_path):
    missing = str(tmp_path / "missing.params")
    raises(lambda: mx.nd.load(missing), "missing.params", code="io")
    garbage = tmp_path / "garbage.params"
    garbage.write_bytes(b"\x00\x01not an ndarray file at all" * 10)
    raises(lambda: mx.nd.load(str(garbage)), "garbage.params", code="io")
    good = str(tmp_path / "good.params")
    mx.nd.save(good, {"w": mx.nd.ones((100, 100))})
    data = open(good, "rb").read()
    truncated = tmp_path / "truncated.params"
    truncated.write_bytes(data[:len(data) // 2])
    raises(lambda: mx.nd.load(str(truncated)), "truncated.params", code="io")
    bad_json = tmp_path / "bad-symbol.json"
    bad_json.write_text('{"nodes": [{"op": "null"')
    raises(lambda: mx.sym.load(str(bad_json)), "bad-symbol.json", code="io")
    raises(lambda: mx.sym.load_json("{}"), code="invalid_argument")
    idx = tmp_path / "bad-images-idx3-ubyte"
    idx.write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 7)
    raises(lambda: mx.io.MNISTIter(image=str(idx), label=str(idx)), "bad-images", code="io")
    raises(lambda: mx.model.load_checkpoint(str(tmp_path / "nothing"), 1), "nothing")


def test_unsupported_devices_and_stores():
    if mx.num_gpus() == 0:
        raises(lambda: mx.nd.zeros((2,), mx.gpu(0)), "gpu(0)")
    raises(lambda: mx.nd.zeros((2,), mx.gpu(99)), "gpu(99)")
    raises(lambda: mx.kv.create("dist_async"), "dist_async", "MPI", code="unsupported")


def test_out_of_memory_is_an_error():
    raises(lambda: mx.nd.ones((1 << 40,)), "out of memory", "TiB", code="out_of_memory")


def test_asynchronous_failure_surfaces_at_the_next_wait():
    # A host function pushed to the engine fails on a worker thread; the failure is kept and
    # reported by the next blocking call, with the op's name and message.
    try:
        mx.nd.waitall()  # start from no unreported failure (an earlier test may have left one)
    except mx.MXError:
        pass
    var = _capi.EngineVarHandle()
    assert lib.mx_engine_var_new(ctypes.byref(var)) == 0

    @_capi.ENGINE_FN
    def failing(user_data, err_buf, err_size):
        msg = b"the host op failed on purpose"
        ctypes.memmove(err_buf, msg, len(msg) + 1)
        return 1
    writes = (_capi.EngineVarHandle * 1)(var)
    assert lib.mx_engine_push(failing, None, _capi.FREE_FN(), None, 0, writes, 1, 0,
                              b"python_failing_op") == 0
    e = raises(mx.nd.waitall, "python_failing_op", "the host op failed on purpose")
    assert e.status != 0
    mx.nd.waitall()  # reported once; the engine goes on
    assert lib.mx_engine_var_free(var) == 0


def test_monitor_errors_do_not_unwind_into_the_engine():
    exe = (mx.sym.Variable("a") * 2).simple_bind(mx.cpu(), a=(2,))

    def broken(name, arr):
        raise RuntimeError("boom")
    exe.set_monitor_callback(broken)
    exe.forward()
    mx.nd.waitall()
    raises(exe.forward, "boom")


def test_errors_are_per_thread():
    results = {}

    def work(i):
        try:
            mx.nd.invoke("op_of_thread_%d" % i, [])
        except mx.MXError as e:
            results[i] = str(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("op_of_thread_%d" % i in results[i] for i in range(8))
    still_computes()


def test_many_failures_in_a_row_then_training_still_works():
    for i in range(200):
        with pytest.raises(mx.MXError):
            mx.nd.ones((2, 2)) + mx.nd.ones((3, 3))
        with pytest.raises(mx.MXError):
            mx.nd.invoke("nope%d" % i, [])
    x = np.random.RandomState(0).randn(64, 4).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = mx.model.FeedForward(
        mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2),
                             name="softmax"),
        num_epoch=20, numpy_batch_size=16, learning_rate=0.5, initializer=mx.init.Xavier())
    model.fit(x, y)
    assert model.score((x, y)) > 0.9


def test_python_values_the_binding_cannot_convert():
    raises(lambda: mx.nd.array("not numbers"), "cannot convert", code="binding")
    raises(lambda: mx.nd.array([[1, 2], [3]]), "cannot convert")
    raises(lambda: mx.nd.zeros("abc"), "shape", code="binding")
    raises(lambda: mx.nd.zeros((2, 2.5)), "shape")
    raises(lambda: mx.nd.zeros((2, 3), dtype="nonsense"), "not a data type")
    raises(lambda: mx.nd.zeros((2, 3), dtype="complex64"), "complex64")  # the library's refusal
    raises(lambda: mx.nd.ones(2).astype("bogus"), "not a data type")
    a = mx.nd.ones(2)

    def assign():
        a[:] = "x"
    raises(assign, "cannot convert")
    raises(lambda: a[1.5], "indexing")
    raises(lambda: mx.sym.Variable("d").infer_shape(d="x"), "shape")
    raises(lambda: mx.sym.Variable(3), "name must be a str")
    raises(lambda: mx.io.NDArrayIter([["a"]]), "cannot convert")
