"""mx.nd against numpy: creation, properties, views, assignment, arithmetic, comparisons,
the generated operator functions, files and pickling."""
import pickle

import numpy as np
import pytest

import mx


def rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(np.float32)


# ---- creation and properties ------------------------------------------------------------------


def test_creation_functions(ctx):
    assert np.array_equal(mx.nd.zeros((2, 3), ctx).asnumpy(), np.zeros((2, 3)))
    assert np.array_equal(mx.nd.ones(4, ctx).asnumpy(), np.ones(4))
    assert np.array_equal(mx.nd.full((2, 2), 7.5, ctx).asnumpy(), np.full((2, 2), 7.5))
    assert np.array_equal(mx.nd.arange(2, 8, 2, ctx=ctx).asnumpy(), [2, 4, 6])
    assert np.array_equal(mx.nd.arange(3, ctx=ctx).asnumpy(), [0, 1, 2])
    assert np.array_equal(mx.nd.arange(0, 2, repeat=2, ctx=ctx).asnumpy(), [0, 0, 1, 1])
    e = mx.nd.empty((3, 5), ctx)
    assert e.shape == (3, 5) and e.context == ctx
    a = mx.nd.array([[1, 2], [3, 4]], ctx)
    assert a.dtype == np.float32  # lists become float32, as in MXNet
    assert np.array_equal(a.asnumpy(), [[1, 2], [3, 4]])
    assert mx.nd.array(np.arange(4, dtype=np.float64)).dtype == np.float32
    assert mx.nd.array(np.arange(4), dtype="int32").dtype == np.int32


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.uint8, np.int32,
                                   np.int8, np.int64])
def test_dtypes_round_trip(dtype):
    values = (np.arange(12) % 7).astype(dtype).reshape(3, 4)
    a = mx.nd.array(values, dtype=dtype)
    assert a.dtype == dtype
    assert a.asnumpy().dtype == dtype
    assert np.array_equal(a.asnumpy(), values)
    z = mx.nd.zeros((2,), dtype=dtype)
    assert z.dtype == dtype and np.array_equal(z.asnumpy(), [0, 0])


def test_properties_and_scalars():
    a = mx.nd.ones((2, 3, 4))
    assert a.shape == (2, 3, 4) and a.size == 24 and a.ndim == 3 and len(a) == 2
    assert a.context == mx.cpu() and a.context.device_type == "cpu" and a.context.device_id == 0
    s = mx.nd.array([3.5])
    assert s.asscalar() == 3.5 and float(s) == 3.5 and bool(s)
    assert int(mx.nd.array([2])) == 2
    with pytest.raises(mx.MXError, match="exactly one element"):
        a.asscalar()
    with pytest.raises(mx.MXError, match="ambiguous"):
        bool(a)
    assert np.asarray(a).shape == (2, 3, 4)  # __array__


def test_repr_shows_values_shape_and_context():
    text = repr(mx.nd.array([[1, 2, 3], [4, 5, 6]]))
    assert "[[1. 2. 3.]" in text and "<NDArray 2x3 @cpu(0)>" in text


def test_default_context_of_a_with_block():
    with mx.cpu(1):
        a = mx.nd.zeros((2,))
        b = mx.nd.array([1, 2])
        assert mx.current_context() == mx.cpu(1)
    assert a.context == mx.cpu(1) and b.context == mx.cpu(1)
    assert mx.nd.zeros((2,)).context == mx.cpu(0)


def test_context_objects():
    assert mx.cpu(2) == mx.Context("cpu", 2) and mx.cpu(2) != mx.cpu(1)
    assert str(mx.gpu(1)) == "gpu(1)" and mx.gpu(1).device_type == "gpu"
    assert mx.Context(mx.gpu(3)).device_id == 3
    assert len({mx.cpu(0), mx.cpu(0), mx.cpu(1)}) == 2
    with pytest.raises(mx.MXError, match="unknown device type"):
        mx.Context("tpu")


# ---- copies, views, assignment ----------------------------------------------------------------


