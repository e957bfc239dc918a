"""The seed document's code (the classic MXNet tutorial) with `import mx` in place of
`import mxnet as mx`: the imperative NDArray example, the symbolic examples (composition,
list_arguments, infer_shape, bind, simple_bind, backward, JSON), the hand-written MNIST MLP
training loop and the FeedForward version. Digits are synthetic here (noisy class prototypes
in MNIST's IDX format), so the tests need no download; the examples gate trains on MNIST."""
import numpy as np
import pytest

import mx
from conftest import prototypes, write_idx


# ---- imperative -------------------------------------------------------------------------------


def test_imperative_ndarray_example(tmp_path):
    a = mx.nd.empty((2, 3))  # create a 2-by-3 matrix on cpu
    c = mx.nd.empty((2, 3), mx.cpu(2))
    assert c.shape == (2, 3)
    assert c.context == mx.cpu(2)
    a = mx.nd.zeros((2, 3))  # create a 2-by-3 matrix filled with 0
    b = mx.nd.ones((2, 3))  # create a 2-by-3 matrix filled with 1
    b[:] = 2  # set all elements of b to 2
    assert np.array_equal(b.asnumpy(), np.full((2, 3), 2))
    a = mx.nd.ones((2, 3))
    b = a.asnumpy()
    assert type(b) is np.ndarray
    assert np.array_equal(b, [[1, 1, 1], [1, 1, 1]])

    a = mx.nd.ones((2, 3))
    b = mx.nd.ones((2, 3))
    c = a + b  # elementwise plus
    d = -c  # elementwise minus
    assert np.array_equal(d.asnumpy(), np.full((2, 3), -2))
    e = mx.nd.sin(c ** 2).T  # elementwise sin, and then transpose
    np.testing.assert_allclose(e.asnumpy(), np.full((3, 2), np.sin(4)), rtol=1e-6)
    f = mx.nd.maximum(a, c)  # elementwise max
    assert np.array_equal(f.asnumpy(), np.full((2, 3), 2))

    a = mx.nd.ones((2, 3))
    b = mx.nd.ones((2, 3)) * 2
    fname = str(tmp_path / "mydata.bin")
    mx.nd.save(fname, [a, b])
    c = mx.nd.load(fname)
    assert [x.asnumpy().tolist() for x in c] == [a.asnumpy().tolist(), b.asnumpy().tolist()]
    mx.nd.save(fname, {"a": a, "b": b})
    c = mx.nd.load(fname)
    assert np.array_equal(c["b"].asnumpy(), np.full((2, 3), 2))

    # Multiple devices: copy to one device before combining.
    a = mx.nd.ones((2, 3), mx.cpu())
    b = mx.nd.ones((2, 3), mx.cpu(1))
    c = mx.nd.ones((2, 3), mx.cpu(2))
    d = a + b.copyto(mx.cpu()) + c.copyto(mx.cpu())
    assert np.array_equal(d.asnumpy(), np.full((2, 3), 3))


def test_imperative_example_on_a_gpu(ctx):
    a = mx.nd.ones((2, 3), ctx)
    assert np.array_equal((a * 2).asnumpy(), [[2, 2, 2], [2, 2, 2]])


def test_gpu_without_a_gpu_is_an_error_not_a_crash():
    if mx.num_gpus() > 0:
        pytest.skip("this machine has a GPU: the GPU paths run in the ctx-parameterised tests")
    with pytest.raises(mx.MXError) as info:
        mx.nd.empty((2, 3), mx.gpu())
    assert "gpu(0)" in str(info.value)
    assert np.array_equal(mx.nd.ones(2).asnumpy(), [1, 1])  # and the library keeps working


# ---- symbolic ---------------------------------------------------------------------------------


def test_symbol_composition_examples():
    a = mx.symbol.Variable("a")
    b = mx.symbol.Variable("b")
    c = a + b
    assert c.list_arguments() == ["a", "b"]
    d = a * b  # elemental wise times
    e = mx.symbol.dot(a, b)  # matrix multiplication
    f = mx.symbol.Reshape(d + e, shape=(1, 4))  # reshape
    g = mx.symbol.broadcast_to(f, shape=(2, 4))  # broadcast
    dot_source = mx.viz.plot_network(symbol=g)
    assert dot_source.startswith("digraph") and "broadcast_to" in dot_source
    ex = g.bind(mx.cpu(), {"a": mx.nd.array([[1, 2], [3, 4]]),
                           "b": mx.nd.array([[5, 6], [7, 8]])})
    ex.forward()
    x, y = np.array([[1, 2], [3, 4]]), np.array([[5, 6], [7, 8]])
    want = np.broadcast_to((x * y + x @ y).reshape(1, 4), (2, 4))
    assert np.array_equal(ex.outputs[0].asnumpy(), want)

    net = mx.symbol.Variable("data")
    net = mx.symbol.FullyConnected(data=net, name="fc1", num_hidden=128)
    net = mx.symbol.Activation(data=net, name="relu1", act_type="relu")
    net = mx.symbol.FullyConnected(data=net, name="fc2", num_hidden=10)
    net = mx.symbol.SoftmaxOutput(data=net, name="out")
    dot_source = mx.viz.plot_network(net, shape={"data": (100, 200)})
    assert "100x200" in dot_source and "100x128" in dot_source and "100x10" in dot_source

    net = mx.symbol.Variable("data")
    w = mx.symbol.Variable("myweight")
    net = mx.symbol.FullyConnected(data=net, weight=w, name="fc1", num_hidden=128)
    assert net.list_arguments() == ["data", "myweight", "fc1_bias"]

    net = mx.symbol.Variable("data")
    net = mx.symbol.FullyConnected(data=net, name="fc1", num_hidden=128)
    net2 = mx.symbol.Variable("data2")
    net2 = mx.symbol.FullyConnected(data=net2, name="net2", num_hidden=128)
    composed_net = net(data=net2, name="compose")
    assert composed_net.list_arguments() == ["data2", "net2_weight", "net2_bias", "fc1_weight",
                                             "fc1_bias"]


