"""The training pieces against references written here: initializers, optimizers (SGD with
momentum / weight decay / clipping, Adam, multipliers, schedules), metrics, data iterators,
callbacks and key-value stores."""
import logging
import math
import os

import numpy as np
import pytest

import mx
from conftest import write_idx


# ---- initializers -----------------------------------------------------------------------------


def test_initializers_by_name_rules():
    mx.random.seed(3)
    w = mx.nd.zeros((200, 100))
    mx.init.Uniform(0.1)("fc_weight", w)
    v = w.asnumpy()
    assert v.min() >= -0.1 and v.max() <= 0.1 and v.std() > 0.05
    mx.init.Normal(0.5)("fc_weight", w)
    assert abs(w.asnumpy().std() - 0.5) < 0.02
    mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)("fc_weight", w)
    bound = math.sqrt(3 / ((200 + 100) / 2))
    assert abs(w.asnumpy()).max() <= bound and w.asnumpy().std() > bound / 3
    b = mx.nd.ones(5)
    mx.init.Xavier()("fc_bias", b)  # biases are zero whatever the rule
    assert np.array_equal(b.asnumpy(), np.zeros(5))
    g = mx.nd.zeros(5)
    mx.init.Uniform()("bn_gamma", g)
    assert np.array_equal(g.asnumpy(), np.ones(5))
    mx.init.Constant(2.5)("w_weight", b)
    assert np.array_equal(b.asnumpy(), np.full(5, 2.5))
    mx.init.One()("w_weight", b)
    mx.init.Zero()("x_weight", g)
    assert b.asnumpy().sum() == 5 and g.asnumpy().sum() == 0
    with pytest.raises(mx.MXError, match="data"):
        mx.init.Uniform()("data", b)  # neither a weight nor a bias: the library refuses
    assert isinstance(mx.init.create("xavier"), mx.init.Xavier)
    assert isinstance(mx.init.create(mx.init.Normal(0.3).dumps()), mx.init.Normal)
    with pytest.raises(mx.MXError, match="unknown initializer"):
        mx.init.create("orthogonal")


def test_initializers_repeat_after_seeding():
    a, b = mx.nd.zeros((10, 10)), mx.nd.zeros((10, 10))
    mx.random.seed(11)
    mx.init.Xavier(rnd_type="gaussian")("w_weight", a)
    mx.random.seed(11)
    mx.init.Xavier(rnd_type="gaussian")("w_weight", b)
    assert np.array_equal(a.asnumpy(), b.asnumpy())


# ---- optimizers -------------------------------------------------------------------------------


def grads_of_step(k, n=6):
    return (np.sin(np.arange(n) * 1.7 + k) * (k + 1)).astype(np.float32)


