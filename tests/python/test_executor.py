"""Executors: bind / simple_bind variants, forward and backward, the array dicts, grad_req
kinds, parameter copies, reshape, shared executors, monitors, and finite-difference gradient
checks of networks and operators through bind / backward."""
import numpy as np
import pytest

import mx
from gradcheck import check_gradient


def rand(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.RandomState(seed).uniform(low, high, size=shape)


# ---- binding ----------------------------------------------------------------------------------


def test_bind_keeps_the_callers_arrays_and_names_everything():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    net = mx.sym.Group([a * b, a + b])
    x, y = mx.nd.array([1, 2]), mx.nd.array([3, 4])
    gx, gy = mx.nd.zeros(2), mx.nd.zeros(2)
    exe = net.bind(mx.cpu(), args=[x, y], args_grad={"a": gx, "b": gy})
    assert exe.arg_dict["a"] is x and exe.grad_dict["b"] is gy
    assert exe.arg_names == ["a", "b"] and len(exe.outputs) == 2
    assert sorted(exe.output_dict) == sorted(net.list_outputs())
    exe.forward(is_train=True)
    assert np.array_equal(exe.outputs[0].asnumpy(), [3, 8])
    assert np.array_equal(exe.outputs[1].asnumpy(), [4, 6])
    exe.backward([mx.nd.ones(2), mx.nd.ones(2) * 10])
    assert np.array_equal(gx.asnumpy(), [3 + 10, 4 + 10])  # d/da (a*b + 10*(a+b))
    assert np.array_equal(gy.asnumpy(), [1 + 10, 2 + 10])


def test_bind_errors_name_the_argument():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    c = a + b
    with pytest.raises(mx.MXError, match="no array for b"):
        c.bind(mx.cpu(), {"a": mx.nd.ones(2)})
    with pytest.raises(mx.MXError, match="'c'|c is not among"):
        c.bind(mx.cpu(), {"a": mx.nd.ones(2), "b": mx.nd.ones(2), "c": mx.nd.ones(2)})
    with pytest.raises(mx.MXError, match="grad_req"):
        c.bind(mx.cpu(), [mx.nd.ones(2)] * 2, [mx.nd.ones(2)] * 2, grad_req="sometimes")
    with pytest.raises(mx.MXError):  # the library checks the count of a list
        c.bind(mx.cpu(), [mx.nd.ones(2)])


def test_grad_req_add_accumulates_and_null_skips():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    c = a * b
    ga, gb = mx.nd.ones(3), mx.nd.ones(3) * 7
    exe = c.bind(mx.cpu(), {"a": mx.nd.array([1, 2, 3]), "b": mx.nd.array([4, 5, 6])},
                 args_grad={"a": ga, "b": gb}, grad_req={"a": "add", "b": "null"})
    for _ in range(2):
        exe.forward(is_train=True)
        exe.backward(mx.nd.ones(3))
    assert np.array_equal(ga.asnumpy(), [1 + 8, 1 + 10, 1 + 12])
    assert np.array_equal(gb.asnumpy(), [7, 7, 7])  # untouched
    exe = c.bind(mx.cpu(), [mx.nd.ones(3), mx.nd.ones(3)], [mx.nd.zeros(3), mx.nd.zeros(3)],
                 grad_req=["write", "null"])
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones(3) * 2)
    assert np.array_equal(exe.grad_arrays[0].asnumpy(), [2, 2, 2])
    assert np.array_equal(exe.grad_arrays[1].asnumpy(), [0, 0, 0])


def test_simple_bind_grad_req_forms_and_types():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    exe = net.simple_bind(mx.cpu(), grad_req={"fc_weight": "write"}, data=(2, 3))
    assert exe.grad_dict.keys() == {"fc_weight"}
    assert exe.grad_arrays[0] is None and exe.grad_arrays[2] is None
    exe = net.simple_bind(mx.cpu(), grad_req=["null", "write", "write"], data=(2, 3))
    assert sorted(exe.grad_dict) == ["fc_bias", "fc_weight"]
    exe = net.simple_bind(mx.cpu(), grad_req="null", type_dict={"data": np.float64}, data=(2, 3))
    assert exe.grad_dict == {} and exe.arg_dict["fc_weight"].dtype == np.float64
    assert exe.arg_dict["fc_weight"].shape == (4, 3)
    planned, naive = exe.memory()
    assert 0 <= planned <= naive
    assert exe.debug_str()
    with pytest.raises(mx.MXError):
        exe.backward()  # bound without gradients: the library says so


