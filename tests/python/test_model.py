"""mx.model.FeedForward: fit on numpy arrays and iterators, evaluation, predict / score,
checkpoints, create, and data parallelism over two contexts through a kvstore, which must
train exactly as one device does."""
import logging

import numpy as np
import pytest

import mx
from conftest import prototypes


def mlp(label_name="softmax"):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=32, name="fc1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(net, name=label_name)


@pytest.fixture(scope="module")
def digits():
    x, y = prototypes(600, dim=64, noise=1.0, seed=1)
    vx, vy = prototypes(200, dim=64, noise=1.0, seed=2)
    return x, y, vx, vy


def test_fit_numpy_with_eval_data_predict_and_score(digits, caplog):
    caplog.set_level(logging.INFO)
    x, y, vx, vy = digits
    mx.random.seed(0)
    model = mx.model.FeedForward(mlp(), num_epoch=5, numpy_batch_size=50, learning_rate=0.1,
                                 momentum=0.9, initializer=mx.init.Xavier())
    epochs_seen = []
    model.fit(x, y, eval_data=(vx, vy), eval_metric="acc",
              epoch_end_callback=lambda e, sym, arg, aux: epochs_seen.append(e),
              batch_end_callback=mx.callback.Speedometer(50, 4))
    assert epochs_seen == [0, 1, 2, 3, 4]
    assert "Epoch[4] Validation-accuracy=" in caplog.text
    assert sorted(model.arg_params) == ["fc1_bias", "fc1_weight", "fc2_bias", "fc2_weight"]
    assert model.score((vx, vy)) > 0.9
    prob = model.predict(vx)
    assert prob.shape == (200, 10)
    assert (prob.argmax(axis=1) == vy).mean() == pytest.approx(model.score((vx, vy)))
    # An iterator whose size is not a multiple of the batch: padding is left out.
    it = mx.io.NDArrayIter(vx[:130], vy[:130], batch_size=50)
    assert model.predict(it).shape == (130, 10)
    out, data, label = model.predict(it, return_data=True)
    assert data.shape == (130, 64) and np.array_equal(label, vy[:130])
    assert model.score(it, "ce") < 1.0


def test_save_load_and_continue(tmp_path, digits):
    x, y, vx, vy = digits
    mx.random.seed(0)
    model = mx.model.FeedForward(mlp(), num_epoch=3, numpy_batch_size=50, learning_rate=0.1,
                                 initializer=mx.init.Xavier())
    model.fit(x, y)
    prefix = str(tmp_path / "mlp")
    model.save(prefix)
    loaded = mx.model.FeedForward.load(prefix, 3)
    np.testing.assert_allclose(loaded.predict(vx), model.predict(vx), rtol=1e-6)
    assert loaded.begin_epoch == 3
    loaded.num_epoch = 5
    loaded.fit(x, y)  # resumes from the loaded parameters
    assert loaded.score((vx, vy)) >= model.score((vx, vy)) - 0.02
    with pytest.raises(mx.MXError):
        mx.model.FeedForward.load(prefix, 7)  # no such epoch: the library names the file


def test_create_with_an_iterator_and_custom_label_name(digits):
    x, y, vx, vy = digits
    mx.random.seed(0)
    train = mx.io.NDArrayIter(x, y, batch_size=60, shuffle=True)
    # The iterator's label is 'softmax_label'; the symbol's is 'out_label', its one label.
    model = mx.model.FeedForward.create(mlp("out"), X=train, num_epoch=4, learning_rate=0.1,
                                        momentum=0.9, initializer=mx.init.Xavier(),
                                        eval_metric=mx.metric.Accuracy())
    assert model.score(mx.io.NDArrayIter(vx, vy, batch_size=60)) > 0.9


def train_params(ctx, x, y, kvstore="local", work_load_list=None):
    mx.random.seed(5)
    model = mx.model.FeedForward(mlp(), ctx=ctx, num_epoch=2, numpy_batch_size=40,
                                 learning_rate=0.1, momentum=0.9, wd=1e-4,
                                 initializer=mx.init.Xavier())
    model.fit(x, y, kvstore=kvstore, work_load_list=work_load_list)
    return {k: v.asnumpy() for k, v in model.arg_params.items()}


def test_two_devices_train_exactly_as_one(digits):
    x, y, _, _ = digits
    one = train_params(mx.cpu(0), x, y)
    two = train_params([mx.cpu(0), mx.cpu(1)], x, y)
    uneven = train_params([mx.cpu(0), mx.cpu(1)], x, y, work_load_list=[3, 1])
    device = train_params([mx.cpu(0), mx.cpu(1)], x, y, kvstore=mx.kv.create("device"))
    for name in one:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(uneven[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(device[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_dist_sync_alone_is_one_worker(digits):
    """Without mpirun, dist_sync is a group of one (tests/python/test_dist.py runs it with
    mpirun); a libmx without MPI says so."""
    x, y, _, _ = digits
    try:
        kv = mx.kv.create("dist_sync")
    except mx.MXError as e:
        assert "without MPI" in str(e)
        return
    assert (kv.rank, kv.num_workers, kv.type) == (0, 1, "dist_sync")
    one = train_params(mx.cpu(0), x, y)
    dist = train_params(mx.cpu(0), x, y, kvstore="dist_sync")
    for name in one:
        np.testing.assert_allclose(dist[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_fit_errors_are_mx_errors(digits):
    x, y, _, _ = digits
    with pytest.raises(mx.MXError, match="num_epoch"):
        mx.model.FeedForward(mlp()).fit(x, y)
    with pytest.raises(mx.MXError, match="y"):
        mx.model.FeedForward(mlp(), num_epoch=1).fit(x)
    with pytest.raises(mx.MXError, match="dist_sync"):
        mx.model.FeedForward(mlp(), num_epoch=1).fit(x, y, kvstore="dist_async")
    with pytest.raises(mx.MXError, match="work_load_list has 1 entries for 2 contexts"):
        mx.model.FeedForward(mlp(), ctx=[mx.cpu(0), mx.cpu(1)], num_epoch=1).fit(
            x, y, work_load_list=[1])
    with pytest.raises(mx.MXError, match="no parameters"):
        mx.model.FeedForward(mlp()).predict(x)
    with pytest.raises(mx.MXError, match="shape"):
        mx.model.FeedForward(mlp(), num_epoch=1,
                             arg_params={"fc1_weight": mx.nd.zeros((3, 3))}).fit(x, y)
    with pytest.raises(mx.MXError, match="does not have"):
        mx.model.FeedForward(mlp(), num_epoch=1, arg_params={"extra": mx.nd.zeros(1)}).fit(x, y)
    with pytest.raises(mx.MXError, match="symbol"):
        mx.model.FeedForward("not a symbol")


def test_a_variables_own_initializer_wins(digits):
    x, y, _, _ = digits
    data = mx.sym.Variable("data")
    w = mx.sym.Variable("fc1_weight", init=mx.init.Constant(0.5))
    net = mx.sym.FullyConnected(data, weight=w, num_hidden=10, name="fc1")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    model = mx.model.FeedForward(net, num_epoch=1, numpy_batch_size=50, learning_rate=0.0,
                                 initializer=mx.init.Xavier())
    model.fit(x, y)
    assert np.array_equal(model.arg_params["fc1_weight"].asnumpy(), np.full((10, 64), 0.5))
    assert np.array_equal(model.arg_params["fc1_bias"].asnumpy(), np.zeros(10))