def test_sgd_matches_its_formula():
    lr, mom, wd, rescale, clip = 0.1, 0.9, 0.01, 0.5, 1.0
    opt = mx.optimizer.SGD(learning_rate=lr, momentum=mom, wd=wd, rescale_grad=rescale,
                           clip_gradient=clip)
    w0 = np.linspace(-1, 1, 6).astype(np.float32)
    weight = mx.nd.array(w0)
    ref, state = w0.astype(np.float64), np.zeros(6)
    for k in range(5):
        g = grads_of_step(k)
        opt.update(0, weight, mx.nd.array(g))
        gr = np.clip(g * rescale, -clip, clip) + wd * ref
        state = mom * state - lr * gr
        ref = ref + state
    np.testing.assert_allclose(weight.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    assert opt.learning_rate == pytest.approx(lr)


def test_adam_matches_its_formula():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = mx.optimizer.create("adam", learning_rate=lr)
    w0 = np.linspace(-1, 1, 6)
    weight = mx.nd.array(w0)
    ref, m, v = w0.copy(), np.zeros(6), np.zeros(6)
    for t in range(1, 6):
        g = grads_of_step(t).astype(np.float64)
        opt.update(3, weight, mx.nd.array(g))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        ref = ref - lr_t * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(weight.asnumpy(), ref, rtol=1e-4, atol=1e-6)


def test_multipliers_names_and_bias_rule():
    opt = mx.optimizer.SGD(learning_rate=1.0, wd=1.0, param_idx2name={0: "fc_weight",
                                                                       1: "fc_bias",
                                                                       2: "slow_weight"})
    opt.set_lr_mult({"slow_weight": 0.5})
    ws = [mx.nd.ones(1) * 2 for _ in range(3)]
    for i, w in enumerate(ws):
        opt.update(i, w, mx.nd.ones(1))
    assert ws[0].asscalar() == pytest.approx(2 - (1 + 2))  # weight: decayed
    assert ws[1].asscalar() == pytest.approx(2 - 1)  # bias: no decay (MXNet's rule)
    assert ws[2].asscalar() == pytest.approx(2 - 0.5 * (1 + 2))
    assert opt.idx2name[1] == "fc_bias"


def test_multipliers_from_symbol_attributes():
    d = mx.sym.Variable("data")
    w = mx.sym.Variable("fc_weight", lr_mult=0.0)
    net = mx.sym.FullyConnected(d, weight=w, num_hidden=1, name="fc")
    opt = mx.optimizer.SGD(learning_rate=1.0, sym=net, param_idx2name={0: "fc_weight"})
    weight = mx.nd.ones(2)
    opt.update(0, weight, mx.nd.ones(2))
    assert np.array_equal(weight.asnumpy(), [1, 1])  # lr_mult 0 freezes it


def test_learning_rate_schedules():
    opt = mx.optimizer.SGD(learning_rate=1.0,
                           lr_scheduler=mx.lr_scheduler.FactorScheduler(step=2, factor=0.5))
    w = mx.nd.zeros(1)
    seen = []
    for _ in range(6):
        opt.update(0, w, mx.nd.ones(1))
        seen.append(opt.learning_rate)
    assert seen[0] == 1.0 and seen[-1] < seen[0]
    assert all(a >= b for a, b in zip(seen, seen[1:]))
    with pytest.raises(mx.MXError):
        opt.set_learning_rate(0.1)  # the schedule owns the rate, as in MXNet
    multi = mx.optimizer.SGD(learning_rate=1.0,
                             lr_scheduler=mx.lr_scheduler.MultiFactorScheduler([2, 4], 0.1))
    for _ in range(5):
        multi.update(0, w, mx.nd.ones(1))
    assert multi.learning_rate == pytest.approx(0.01)
    plain = mx.optimizer.SGD(learning_rate=0.3)
    plain.set_learning_rate(0.2)
    assert plain.learning_rate == pytest.approx(0.2)


def test_updater_and_create_errors():
    opt = mx.optimizer.create("sgd", learning_rate=0.5)
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.ones(2)
    upd(0, mx.nd.ones(2), w)  # MXNet's order: index, grad, weight
    assert np.allclose(w.asnumpy(), 0.5)
    with pytest.raises(mx.MXError, match="unknown optimizer"):
        mx.optimizer.create("rmsprop")
    with pytest.raises(mx.MXError, match="nesterov"):
        mx.optimizer.SGD(nesterov=True)  # the library names the unknown parameter


# ---- metrics ----------------------------------------------------------------------------------


def test_metrics_against_numpy():
    rng = np.random.RandomState(0)
    p = rng.uniform(size=(20, 4))
    p /= p.sum(axis=1, keepdims=True)
    y = rng.randint(0, 4, size=20)
    labels, preds = [mx.nd.array(y[:10]), mx.nd.array(y[10:])], [mx.nd.array(p[:10]),
                                                                 mx.nd.array(p[10:])]
    acc = mx.metric.Accuracy()
    acc.update(labels, preds)
    assert acc.get() == ("accuracy", pytest.approx((p.argmax(1) == y).mean()))
    top2 = mx.metric.TopKAccuracy(top_k=2)
    top2.update(labels, preds)
    in_top2 = [y[i] in np.argsort(p[i])[-2:] for i in range(20)]
    assert top2.get()[1] == pytest.approx(np.mean(in_top2))
    ce = mx.metric.create("ce")
    ce.update(labels, preds)
    assert ce.get()[1] == pytest.approx(-np.log(p[np.arange(20), y] + 1e-12).mean(), rel=1e-5)
    mse = mx.metric.MSE()
    t = rng.uniform(size=(10, 1))
    mse.update([mx.nd.array(t)], [mx.nd.array(t + 0.5)])
    assert mse.get()[1] == pytest.approx(0.25, rel=1e-5)
    acc.reset()
    assert math.isnan(acc.get()[1])
    with pytest.raises(mx.MXError, match="unknown metric"):
        mx.metric.create("f1-ish")


def test_local_and_global_scores_and_composites():
    acc = mx.metric.create("acc")
    acc.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [1, 0]])])  # 1 of 2
    acc.reset_local()
    acc.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [0, 1]])])  # 2 of 2
    assert acc.get()[1] == 1.0 and acc.get_global()[1] == 0.75
    custom = mx.metric.create(lambda label, pred: float((label == pred.argmax(1)).mean()),
                              name="mine")
    comp = mx.metric.create(["acc", custom])
    comp.update([mx.nd.array([1])], [mx.nd.array([[0.2, 0.8]])])
    assert comp.get() == (["accuracy", "mine"], [1.0, 1.0])
    assert dict(comp.get_global_name_value()) == {"accuracy": 1.0, "mine": 1.0}
    pair = mx.metric.np(lambda label, pred: (float((label == pred.argmax(1)).sum()), 2))
    pair.update([mx.nd.array([1, 0])], [mx.nd.array([[0, 1], [0, 1]])])
    assert pair.get()[1] == 0.5


