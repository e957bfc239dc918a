"""Symbols: variables and their attributes, auto-naming, composition, structure, inference,
JSON and files, and the contract's operators evaluated through bind against numpy."""
import copy
import json
import pickle

import numpy as np
import pytest

import mx


def run(sym, **inputs):
    """Forward `sym` on numpy inputs; the outputs as numpy arrays."""
    exe = sym.bind(mx.cpu(), {k: mx.nd.array(v) for k, v in inputs.items()})
    exe.forward()
    return [o.asnumpy() for o in exe.outputs]


def test_variable_attributes_drive_inference():
    x = mx.sym.Variable("x", shape=(2, 3), dtype="float64", lr_mult=2, wd_mult=0,
                        attr={"group": "g1"}, __custom__="yes")
    assert x.name == "x"
    assert x.attr("__shape__") == "(2,3)" and x.attr("__dtype__") == "float64"
    assert x.attr("__lr_mult__") == "2.0" and x.attr("__wd_mult__") == "0.0"
    assert x.attr("group") == "g1" and x.attr("__custom__") == "yes"
    assert x.attr("missing") is None
    assert x.list_attr()["group"] == "g1"
    y = x * 2
    assert y.infer_shape() == ([(2, 3)], [(2, 3)], [])
    assert y.infer_type() == ([np.float64], [np.float64], [])
    assert mx.sym.var("v").name == "v"
    with pytest.raises(mx.MXError, match="unknown argument"):
        mx.sym.Variable("z", colour="red")


def test_auto_naming_is_the_librarys():
    d = mx.sym.Variable("data")
    a = mx.sym.FullyConnected(d, num_hidden=2)
    b = mx.sym.FullyConnected(d, num_hidden=2)
    assert a.name.startswith("fullyconnected") and b.name.startswith("fullyconnected")
    assert a.name != b.name
    assert a.list_arguments() == ["data", a.name + "_weight", a.name + "_bias"]
    assert (d + 1).name.startswith("_plusscalar") and (d * d).name.startswith("elemwisemul")
    named = mx.sym.FullyConnected(data=d, num_hidden=2, name="fc9")
    assert named.name == "fc9" and named.list_outputs() == ["fc9_output"]
    free = mx.sym.FullyConnected(num_hidden=3, name="lone")  # every input becomes a variable
    assert free.list_arguments() == ["lone_data", "lone_weight", "lone_bias"]