def test_infer_shape_bind_and_json(tmp_path):
    a = mx.symbol.Variable("a")
    b = mx.symbol.Variable("b")
    c = a + b
    arg_name = c.list_arguments()  # get the names of the inputs
    out_name = c.list_outputs()  # get the names of the outputs
    arg_shape, out_shape, _ = c.infer_shape(a=(2, 3), b=(2, 3))
    shapes = {"input": dict(zip(arg_name, arg_shape)), "output": dict(zip(out_name, out_shape))}
    assert shapes["input"] == {"a": (2, 3), "b": (2, 3)}
    (out,) = shapes["output"]
    assert out.startswith("elemwiseadd") and out.endswith("_output")
    assert shapes["output"][out] == (2, 3)

    ex = c.bind(ctx=mx.cpu(), args={"a": mx.nd.ones([2, 3]), "b": mx.nd.ones([2, 3])})
    ex.forward()
    assert len(ex.outputs) == 1
    assert np.array_equal(ex.outputs[0].asnumpy(), np.full((2, 3), 2))
    ex2 = c.bind(ctx=mx.cpu(1), args={"a": mx.nd.ones([3, 4], mx.cpu(1)) * 2,
                                      "b": mx.nd.ones([3, 4], mx.cpu(1)) * 3})
    ex2.forward()
    assert np.array_equal(ex2.outputs[0].asnumpy(), np.full((3, 4), 5))

    assert '"nodes"' in c.tojson()
    fname = str(tmp_path / "symbol-c.json")
    c.save(fname)
    c2 = mx.symbol.load(fname)
    assert c.tojson() == c2.tojson()


def test_seed_symbol_a_plus_b_over_ten_plus_one():
    A = mx.sym.Variable("A")
    B = mx.sym.Variable("B")
    C = (A + B) / 10 + 1
    assert C.list_arguments() == ["A", "B"]
    (out,) = C.list_outputs()
    assert out.startswith("_plusscalar") and out.endswith("_output")
    arg_shapes, out_shapes, aux_shapes = C.infer_shape(A=(10,))
    assert arg_shapes == [(10,), (10,)] and out_shapes == [(10,)] and aux_shapes == []
    with pytest.raises(mx.base.MXError, match="argument 'A' .* is \\?; argument 'B'"):
        C.infer_shape()  # nothing known: the error names what stays unknown
    assert C.infer_shape_partial() == ([(), ()], [()], [])
    # bind without gradients
    ex = C.bind(mx.cpu(), args=[mx.nd.ones(10), mx.nd.ones(10) * 2])
    ex.forward()
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), np.full(10, 1.3), rtol=1e-6)
    # with gradients: the backward of ones is 1/10 for both
    grads = [mx.nd.zeros(10), mx.nd.zeros(10)]
    ex = C.bind(mx.cpu(), args={"A": mx.nd.ones(10), "B": mx.nd.ones(10) * 2}, args_grad=grads)
    ex.forward(is_train=True)
    ex.backward(out_grads=mx.nd.ones(10))
    np.testing.assert_allclose(grads[0].asnumpy(), np.full(10, 0.1), rtol=1e-6)
    np.testing.assert_allclose(ex.grad_dict["B"].asnumpy(), np.full(10, 0.1), rtol=1e-6)
    # simple_bind allocates everything from the shapes
    ex = C.simple_bind(mx.cpu(), A=(3, 4), B=(3, 4))
    ex.forward(is_train=True, A=np.ones((3, 4)), B=np.full((3, 4), 9))
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), np.full((3, 4), 2.0), rtol=1e-6)
    ex.backward([mx.nd.ones((3, 4)) * 10])
    np.testing.assert_allclose(ex.grad_dict["A"].asnumpy(), np.ones((3, 4)), rtol=1e-6)


# ---- the hand-written MNIST MLP loop ----------------------------------------------------------


def accuracy(label, pred):
    return float((pred.argmax(axis=1) == label).mean())