def test_copy_copyto_as_in_context_astype(ctx):
    a = mx.nd.array([1.5, 2.5], ctx)
    b = a.copy()
    b += 1
    assert np.array_equal(a.asnumpy(), [1.5, 2.5]) and np.array_equal(b.asnumpy(), [2.5, 3.5])
    c = a.copyto(mx.cpu(1))
    assert c.context == mx.cpu(1) and np.array_equal(c.asnumpy(), [1.5, 2.5])
    d = mx.nd.zeros(2, ctx)
    assert a.copyto(d) is d and np.array_equal(d.asnumpy(), [1.5, 2.5])
    assert a.as_in_context(ctx) is a
    assert a.as_in_context(mx.cpu(1)).context == mx.cpu(1)
    i = a.astype("int32")
    assert i.dtype == np.int32 and np.array_equal(i.asnumpy(), [1, 2])
    assert a.astype(np.float32, copy=False) is a


def test_views_share_memory():
    a = mx.nd.zeros((4, 3))
    row = a[1]
    rows = a[2:4]
    flat = a.reshape((12,))
    assert row.shape == (3,) and rows.shape == (2, 3) and flat.shape == (12,)
    row[:] = 5
    rows[:] = np.arange(6).reshape(2, 3)
    expected = np.zeros((4, 3))
    expected[1] = 5
    expected[2:4] = np.arange(6).reshape(2, 3)
    assert np.array_equal(a.asnumpy(), expected)
    assert np.array_equal(flat.asnumpy(), expected.reshape(12))
    flat[:] = 1
    assert np.array_equal(a.asnumpy(), np.ones((4, 3)))
    assert a[-1].shape == (3,)
    assert a[1, 2].shape == ()
    assert a.reshape(2, -1).shape == (2, 6) and a.reshape(shape=(3, 4)).shape == (3, 4)
    assert [r.shape for r in a] == [(3,)] * 4


def test_setitem_forms():
    a = mx.nd.zeros((3, 2))
    a[:] = 2
    assert np.array_equal(a.asnumpy(), np.full((3, 2), 2))
    a[:] = np.array([[1, 2], [3, 4], [5, 6]])
    assert np.array_equal(a.asnumpy(), [[1, 2], [3, 4], [5, 6]])
    a[1] = [9, 9]
    a[2:3] = mx.nd.array([[7, 8]])
    assert np.array_equal(a.asnumpy(), [[1, 2], [9, 9], [7, 8]])
    a[:] = mx.nd.array([1, 0])  # broadcast to (3, 2)
    assert np.array_equal(a.asnumpy(), [[1, 0]] * 3)
    a[0:2] = 4  # scalar into a slice
    assert np.array_equal(a.asnumpy(), [[4, 4], [4, 4], [1, 0]])
    a[0:2] += 1  # the in-place op writes through the view; the assignment back is skipped
    assert np.array_equal(a.asnumpy(), [[5, 5], [5, 5], [1, 0]])
    with pytest.raises(mx.MXError, match="cannot assign"):
        a[:] = np.ones((4, 4))
    with pytest.raises(mx.MXError, match="step 1"):
        a[::2]


def test_read_only_arrays_refuse_writes():
    it = mx.io.NDArrayIter(np.ones((4, 2)), np.zeros(4), batch_size=2)
    batch = next(iter(it))
    with pytest.raises(mx.MXError, match="read-only"):
        batch.data[0][:] = 0


# ---- arithmetic -------------------------------------------------------------------------------