def test_forward_keyword_inputs_and_errors():
    a = mx.sym.Variable("a")
    exe = (a * 2).simple_bind(mx.cpu(), a=(2, 2))
    out = exe.forward(a=np.array([[1, 2], [3, 4]]))
    assert out is exe.outputs and np.array_equal(out[0].asnumpy(), [[2, 4], [6, 8]])
    exe.forward(a=mx.nd.ones((2, 2)))
    assert np.array_equal(exe.outputs[0].asnumpy(), np.full((2, 2), 2))
    with pytest.raises(mx.MXError, match="'b' is not an argument"):
        exe.forward(b=np.ones((2, 2)))


def test_copy_params_from():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    exe = net.simple_bind(mx.cpu(), data=(1, 3))
    w, b = np.arange(6).reshape(2, 3), np.array([10, 20])
    exe.copy_params_from({"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.array(b)})
    exe.forward(data=np.array([[1, 1, 1]]))
    assert np.array_equal(exe.outputs[0].asnumpy(), [[3 + 10, 12 + 20]])
    with pytest.raises(mx.MXError, match="'other' is not an argument"):
        exe.copy_params_from({"other": mx.nd.ones(1)})
    exe.copy_params_from({"other": mx.nd.ones(1)}, allow_extra_params=True)


def test_reshape_shares_parameters():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    exe = net.simple_bind(mx.cpu(), data=(4, 3))
    exe.arg_dict["fc_weight"][:] = rand(2, 3)
    exe.arg_dict["fc_bias"][:] = [1, 2]
    small = exe.reshape(data=(1, 3))
    assert small.arg_dict["fc_weight"] is exe.arg_dict["fc_weight"]
    assert small.arg_dict["data"].shape == (1, 3) and small.outputs[0].shape == (1, 2)
    x = rand(4, 3, seed=1)
    exe.forward(data=x)
    small.forward(data=x[2:3])
    np.testing.assert_allclose(small.outputs[0].asnumpy(), exe.outputs[0].asnumpy()[2:3],
                               rtol=1e-6)
    exe.arg_dict["fc_bias"][:] = [5, 5]  # shared: the reshaped executor sees it
    small.forward(data=x[0:1])
    np.testing.assert_allclose(small.outputs[0].asnumpy(),
                               x[0:1] @ exe.arg_dict["fc_weight"].asnumpy().T + 5, rtol=1e-5)
    with pytest.raises(mx.MXError, match="partial_shaping"):
        exe.reshape(data=(4, 5))  # would change fc_weight, which is not named


def test_shared_executor_sees_trained_weights():
    data = mx.sym.Variable("data")
    net = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(data, num_hidden=1, name="fc"),
                                        name="lin")
    train = net.simple_bind(mx.cpu(), grad_req={"fc_weight": "write", "fc_bias": "write"},
                            data=(8, 2), lin_label=(8, 1))
    evaluator = net.bind(mx.cpu(), args=train.arg_arrays, grad_req="null", shared_exec=train)
    x = rand(8, 2, seed=3)
    y = x @ np.array([[2.0], [-3.0]]) + 0.5
    for _ in range(300):
        train.forward(is_train=True, data=x, lin_label=y)
        train.backward()
        for name in ("fc_weight", "fc_bias"):
            train.arg_dict[name][:] = train.arg_dict[name] - train.grad_dict[name] * 0.1
    evaluator.forward(data=x)
    np.testing.assert_allclose(evaluator.outputs[0].asnumpy(), y, atol=1e-2)


def test_monitor_callback_sees_every_node_output():
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc1")
    net = mx.sym.Activation(fc, act_type="relu", name="relu1")
    exe = net.simple_bind(mx.cpu(), data=(2, 4))
    exe.arg_dict["fc1_weight"][:] = rand(3, 4)
    seen = {}
    exe.set_monitor_callback(lambda name, arr: seen.__setitem__(name, arr))
    exe.forward(data=rand(2, 4, seed=1))
    mx.nd.waitall()
    assert {"fc1_output", "relu1_output"} <= set(seen)
    np.testing.assert_allclose(seen["relu1_output"].asnumpy(), exe.outputs[0].asnumpy())
    np.testing.assert_allclose(np.maximum(seen["fc1_output"].asnumpy(), 0),
                               exe.outputs[0].asnumpy())

    def failing(name, arr):
        raise ValueError("monitor bug")
    exe.set_monitor_callback(failing)
    exe.forward(data=rand(2, 4))
    mx.nd.waitall()
    with pytest.raises(mx.MXError, match="monitor bug"):
        exe.forward(data=rand(2, 4))
    exe.set_monitor_callback(None)
    seen.clear()
    exe.forward(data=rand(2, 4))
    mx.nd.waitall()
    assert not seen


def test_group2ctx_to_another_device_is_refused():
    a = mx.sym.Variable("a")
    exe = (a + 1).bind(mx.cpu(), {"a": mx.nd.ones(2)}, group2ctx={"dev1": mx.cpu()})
    exe.forward()
    with pytest.raises(mx.MXError, match="group2ctx") as info:
        (a + 1).bind(mx.cpu(), {"a": mx.nd.ones(2)}, group2ctx={"dev1": mx.cpu(1)})
    assert info.value.code == "unsupported"


def test_free_releases_and_later_use_is_an_error():
    exe = (mx.sym.Variable("a") * 2).simple_bind(mx.cpu(), a=(2,))
    exe.forward()
    exe.free()
    with pytest.raises(mx.MXError, match="must not be NULL"):
        exe.forward()


# ---- finite-difference gradient checks --------------------------------------------------------


def test_gradient_of_an_mlp_with_tanh(ctx):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=4, name="fc1")
    net = mx.sym.Activation(net, act_type="tanh")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    loc = {"data": rand(5, 6), "fc1_weight": rand(4, 6, seed=1), "fc1_bias": rand(4, seed=2),
           "fc2_weight": rand(3, 4, seed=3), "fc2_bias": rand(3, seed=4)}
    check_gradient(net, loc, ctx)


