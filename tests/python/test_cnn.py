"""Convolution-class operators through the binding (they reach Python through the op list):
Convolution, Pooling and BatchNorm against numpy references and finite differences, and a small
LeNet trained with FeedForward (batch-norm statistics as auxiliary states in checkpoints),
LeakyReLU and Dropout."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx
from conftest import ROOT
from gradcheck import check_gradient


def rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, size=shape)


def conv_ref(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - kh) // stride[0] + 1
    ow = (wd + 2 * pad[1] - kw) // stride[1] + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + (0 if b is None else b.reshape(1, f, 1, 1))


def forward(sym, is_train=False, **inputs):
    exe = sym.bind(mx.cpu(), {k: mx.nd.array(v, dtype=np.float64) for k, v in inputs.items()
                              if k in sym.list_arguments()},
                   aux_states={k: mx.nd.array(v, dtype=np.float64) for k, v in inputs.items()
                               if k in sym.list_auxiliary_states()})
    exe.forward(is_train=is_train)
    return exe


@pytest.mark.parametrize("stride,pad", [((1, 1), (0, 0)), ((2, 1), (1, 2))])
def test_convolution_matches_a_direct_reference(stride, pad):
    data = mx.sym.Variable("data")
    conv = mx.sym.Convolution(data=data, kernel=(3, 2), num_filter=4, stride=stride, pad=pad,
                              name="conv")
    assert conv.list_arguments() == ["data", "conv_weight", "conv_bias"]
    arg_shapes, out_shapes, _ = conv.infer_shape(data=(2, 3, 7, 6))
    assert arg_shapes[1] == (4, 3, 3, 2) and arg_shapes[2] == (4,)
    x, w, b = rand(2, 3, 7, 6), rand(4, 3, 3, 2, seed=1), rand(4, seed=2)
    want = conv_ref(x, w, b, stride, pad)
    assert out_shapes[0] == want.shape
    out = forward(conv, data=x, conv_weight=w, conv_bias=b).outputs[0].asnumpy()
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)
    nb = mx.sym.Convolution(data=data, kernel=(3, 3), num_filter=2, no_bias=True, name="nb")
    assert nb.list_arguments() == ["data", "nb_weight"]
    # The imperative form of the same op.
    got = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), kernel=(3, 2),
                            num_filter=4, stride=stride, pad=pad).asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_convolution_gradient():
    data = mx.sym.Variable("data")
    conv = mx.sym.Convolution(data=data, kernel=(2, 2), num_filter=2, stride=(1, 2), pad=(1, 0),
                              name="conv")
    check_gradient(conv, {"data": rand(2, 2, 4, 5), "conv_weight": rand(2, 2, 2, 2, seed=1),
                          "conv_bias": rand(2, seed=2)})


def pool_ref(x, k, s, kind):
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            out[:, :, i, j] = win.max(axis=(2, 3)) if kind == "max" else win.mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_numpy_and_its_gradient(kind):
    data = mx.sym.Variable("data")
    pool = mx.sym.Pooling(data=data, kernel=(2, 2), stride=(2, 2), pool_type=kind)
    x = rand(2, 3, 6, 4)
    out = forward(pool, data=x).outputs[0].asnumpy()
    np.testing.assert_allclose(out, pool_ref(x, (2, 2), (2, 2), kind), rtol=1e-12)
    check_gradient(pool, {"data": x})
    glob = mx.sym.Pooling(data=data, kernel=(1, 1), global_pool=True, pool_type=kind)
    out = forward(glob, data=x).outputs[0].asnumpy()
    ref = x.max(axis=(2, 3)) if kind == "max" else x.mean(axis=(2, 3))
    np.testing.assert_allclose(out.reshape(2, 3), ref, rtol=1e-12)


def test_batch_norm_statistics_aux_states_and_gradient():
    data = mx.sym.Variable("data")
    bn = mx.sym.BatchNorm(data=data, fix_gamma=False, momentum=0.5, eps=1e-5, name="bn")
    assert bn.list_arguments() == ["data", "bn_gamma", "bn_beta"]
    assert bn.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    _, out_shapes, aux_shapes = bn.infer_shape(data=(4, 3, 2, 2))
    assert out_shapes == [(4, 3, 2, 2)] and aux_shapes == [(3,), (3,)]
    x = rand(4, 3, 2, 2) * 3 + 1
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    loc = dict(data=x, bn_gamma=gamma, bn_beta=beta, bn_moving_mean=np.zeros(3),
               bn_moving_var=np.ones(3))
    exe = forward(bn, is_train=True, **loc)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    want = ((x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5) *
            gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1))
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), want, rtol=1e-6, atol=1e-8)
    # Training moved the statistics (momentum 0.5 from 0 and 1).
    np.testing.assert_allclose(exe.aux_dict["bn_moving_mean"].asnumpy(), 0.5 * mean, rtol=1e-6)
    assert not np.allclose(exe.aux_dict["bn_moving_var"].asnumpy(), 1.0)
    # Inference uses the moving statistics.
    infer = forward(bn, is_train=False, **dict(loc, bn_moving_mean=mean, bn_moving_var=var))
    np.testing.assert_allclose(infer.outputs[0].asnumpy(), want, rtol=1e-6, atol=1e-8)
    check_gradient(bn, {"data": x, "bn_gamma": gamma, "bn_beta": beta},
                   aux_states={"bn_moving_mean": np.zeros(3), "bn_moving_var": np.ones(3)},
                   rtol=1e-4, atol=1e-6)


def lenet(with_bn):
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data=data, kernel=(5, 5), num_filter=8, stride=(2, 2),
                             name="conv1")
    if with_bn:
        net = mx.sym.BatchNorm(data=net, name="bn1")
    net = mx.sym.Activation(data=net, act_type="relu")
    net = mx.sym.Pooling(data=net, kernel=(2, 2), stride=(2, 2), pool_type="max")
    net = mx.sym.Flatten(data=net)
    net = mx.sym.FullyConnected(data=net, num_hidden=10, name="fc1")
    return mx.sym.SoftmaxOutput(data=net, name="softmax")


def test_lenet_trains_and_checkpoints_batch_norm_statistics(tmp_path):
    rng = np.random.RandomState(0)
    protos = rng.uniform(size=(10, 1, 28, 28))
    y = rng.randint(0, 10, size=400)
    x = (protos[y] + 0.3 * rng.randn(400, 1, 28, 28)).astype(np.float32)
    mx.random.seed(0)
    model = mx.model.FeedForward(lenet(with_bn=True), num_epoch=4, numpy_batch_size=40,
                                 learning_rate=0.05, momentum=0.9, initializer=mx.init.Xavier())
    model.fit(x[:320], y[:320])
    assert sorted(model.aux_params) == ["bn1_moving_mean", "bn1_moving_var"]
    assert not np.allclose(model.aux_params["bn1_moving_var"].asnumpy(), 1.0)
    assert model.score((x[320:], y[320:])) > 0.9
    prefix = str(tmp_path / "lenet")
    model.save(prefix, 4)
    loaded = mx.model.FeedForward.load(prefix, 4)
    np.testing.assert_allclose(loaded.aux_params["bn1_moving_mean"].asnumpy(),
                               model.aux_params["bn1_moving_mean"].asnumpy())
    np.testing.assert_allclose(loaded.predict(x[320:]), model.predict(x[320:]), rtol=1e-5,
                               atol=1e-6)
    dot = mx.viz.plot_network(lenet(with_bn=True), shape={"data": (40, 1, 28, 28)})
    assert "Convolution\n5x5/2x2, 8" in dot and "Pooling\nmax" in dot and "40x8x12x12" in dot


def test_leaky_relu_kinds():
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    d = mx.sym.Variable("data")
    leaky = forward(mx.sym.LeakyReLU(data=d, act_type="leaky", slope=0.1), data=x)
    np.testing.assert_allclose(leaky.outputs[0].asnumpy(), np.where(x > 0, x, 0.1 * x))
    elu = forward(mx.sym.LeakyReLU(data=d, act_type="elu", slope=0.5), data=x)
    np.testing.assert_allclose(elu.outputs[0].asnumpy(), np.where(x > 0, x, 0.5 * np.expm1(x)),
                               rtol=1e-6)
    check_gradient(mx.sym.LeakyReLU(data=d, slope=0.2), {"data": x + 0.01})


def test_dropout_in_training_and_inference():
    d = mx.sym.Variable("data")
    drop = mx.sym.Dropout(data=d, p=0.25)
    x = np.ones((100, 100))
    mx.random.seed(1)
    exe = drop.bind(mx.cpu(), {"data": mx.nd.array(x)}, args_grad={"data": mx.nd.zeros(x.shape)})
    exe.forward(is_train=True)
    train = exe.outputs[0].asnumpy()
    kept = train != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(train[kept], 1 / 0.75, rtol=1e-6)
    exe.backward(mx.nd.ones(x.shape))
    assert np.array_equal(exe.grad_dict["data"].asnumpy() != 0, kept)  # the same mask
    exe.forward(is_train=False)
    assert np.array_equal(exe.outputs[0].asnumpy(), x)


def test_dropout_training_forward_without_gradients_in_a_subprocess():
    # Regression: the hidden mask output of an executor bound without gradients gets no memory
    # (request null); Dropout used to write it anyway and crash the process.
    # Run where a crash cannot take the test session down with it.
    code = ("import mx\n"
            "d = mx.sym.Dropout(data=mx.sym.Variable('data'), p=0.5)\n"
            "e = d.bind(mx.cpu(), {'data': mx.nd.ones((10, 10))})\n"
            "e.forward(is_train=True)\n"
            "print(e.outputs[0].asnumpy().mean())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    assert result.returncode == 0, "exit status %d: %s" % (result.returncode, result.stderr)