def test_arithmetic_matches_numpy(ctx):
    x, y = rand(3, 4, seed=1), rand(3, 4, seed=2) + 2
    a, b = mx.nd.array(x, ctx), mx.nd.array(y, ctx)
    cases = [(a + b, x + y), (a - b, x - y), (a * b, x * y), (a / b, x / y),
             (a + 2, x + 2), (2 + a, 2 + x), (a - 2, x - 2), (2 - a, 2 - x), (a * 3, x * 3),
             (3 * a, 3 * x), (a / 4, x / 4), (4 / b, 4 / y), (b ** 2, y ** 2),
             (2 ** a, 2 ** x), (b ** a, y ** x), (-a, -x), (abs(a), abs(x)), (+a, x)]
    for got, want in cases:
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_broadcasting_arithmetic():
    x, y = rand(3, 4), rand(1, 4, seed=3)
    a, b = mx.nd.array(x), mx.nd.array(y)
    np.testing.assert_allclose((a + b).asnumpy(), x + y, rtol=1e-6)
    np.testing.assert_allclose((a * b).asnumpy(), x * y, rtol=1e-6)
    np.testing.assert_allclose((b - a).asnumpy(), y - x, rtol=1e-6)
    np.testing.assert_allclose(mx.nd.maximum(a, b).asnumpy(), np.maximum(x, y))


def test_in_place_operators_keep_the_object():
    x = rand(2, 3)
    a = mx.nd.array(x)
    same = a
    a += 1
    a -= mx.nd.ones((2, 3)) * 3
    a *= 2
    a /= mx.nd.full((2, 3), 4)
    assert a is same
    np.testing.assert_allclose(a.asnumpy(), (x + 1 - 3) * 2 / 4, rtol=1e-6)


def test_numpy_on_the_left_is_refused_not_silently_converted():
    with pytest.raises(mx.MXError, match="unsupported operand"):
        np.ones(3) + mx.nd.ones(3)
    with pytest.raises(mx.MXError, match="unsupported operand"):
        mx.nd.ones(3) + "x"


def test_comparisons_are_elementwise_zero_one():
    x, y = np.array([1, 2, 3], np.float32), np.array([3, 2, 1], np.float32)
    a, b = mx.nd.array(x), mx.nd.array(y)
    for got, want in [(a == b, x == y), (a != b, x != y), (a > b, x > y), (a >= b, x >= y),
                      (a < b, x < y), (a <= b, x <= y), (a == 2, x == 2), (a > 1, x > 1),
                      (a <= 2, x <= 2), (2 < a, 2 < x)]:
        assert np.array_equal(got.asnumpy(), want.astype(np.float32))
    assert (a == None) is False and (a != None) is True  # noqa: E711 - identity semantics


# ---- generated operator functions -------------------------------------------------------------