# ---- data iterators ---------------------------------------------------------------------------


def epochs(it, n=2):
    out = []
    for _ in range(n):
        it.reset()
        out.append([(b.data[0].asnumpy().copy(), b.label[0].asnumpy().copy(), b.pad)
                    for b in it])
    return out


def test_ndarray_iter_last_batch_modes_and_shuffle():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10, dtype=np.float32)
    it = mx.io.NDArrayIter(x, y, batch_size=4)
    assert it.provide_data == [("data", (4, 1))] and it.provide_label == [("softmax_label",
                                                                            (4,))]
    first = epochs(it, 1)[0]
    assert [b[2] for b in first] == [0, 0, 2]
    assert np.array_equal(first[2][0].ravel(), [8, 9, 0, 1])  # padded from the start
    it = mx.io.NDArrayIter(x, y, batch_size=4, last_batch_handle="discard")
    assert len(epochs(it, 1)[0]) == 2
    it = mx.io.NDArrayIter(x, y, batch_size=4, last_batch_handle="roll_over")
    e1, e2 = epochs(it)
    seen = np.concatenate([b[0].ravel() for b in e1 + e2])
    assert sorted(seen[:8]) == list(range(8)) and set(seen[8:12]) >= {8, 9}
    it = mx.io.NDArrayIter(x, y, batch_size=5, shuffle=True, seed=1)
    e1, e2 = epochs(it)
    o1 = np.concatenate([b[0].ravel() for b in e1])
    o2 = np.concatenate([b[0].ravel() for b in e2])
    assert sorted(o1) == list(range(10)) and not np.array_equal(o1, o2)
    for b in e1:  # labels follow their samples
        assert np.array_equal(b[0].ravel(), b[1])
    with pytest.raises(mx.MXError, match="last_batch_handle"):
        mx.io.NDArrayIter(x, y, last_batch_handle="wrap")


def test_ndarray_iter_names_inputs_and_accepts_ndarrays():
    it = mx.io.NDArrayIter({"pixels": mx.nd.ones((6, 2, 2))}, {"target": np.zeros(6)},
                           batch_size=3)
    assert it.provide_data[0].name == "pixels" and it.provide_data[0].shape == (3, 2, 2)
    assert it.provide_label[0].name == "target"
    nolabel = mx.io.NDArrayIter(np.ones((4, 3)), batch_size=2)
    assert nolabel.provide_label == [] and next(iter(nolabel)).label is None


def test_mnist_iter_reads_idx_files(tmp_path):
    images = (np.arange(7 * 28 * 28) % 256).reshape(7, 28, 28)
    labels = np.array([3, 1, 4, 1, 5, 9, 2])
    img, lbl = write_idx(str(tmp_path), "t", images, labels)
    it = mx.io.MNISTIter(image=img, label=lbl, batch_size=3, shuffle=False, flat=True)
    assert it.provide_data == [("data", (3, 784))]
    batches = [(b.data[0].asnumpy(), b.label[0].asnumpy(), b.pad) for b in list(it)]
    assert len(batches) == 3 and [b[2] for b in batches] == [0, 0, 2]
    np.testing.assert_allclose(batches[0][0], images[:3].reshape(3, 784) / 255.0, rtol=1e-6)
    np.testing.assert_allclose(batches[2][0][0], images[6].reshape(784) / 255.0, rtol=1e-6)
    assert np.array_equal(batches[2][1], labels[[6, 0, 1]])
    it = mx.io.MNISTIter(image=img, label=lbl, batch_size=7, shuffle=False)
    batch = next(iter(it))
    assert batch.data[0].shape == (7, 1, 28, 28)
    assert np.array_equal(batch.label[0].asnumpy(), labels)


