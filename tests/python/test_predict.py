"""mx.predict: a model loaded once, predictors over it, from files and bytes, in threads."""
import threading

import numpy as np
import pytest

import mx


def _mlp():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


@pytest.fixture
def model_files(tmp_path):
    net = _mlp()
    rng = np.random.RandomState(0)
    params = {"arg:fc1_weight": rng.randn(8, 5), "arg:fc1_bias": rng.randn(8),
              "arg:fc2_weight": rng.randn(3, 8), "arg:fc2_bias": rng.randn(3)}
    sym_path, param_path = str(tmp_path / "mlp-symbol.json"), str(tmp_path / "mlp.params")
    net.save(sym_path)
    mx.nd.save(param_path, {k: mx.nd.array(v) for k, v in params.items()})
    return net, params, sym_path, param_path


def _expected(params, x):
    h = np.maximum(x @ params["arg:fc1_weight"].T + params["arg:fc1_bias"], 0)
    z = h @ params["arg:fc2_weight"].T + params["arg:fc2_bias"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_predicts_what_numpy_computes_from_files_and_bytes(model_files):
    net, params, sym_path, param_path = model_files
    x = np.random.RandomState(1).randn(4, 5).astype(np.float32)
    with open(param_path, "rb") as f:
        blob = f.read()
    for model in (mx.predict.Model(sym_path, param_path),
                  mx.predict.Model(net.tojson(), blob)):
        pred = mx.predict.Predictor(model, {"data": (4, 5)})
        assert pred.num_outputs == 1
        pred.forward(data=x)
        np.testing.assert_allclose(pred.get_output(0), _expected(params, x), rtol=1e-5,
                                   atol=1e-6)
        pred.reshape({"data": (1, 5)})
        pred.forward(data=x[2:3])
        np.testing.assert_allclose(pred.get_output(0), _expected(params, x[2:3]), rtol=1e-5,
                                   atol=1e-6)


def test_threads_share_one_model(model_files):
    _, params, sym_path, param_path = model_files
    model = mx.predict.Model(sym_path, param_path)
    inputs = [np.random.RandomState(s).randn(2, 5).astype(np.float32) for s in range(4)]
    results, errors = {}, []

    def serve(i):
        try:
            pred = mx.predict.Predictor(model, {"data": (2, 5)})
            for _ in range(50):
                pred.forward(data=inputs[i])
                out = pred.get_output(0)
            results[i] = out
        except Exception as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(4):
        np.testing.assert_allclose(results[i], _expected(params, inputs[i]), rtol=1e-5,
                                   atol=1e-6)


def test_bad_models_and_inputs_are_errors(model_files, tmp_path):
    net, _, sym_path, param_path = model_files
    with pytest.raises(mx.MXError, match="/dev/zero"):
        mx.predict.Model(sym_path, "/dev/zero")
    with pytest.raises(mx.MXError, match="bad magic"):
        mx.predict.Model(net.tojson(), b"not a parameter file")
    model = mx.predict.Model(sym_path, param_path)
    with pytest.raises(mx.MXError, match="given shape"):
        mx.predict.Predictor(model, {"data": (4, 6)})
    with pytest.raises(mx.MXError, match="'image' is not an input"):
        mx.predict.Predictor(model, {"image": (4, 5)})
    with pytest.raises(mx.MXError, match="dict"):
        mx.predict.Predictor(model, [(4, 5)])
    pred = mx.predict.Predictor(model, {"data": (4, 5)})
    with pytest.raises(mx.MXError, match="got 5 values"):
        pred.set_input("data", np.zeros(5))
    with pytest.raises(mx.MXError, match="output 1"):
        pred.get_output(1)
    pred.forward(data=np.zeros((4, 5)))  # still works
    assert pred.get_output(0).shape == (4, 3)