def test_generated_functions_match_numpy(ctx):
    x = np.abs(rand(3, 4)) + 0.1
    a = mx.nd.array(x, ctx)
    close = np.testing.assert_allclose
    close(mx.nd.sqrt(a).asnumpy(), np.sqrt(x), rtol=1e-6)
    close(mx.nd.exp(a).asnumpy(), np.exp(x), rtol=1e-6)
    close(mx.nd.log(a).asnumpy(), np.log(x), rtol=1e-6)
    close(mx.nd.abs(-a).asnumpy(), x, rtol=1e-6)
    close(mx.nd.square(a).asnumpy(), x * x, rtol=1e-6)
    close(mx.nd.sin(a).asnumpy(), np.sin(x), rtol=1e-5)
    close(mx.nd.relu(a - 0.5).asnumpy(), np.maximum(x - 0.5, 0), rtol=1e-6)
    close(mx.nd.sigmoid(a).asnumpy(), 1 / (1 + np.exp(-x)), rtol=1e-6)
    close(mx.nd.tanh(a).asnumpy(), np.tanh(x), rtol=1e-5)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    close(mx.nd.softmax(a).asnumpy(), e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    close(mx.nd.clip(a, 0.3, 0.6).asnumpy(), np.clip(x, 0.3, 0.6))  # positional parameters
    close(mx.nd.clip(a, a_min=0.3, a_max=0.6).asnumpy(), np.clip(x, 0.3, 0.6))
    close(mx.nd.minimum(a, 0.5).asnumpy(), np.minimum(x, 0.5))
    close(mx.nd.maximum(0.5, a).asnumpy(), np.maximum(x, 0.5))


def test_reductions(ctx):
    x = rand(2, 3, 4)
    a = mx.nd.array(x, ctx)
    close = np.testing.assert_allclose
    close(mx.nd.sum(a).asnumpy(), x.sum(), rtol=1e-5)
    close(mx.nd.sum(a, axis=1).asnumpy(), x.sum(axis=1), rtol=1e-5)
    close(mx.nd.sum(a, axis=(0, 2), keepdims=True).asnumpy(), x.sum(axis=(0, 2), keepdims=True),
          rtol=1e-5)
    close(mx.nd.mean(a, axis=2).asnumpy(), x.mean(axis=2), rtol=1e-5)
    close(mx.nd.max(a, axis=0).asnumpy(), x.max(axis=0))
    close(mx.nd.min(a, axis=None).asnumpy(), x.min())  # None: the library's default (all axes)
    close(a.sum(axis=1).asnumpy(), x.sum(axis=1), rtol=1e-5)  # fluent method
    assert np.array_equal(mx.nd.argmax(a, axis=2).asnumpy(), x.argmax(axis=2))
    assert np.array_equal(a.argmax(axis=1).asnumpy(), x.argmax(axis=1))


def test_matrix_and_shape_functions(ctx):
    x, y = rand(3, 4), rand(4, 5, seed=1)
    a, b = mx.nd.array(x, ctx), mx.nd.array(y, ctx)
    close = np.testing.assert_allclose
    close(mx.nd.dot(a, b).asnumpy(), x @ y, rtol=1e-5)
    close(mx.nd.dot(a, a, transpose_b=True).asnumpy(), x @ x.T, rtol=1e-5)
    close(mx.nd.dot(b, a, transpose_a=True, transpose_b=True).asnumpy(), y.T @ x.T, rtol=1e-5)
    close(a.T.asnumpy(), x.T)
    close(mx.nd.transpose(a).asnumpy(), x.T)
    close(mx.nd.concatenate([a, a * 2]).asnumpy(), np.concatenate([x, 2 * x]))
    close(mx.nd.concatenate([a, a], axis=1).asnumpy(), np.concatenate([x, x], axis=1))
    close(mx.nd.concat(a, a, a, dim=0).asnumpy(), np.concatenate([x, x, x]))
    close(mx.nd.Concat(a, a, dim=1).asnumpy(), np.concatenate([x, x], axis=1))
    oh = mx.nd.one_hot(mx.nd.array([0, 2, 1]), depth=3).asnumpy()
    assert np.array_equal(oh, np.eye(3)[[0, 2, 1]])
    close(mx.nd.Flatten(mx.nd.array(rand(2, 3, 2))).asnumpy(), rand(2, 3, 2).reshape(2, 6))
    close(mx.nd.Reshape(a, shape=(2, 6)).asnumpy(), x.reshape(2, 6))
    parts = mx.nd.SliceChannel(a, num_outputs=2, axis=1)
    assert isinstance(parts, list) and len(parts) == 2
    close(parts[1].asnumpy(), x[:, 2:])
    close(mx.nd.broadcast_to(mx.nd.array([[1, 2]]), shape=(3, 2)).asnumpy(), [[1, 2]] * 3)
    close(mx.nd.slice_axis(a, axis=1, begin=1, end=None).asnumpy(), x[:, 1:])
    close(mx.nd.add_n(a, a, a).asnumpy(), 3 * x, rtol=1e-6)


def test_generated_functions_with_named_inputs_and_out():
    x, w, b = rand(4, 5), rand(3, 5, seed=1), rand(3, seed=2)
    data, weight, bias = mx.nd.array(x), mx.nd.array(w), mx.nd.array(b)
    want = x @ w.T + b
    np.testing.assert_allclose(
        mx.nd.FullyConnected(data=data, weight=weight, bias=bias, num_hidden=3).asnumpy(), want,
        rtol=1e-5)
    np.testing.assert_allclose(
        mx.nd.FullyConnected(data, weight, bias, num_hidden=3).asnumpy(), want, rtol=1e-5)
    np.testing.assert_allclose(
        mx.nd.FullyConnected(data, weight=weight, num_hidden=3, no_bias=True).asnumpy(),
        x @ w.T, rtol=1e-5)
    out = mx.nd.zeros((4, 3))
    assert mx.nd.FullyConnected(data, weight, bias, num_hidden=3, out=out) is out
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-5)
    with pytest.raises(mx.MXError, match="unknown input"):
        mx.nd.FullyConnected(data, wieght=weight, num_hidden=3)
    with pytest.raises(mx.MXError, match="input weight is missing"):
        mx.nd.FullyConnected(data, bias=bias, num_hidden=3)