def test_python_data_iterators_work_with_the_protocol():
    class Counting(mx.io.DataIter):
        def __init__(self):
            super().__init__(batch_size=2)
            self.i = 0

        def reset(self):
            self.i = 0

        def next(self):
            if self.i == 3:
                raise StopIteration
            self.i += 1
            return mx.io.DataBatch([mx.nd.ones((2, 1)) * self.i], [mx.nd.zeros(2)])

        @property
        def provide_data(self):
            return [mx.io.DataDesc("data", (2, 1))]

        @property
        def provide_label(self):
            return [mx.io.DataDesc("softmax_label", (2,))]
    assert [b.data[0].asnumpy()[0, 0] for b in Counting()] == [1, 2, 3]


# ---- callbacks --------------------------------------------------------------------------------


def test_speedometer_logs_speed_and_metric(caplog):
    caplog.set_level(logging.INFO)
    metric = mx.metric.Accuracy()
    metric.update([mx.nd.array([0])], [mx.nd.array([[1, 0]])])
    speed = mx.callback.Speedometer(batch_size=10, frequent=2)
    for n in range(1, 5):
        speed(mx.callback.BatchEndParam(epoch=0, nbatch=n, eval_metric=metric))
    assert "Epoch[0] Batch [2]" in caplog.text and "samples/sec" in caplog.text
    assert "accuracy=1.0" in caplog.text
    assert speed.last_speed > 0


def test_do_checkpoint_writes_loadable_files(tmp_path):
    d = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(d, num_hidden=2, name="fc")
    prefix = str(tmp_path / "ckpt")
    cb = mx.callback.do_checkpoint(prefix, period=2)
    args = {"fc_weight": mx.nd.ones((2, 3)), "fc_bias": mx.nd.zeros(2)}
    cb(0, net, args, {})
    assert not os.path.exists(prefix + "-0001.params")
    cb(1, net, args, {})
    sym, arg_params, aux_params = mx.model.load_checkpoint(prefix, 2)
    assert sym.tojson() == net.tojson() and aux_params == {}
    assert np.array_equal(arg_params["fc_weight"].asnumpy(), np.ones((2, 3)))


# ---- key-value stores -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["local", "device"])
def test_kvstore_sums_pushes_and_pulls_to_every_device(kind):
    kv = mx.kv.create(kind)
    assert kv.type == kind and kv.rank == 0 and kv.num_workers == 1
    kv.init(3, mx.nd.ones((2, 2)))
    kv.init(["a", "b"], [mx.nd.zeros(2), mx.nd.ones(3)])
    out = [mx.nd.zeros((2, 2), mx.cpu(0)), mx.nd.zeros((2, 2), mx.cpu(1))]
    kv.pull(3, out=out)
    assert all(np.array_equal(o.asnumpy(), np.ones((2, 2))) for o in out)
    kv.push(3, [mx.nd.ones((2, 2)) * 2, mx.nd.ones((2, 2), mx.cpu(1)) * 5])
    kv.pull(3, out=out)
    assert all(np.array_equal(o.asnumpy(), np.full((2, 2), 7)) for o in out)
    kv.push(["a", "b"], [mx.nd.array([1, 2]), mx.nd.array([3, 4, 5])])
    a, b = mx.nd.zeros(2), mx.nd.zeros(3)
    kv.pull(["a", "b"], out=[a, b])
    assert np.array_equal(a.asnumpy(), [1, 2]) and np.array_equal(b.asnumpy(), [3, 4, 5])


def test_kvstore_with_optimizer_updates_once_per_push():
    kv = mx.kv.create("local")
    kv.init("fc_weight", mx.nd.ones(3))
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1))
    kv.push("fc_weight", [mx.nd.ones(3), mx.nd.ones(3, mx.cpu(1)) * 3])
    w = mx.nd.zeros(3)
    kv.pull("fc_weight", out=w)
    np.testing.assert_allclose(w.asnumpy(), 1 - 0.1 * 4, rtol=1e-6)


def test_kvstore_errors():
    with pytest.raises(mx.MXError, match="use 'dist_sync'") as info:
        mx.kv.create("dist_async")
    assert info.value.code == "unsupported"
    with pytest.raises(mx.MXError, match="unknown kvstore type"):
        mx.kv.create("carrier_pigeon")
    kv = mx.kv.create()
    kv.init("k", mx.nd.ones(2))
    with pytest.raises(mx.MXError, match="already initialised"):
        kv.init("k", mx.nd.ones(2))
    with pytest.raises(mx.MXError, match="'q' has not been initialised"):
        kv.push("q", mx.nd.ones(2))
    with pytest.raises(mx.MXError, match="shape"):
        kv.pull("k", out=mx.nd.zeros(3))
    with pytest.raises(mx.MXError, match="expected NDArrays"):
        kv.push("k", np.ones(2))