def test_gradient_of_an_elementwise_expression(ctx):
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    net = a * b + a / b - mx.sym.exp(a) * 0.5 + b ** 2 + 3 / b - (2 - a) + a * a
    loc = {"a": rand(3, 4), "b": rand(3, 4, seed=1, low=0.5, high=2.0)}
    check_gradient(net, loc, ctx)


def test_gradient_of_a_variable_used_twice_is_summed(ctx):
    a = mx.sym.Variable("a")
    net = mx.sym.Group([a * 3, mx.sym.square(a)])
    grads = check_gradient(net, {"a": rand(4)}, ctx)
    assert grads["a"].shape == (4,)


@pytest.mark.parametrize("make", [
    lambda d: mx.sym.Activation(d, act_type="sigmoid"),
    lambda d: mx.sym.Activation(d, act_type="softrelu"),
    lambda d: mx.sym.softmax(d, axis=1),
    lambda d: mx.sym.log_softmax(d),
    lambda d: mx.sym.sum(d, axis=1, keepdims=True),
    lambda d: mx.sym.mean(d, axis=0),
    lambda d: mx.sym.max(d, axis=1),
    lambda d: mx.sym.transpose(d),
    lambda d: mx.sym.Reshape(d, shape=(2, 6)),
    lambda d: mx.sym.Flatten(mx.sym.Reshape(d, shape=(3, 2, 2))),
    lambda d: mx.sym.dot(d, d, transpose_b=True),
    lambda d: mx.sym.Concat(d, d * 2, dim=1),
    lambda d: mx.sym.SliceChannel(d, num_outputs=2, axis=1)[1],
    lambda d: mx.sym.sqrt(mx.sym.abs(d) + 1),
    lambda d: mx.sym.clip(d, a_min=-0.5, a_max=0.5),
    lambda d: mx.sym.broadcast_mul(d, mx.sym.sum(d, axis=0, keepdims=True)),
    lambda d: mx.sym.expand_dims(d, axis=1),
], ids=["sigmoid", "softrelu", "softmax", "log_softmax", "sum", "mean", "max", "transpose",
        "reshape", "flatten", "dot", "concat", "slicechannel", "sqrt_abs", "clip",
        "broadcast_mul", "expand_dims"])