def test_structure_internals_outputs_and_groups():
    d = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(d, num_hidden=4, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(act, num_hidden=2, name="fc2")
    internals = net.get_internals()
    assert "fc1_output" in internals.list_outputs() and "relu1_output" in internals.list_outputs()
    assert internals["fc1_output"].list_outputs() == ["fc1_output"]
    assert internals["relu1_output"].list_arguments() == ["data", "fc1_weight", "fc1_bias"]
    group = mx.sym.Group([fc1, net])
    assert len(group) == 2 and group.name is None
    assert group.list_outputs() == ["fc1_output", "fc2_output"]
    assert group[1].name == "fc2" and group[-1].name == "fc2"
    assert [s.name for s in group] == ["fc1", "fc2"]
    assert group[0:1].list_outputs() == ["fc1_output"]
    assert net.get_children().list_outputs() == ["relu1_output", "fc2_weight", "fc2_bias"]
    assert d.get_children() is None
    assert "group" in repr(group) and repr(net) == "<Symbol fc2>"
    with pytest.raises(mx.MXError, match="no output named"):
        internals["nope_output"]
    parts = mx.sym.SliceChannel(d, num_outputs=3, name="split")
    assert len(parts) == 3 and parts.list_outputs()[2].startswith("split_output")


def test_attributes_of_nodes():
    d = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(d, num_hidden=5, name="fc", attr={"lr_mult": "0.5"})
    assert fc.attr("num_hidden") == "5" and fc.attr("lr_mult") == "0.5"
    fc._set_attr(ctx_group="dev1")
    d2 = fc.attr_dict()
    assert d2["fc"]["ctx_group"] == "dev1" and d2["fc"]["num_hidden"] == "5"


def test_composition_by_call():
    a = mx.sym.Variable("a")
    inner = mx.sym.FullyConnected(a, num_hidden=3, name="inner")
    x = mx.sym.Variable("x")
    src = x * 2
    composed = inner(a=src)
    assert composed.list_arguments() == ["x", "inner_weight", "inner_bias"]
    assert inner.list_arguments() == ["a", "inner_weight", "inner_bias"]  # original unchanged
    positional = inner(src)
    assert positional.list_arguments() == composed.list_arguments()
    with pytest.raises(mx.MXError):
        inner(nope=src)  # the library names the unknown input
    with pytest.raises(mx.MXError, match="either by position or by name"):
        inner(src, a=src)


def test_infer_shape_forms_and_errors():
    d = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(d, num_hidden=10, name="fc")
    args, outs, aux = net.infer_shape((32, 100))  # positional, in list_arguments order
    assert args == [(32, 100), (10, 100), (10,)] and outs == [(32, 10)] and aux == []
    with pytest.raises(mx.MXError, match=r"cannot infer every shape: argument 'data' \(input "
                       r"'data' of node 'fc' \(FullyConnected\)\) is \?; argument 'fc_weight'"):
        net.infer_shape()
    args, outs, _ = net.infer_shape_partial()
    assert args[0] == () and args[1] == (10, 0) and outs == [()]
    with pytest.raises(mx.MXError, match=r"^argument 'fc_weight' \(input 'weight' of node 'fc' "
                       r"\(FullyConnected\)\): given shape \(10,99\), inferred \(10,100\)$"):
        net.infer_shape(data=(32, 100), fc_weight=(10, 99))
    arg_types, out_types, _ = net.infer_type(data=np.float32)
    assert arg_types == [np.float32] * 3 and out_types == [np.float32]
    with pytest.raises(mx.MXError, match="cannot infer every type: argument 'data'"):
        net.infer_type()
    assert net.infer_type_partial()[0] == [None, None, None]
    with pytest.raises(mx.MXError, match=r"argument 'fc_bias' \(input 'bias' of node 'fc' "
                       r"\(FullyConnected\)\): given type float64, inferred float32"):
        net.infer_type(data=np.float32, fc_bias=np.float64)


def test_partial_shapes_as_in_mxnet():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    args, outs, _ = (a + b).infer_shape(a=(12, 0), b=(0, 10))  # 0: unknown
    assert args == [(12, 10), (12, 10)] and outs == [(12, 10)]
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=10, name="fc")
    args, outs, _ = net.infer_shape_partial(data=(0, 784))
    assert args == [(0, 784), (10, 784), (10,)] and outs == [(0, 10)]
    args, outs, _ = net.infer_shape_partial(data=())  # () says nothing
    assert args[0] == () and args[1] == (10, 0)
    with pytest.raises(mx.MXError, match=r"argument 'data' \(input 'data' of node 'fc' "
                       r"\(FullyConnected\)\) is \(\?,784\)"):
        net.infer_shape(data=(0, 784))
    with pytest.raises(mx.MXError, match=r"simple_bind: cannot infer the shape of argument 'data'"):
        net.simple_bind(mx.cpu(), data=(0, 784))


def test_given_shapes_win_over_shape_hints():
    data = mx.sym.Variable("data", shape=(64, 0))
    net = mx.sym.FullyConnected(data, num_hidden=10, name="fc")
    assert net.infer_shape(data=(8, 3))[0][0] == (8, 3)  # given beats the hint
    args, _, _ = net.infer_shape(fc_weight=(10, 5))  # the hint fills the unknown batch size
    assert args[0] == (64, 5)
    ex = net.simple_bind(mx.cpu(), data=(2, 3))
    assert ex.arg_dict["data"].shape == (2, 3)


def test_json_files_copies_and_pickles(tmp_path):
    d = mx.sym.Variable("data", lr_mult=3)
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(d, num_hidden=4, name="fc"), name="sm")
    text = net.tojson()
    doc = json.loads(text)
    assert [n["op"] for n in doc["nodes"]][-1] == "SoftmaxOutput"
    again = mx.sym.load_json(text)
    assert again.tojson() == text and again.list_arguments() == net.list_arguments()
    path = str(tmp_path / "net.json")
    net.save(path)
    assert mx.sym.load(path).tojson() == text
    clone = copy.copy(net)
    clone._set_attr(mark="1")
    assert net.attr("mark") is None and clone.attr("mark") == "1"  # deep copy
    assert copy.deepcopy(net).tojson() == text
    assert pickle.loads(pickle.dumps(net)).tojson() == text