def test_every_public_operator_is_a_function_with_its_documentation():
    from mx import _ops
    names = [n for n in _ops.list_ops() if not n.startswith("_")]
    assert len(names) > 50
    for name in names:
        fn = getattr(mx.nd, name)
        assert callable(fn) and fn.__name__ == name
        assert getattr(mx.sym, name).__doc__ == fn.__doc__
    assert "num_hidden : int, required" in mx.nd.FullyConnected.__doc__
    assert callable(mx.nd._internal._plus_scalar) and callable(mx.sym._internal._mul_scalar)


def test_random_numbers_repeat_after_seeding():
    mx.random.seed(7)
    a = mx.random.uniform(-1, 1, shape=(1000,)).asnumpy()
    b = mx.rnd.normal(2, 0.5, shape=(1000,)).asnumpy()
    mx.random.seed(7)
    assert np.array_equal(mx.random.uniform(-1, 1, shape=(1000,)).asnumpy(), a)
    assert np.array_equal(mx.random.normal(2, 0.5, shape=(1000,)).asnumpy(), b)
    assert a.min() >= -1 and a.max() < 1 and abs(a.mean()) < 0.1
    assert abs(b.mean() - 2) < 0.1 and abs(b.std() - 0.5) < 0.05
    out = mx.nd.zeros((10, 10))
    assert mx.random.uniform(0, 1, out=out) is out and out.asnumpy().std() > 0


# ---- files, pickling, waiting -----------------------------------------------------------------


def test_save_and_load_lists_and_dicts(tmp_path):
    a, b = mx.nd.array(rand(2, 3)), mx.nd.array(np.arange(4), dtype="int32")
    path = str(tmp_path / "arrays.bin")
    mx.nd.save(path, [a, b])
    loaded = mx.nd.load(path)
    assert isinstance(loaded, list) and len(loaded) == 2
    assert np.array_equal(loaded[0].asnumpy(), a.asnumpy()) and loaded[1].dtype == np.int32
    mx.nd.save(path, {"a": a, "b": b})
    loaded = mx.nd.load(path)
    assert sorted(loaded) == ["a", "b"] and np.array_equal(loaded["b"].asnumpy(), [0, 1, 2, 3])
    mx.nd.save(path, a)
    assert np.array_equal(mx.nd.load(path)[0].asnumpy(), a.asnumpy())


def test_pickle_round_trip():
    a = mx.nd.array(rand(3, 2), mx.cpu(1))
    b = pickle.loads(pickle.dumps(a))
    assert b.context == mx.cpu(1) and np.array_equal(b.asnumpy(), a.asnumpy())


def test_waitall_and_wait_to_read():
    arrays = [mx.nd.ones((50, 50)) * i for i in range(20)]
    mx.nd.waitall()
    arrays[-1].wait_to_read()
    assert arrays[-1].asnumpy()[0, 0] == 19


def test_op_info_says_which_ops_have_gpu_kernels():
    from mx._ops import get_op
    for name in ("FullyConnected", "Activation", "SoftmaxOutput", "sgd_update", "dot"):
        assert get_op(name).gpu, name
    # Every operator of the library has GPU kernels (docs/operators.md's GPU column).
    assert [n for n in mx._ops.list_ops() if not get_op(n).gpu] == []