def test_gradient_of_operators(make, ctx):
    d = mx.sym.Variable("data")
    x = rand(3, 4, seed=5)
    x[np.abs(x) < 0.05] += 0.2  # keep away from the kinks of abs and clip
    x[np.abs(np.abs(x) - 0.5) < 0.05] += 0.1
    check_gradient(make(d), {"data": x}, ctx)


def test_gradient_of_embedding_weight(ctx):
    idx = mx.sym.Variable("idx")
    net = mx.sym.Embedding(idx, input_dim=5, output_dim=3, name="emb")
    grads = check_gradient(net, {"idx": np.array([[0, 2], [2, 4]]), "emb_weight": rand(5, 3)},
                           ctx, grad_nodes=["emb_weight"])
    assert np.all(grads["emb_weight"][[1, 3]] == 0)  # rows never looked up get no gradient


def test_loss_output_gradients_follow_their_formulas(ctx):
    x, label = rand(4, 3), np.array([0, 2, 1, 2])
    data, lab = mx.sym.Variable("data"), mx.sym.Variable("label")
    exe = mx.sym.SoftmaxOutput(data, lab, name="sm").bind(
        ctx, {"data": mx.nd.array(x, ctx), "label": mx.nd.array(label, ctx)},
        args_grad={"data": mx.nd.zeros((4, 3), ctx)}, grad_req={"data": "write"})
    exe.forward(is_train=True)
    exe.backward()
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), p, rtol=1e-5)
    np.testing.assert_allclose(exe.grad_dict["data"].asnumpy(), p - np.eye(3)[label], rtol=1e-5,
                               atol=1e-6)
    y = rand(4, 3, seed=9)
    for op, out in [(mx.sym.LinearRegressionOutput, x),
                    (mx.sym.LogisticRegressionOutput, 1 / (1 + np.exp(-x)))]:
        exe = op(data, lab).bind(ctx, {"data": mx.nd.array(x, ctx), "label": mx.nd.array(y, ctx)},
                                 args_grad={"data": mx.nd.zeros((4, 3), ctx)},
                                 grad_req={"data": "write"})
        exe.forward(is_train=True)
        exe.backward()
        np.testing.assert_allclose(exe.outputs[0].asnumpy(), out, rtol=1e-5)
        # MXNet's scaling: the gradient is divided by the number of outputs per sample.
        np.testing.assert_allclose(exe.grad_dict["data"].asnumpy(), (out - y) / 3, rtol=1e-4,
                                   atol=1e-6)


def test_an_executor_with_a_monitor_is_freed_when_dropped():
    import gc
    import weakref
    exe = (mx.sym.Variable("a") * 2).simple_bind(mx.cpu(), a=(2,))
    exe.set_monitor_callback(lambda name, arr: None)
    exe.forward()
    ref = weakref.ref(exe)
    gc.disable()  # only reference counting may free it: the monitor must not form a cycle
    try:
        del exe
        assert ref() is None
    finally:
        gc.enable()
    # Collected while a monitor callback runs (on an engine thread), an executor is freed later
    # from an ordinary thread: freeing waits for engine work.
    from mx import base
    exe = (mx.sym.Variable("a") * 2).simple_bind(mx.cpu(), a=(2,))
    base.in_engine_callback.active = True
    try:
        del exe
        assert len(base._deferred_frees) == 1
    finally:
        base.in_engine_callback.active = False
    (mx.sym.Variable("b") + 1).simple_bind(mx.cpu(), b=(1,))
    assert base._deferred_frees == []


def test_dropping_a_monitored_executor_with_work_queued_is_safe():
    # The executor goes (and with it the ctypes callback) while monitor calls are still queued;
    # the library skips them once the executor is freed, so nothing calls freed code.
    seen = []
    data = mx.sym.Variable("data")
    net = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=64), act_type="relu")
    for i in range(10):
        exe = net.simple_bind(mx.cpu(), grad_req="null", data=(64, 256))
        exe.set_monitor_callback(lambda name, arr: seen.append(name))
        for _ in range(10):
            exe.forward()
        if i == 0:
            mx.nd.waitall()  # this one's calls all run
            assert len(seen) == 10 * 2
        del exe
    mx.nd.waitall()