def test_arithmetic_operators_evaluate_like_numpy():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    x, y = np.array([1.0, 2.0, 4.0]), np.array([2.0, 0.5, 3.0])
    exprs = [(a + b, x + y), (a - b, x - y), (a * b, x * y), (a / b, x / y), (a ** b, x ** y),
             (a + 1, x + 1), (1 + a, 1 + x), (a - 1, x - 1), (1 - a, 1 - x), (a * 2, x * 2),
             (2 * a, 2 * x), (a / 2, x / 2), (2 / a, 2 / x), (a ** 2, x ** 2), (2 ** a, 2 ** x),
             (-a, -x), (mx.sym.maximum(a, b), np.maximum(x, y)), (mx.sym.minimum(a, 1.5),
                                                                  np.minimum(x, 1.5)),
             (mx.sym.pow(a, 2), x ** 2)]
    for sym, want in exprs:
        inputs = {n: {"a": x, "b": y}[n] for n in sym.list_arguments()}
        np.testing.assert_allclose(run(sym, **inputs)[0], want, rtol=1e-6)
    with pytest.raises(mx.MXError, match="unsupported operand"):
        a + "b"


@pytest.mark.parametrize("act,ref", [("relu", lambda v: np.maximum(v, 0)),
                                     ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
                                     ("tanh", np.tanh),
                                     ("softrelu", lambda v: np.log1p(np.exp(v)))])
def test_activation_types(act, ref):
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    out = run(mx.sym.Activation(data=mx.sym.Variable("data"), act_type=act), data=x)[0]
    np.testing.assert_allclose(out, ref(x), rtol=1e-5, atol=1e-6)


def test_contract_layers_forward():
    d = mx.sym.Variable("data")
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 10
    assert run(mx.sym.Flatten(d), data=x)[0].shape == (2, 12)
    np.testing.assert_allclose(run(mx.sym.Reshape(d, shape=(4, 6)), data=x)[0],
                               x.reshape(4, 6))
    b = mx.sym.Variable("b")
    out = run(mx.sym.Concat(d, b, dim=2), data=x, b=x * 2)[0]
    np.testing.assert_allclose(out, np.concatenate([x, 2 * x], axis=2), rtol=1e-6)
    parts = run(mx.sym.SliceChannel(d, num_outputs=3, axis=1), data=x)
    assert len(parts) == 3
    np.testing.assert_allclose(parts[1], x[:, 1:2, :], rtol=1e-6)
    emb = mx.sym.Embedding(data=d, input_dim=4, output_dim=2, name="emb")
    assert emb.list_arguments() == ["data", "emb_weight"]
    table = np.arange(8.0).reshape(4, 2)
    out = run(emb, data=np.array([[3, 0], [1, 1]]), emb_weight=table)[0]
    np.testing.assert_allclose(out, table[[[3, 0], [1, 1]]])
    fc = mx.sym.FullyConnected(data=d, num_hidden=3, no_bias=True, name="nb")
    assert fc.list_arguments() == ["data", "nb_weight"]
    w = mx.sym.Variable("w")
    fc = mx.sym.FullyConnected(data=d, weight=w, num_hidden=3, name="fcw")
    assert fc.list_arguments() == ["data", "w", "fcw_bias"]
    lin = mx.sym.LinearRegressionOutput(data=d, name="lin")
    assert lin.list_arguments() == ["data", "lin_label"]
    logit = mx.sym.LogisticRegressionOutput(data=d, name="log")
    v = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(run(logit, data=v, log_label=v)[0], 1 / (1 + np.exp(-v)),
                               rtol=1e-6)
    sm = mx.sym.SoftmaxOutput(data=d, label=mx.sym.Variable("y"), name="out")
    assert sm.list_arguments() == ["data", "y"]