def test_hand_written_mlp_training_loop():
    train_x, train_y = prototypes(1280)
    test_x, test_y = prototypes(512, seed=43)

    # First, the symbol needs to be defined
    data = mx.sym.Variable("data")  # input features, mxnet commonly calls this 'data'
    label = mx.sym.Variable("softmax_label")
    # One can either manually specify all the inputs to ops (data, weight and bias)
    w1 = mx.sym.Variable("weight1")
    b1 = mx.sym.Variable("bias1")
    l1 = mx.sym.FullyConnected(data=data, num_hidden=128, name="layer1", weight=w1, bias=b1)
    a1 = mx.sym.Activation(data=l1, act_type="relu", name="act1")
    # Or let MXNet automatically create the needed arguments to ops
    l2 = mx.sym.FullyConnected(data=a1, num_hidden=10, name="layer2")
    # Create some loss symbol
    cost_classification = mx.sym.SoftmaxOutput(data=l2, label=label)
    assert cost_classification.list_arguments() == [
        "data", "weight1", "bias1", "layer2_weight", "layer2_bias", "softmax_label"]

    # Bind an executor of a given batch size to do forward pass and get gradients
    batch_size = 128
    input_shapes = {"data": (batch_size, 28 * 28), "softmax_label": (batch_size,)}
    executor = cost_classification.simple_bind(ctx=mx.cpu(0), grad_req="write", **input_shapes)
    executor.arg_dict["data"][:] = np.random.rand(batch_size, 28 * 28)
    executor.forward(is_train=True)
    assert executor.outputs[0].shape == (128, 10)
    # Initialize weights
    np.random.seed(0)
    for r in executor.arg_arrays:
        r[:] = np.random.randn(*r.shape) * 0.02

    lr = 0.1 / batch_size  # SoftmaxOutput's gradient is summed over the batch
    for epoch in range(4):
        for i in range(0, len(train_x), batch_size):
            executor.arg_dict["data"][:] = train_x[i:i + batch_size]
            executor.arg_dict["softmax_label"][:] = train_y[i:i + batch_size]
            executor.forward(is_train=True)
            executor.backward()
            for pname, W, G in zip(cost_classification.list_arguments(), executor.arg_arrays,
                                   executor.grad_arrays):
                # Don't update inputs
                if pname in ["data", "softmax_label"]:
                    continue
                # what ever fancy update to modify the parameters
                W[:] = W - G * lr
    correct = []
    for i in range(0, len(test_x), batch_size):
        executor.forward(is_train=False, data=test_x[i:i + batch_size])
        correct.append(accuracy(test_y[i:i + batch_size], executor.outputs[0].asnumpy()))
    assert np.mean(correct) > 0.9


# ---- FeedForward ------------------------------------------------------------------------------


def digit_files(directory, n, prefix, seed):
    """Noisy 28x28 uint8 prototypes of 10 classes in IDX files."""
    rng = np.random.RandomState(1)
    protos = rng.randint(0, 256, size=(10, 28, 28))
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 10, size=n)
    images = np.clip(protos[labels] + rng.randint(-160, 160, size=(n, 28, 28)), 0, 255)
    return write_idx(str(directory), prefix, images, labels)


def test_feedforward_fit_with_eval_data_and_accuracy(tmp_path, caplog):
    import logging
    caplog.set_level(logging.INFO)
    train_img, train_lbl = digit_files(tmp_path, 1000, "train", seed=2)
    val_img, val_lbl = digit_files(tmp_path, 300, "t10k", seed=3)
    batch_size = 100
    train_iter = mx.io.MNISTIter(image=train_img, label=train_lbl, batch_size=batch_size,
                                 shuffle=True, flat=True)
    val_iter = mx.io.MNISTIter(image=val_img, label=val_lbl, batch_size=batch_size, flat=True)

    data = mx.symbol.Variable("data")
    fc1 = mx.symbol.FullyConnected(data=data, name="fc1", num_hidden=128)
    act1 = mx.symbol.Activation(data=fc1, name="relu1", act_type="relu")
    fc2 = mx.symbol.FullyConnected(data=act1, name="fc2", num_hidden=64)
    act2 = mx.symbol.Activation(data=fc2, name="relu2", act_type="relu")
    fc3 = mx.symbol.FullyConnected(data=act2, name="fc3", num_hidden=10)
    mlp = mx.symbol.SoftmaxOutput(data=fc3, name="softmax")

    model = mx.model.FeedForward(
        ctx=mx.cpu(),  # use the CPU
        symbol=mlp,  # network structure
        num_epoch=4,  # number of data passes for training
        learning_rate=0.1,  # learning rate of SGD
        momentum=0.9,
        wd=0.00001,
        initializer=mx.init.Xavier(factor_type="in", magnitude=2.34))
    model.fit(
        X=train_iter,  # training data
        eval_data=val_iter,  # validation data
        eval_metric="acc",
        batch_end_callback=mx.callback.Speedometer(batch_size, 5))  # progress every 5 batches
    log = caplog.text
    assert "Epoch[3] Train-accuracy=" in log and "Epoch[3] Validation-accuracy=" in log
    assert "samples/sec" in log
    assert model.score(val_iter) > 0.95
    prob = model.predict(val_iter)
    assert prob.shape == (300, 10)
    np.testing.assert_allclose(prob.sum(axis=1), np.ones(300), rtol=1e-5)
