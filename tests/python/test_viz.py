"""mx.viz.plot_network: DOT source with one node per operator and visible input, edges from
each node to its inputs labelled with inferred shapes, weights hidden on request."""
import re
import shutil

import pytest

import mx


def net():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=4, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def test_nodes_edges_and_shapes():
    dot = mx.viz.plot_network(net(), title="mlp", shape={"data": (8, 32)})
    assert isinstance(dot, str) and dot.source == str(dot)
    assert dot.startswith('digraph "mlp" {') and dot.rstrip().endswith("}")
    labels = re.findall(r'n\d+ \[label="([^"]*)"', dot)
    assert labels == ["data", "FullyConnected\n16", "Activation\nrelu", "FullyConnected\n4",
                      "softmax_label", "SoftmaxOutput"]
    edge_labels = re.findall(r'-> n\d+ \[[^]]*label="([^"]*)"', dot)
    assert sorted(edge_labels) == sorted(["8x32", "8x16", "8x16", "8x4", "8"])
    assert "fc1_weight" not in dot  # hidden by default


def test_weights_shown_when_asked_and_bad_input():
    dot = mx.viz.plot_network(net(), hide_weights=False)
    assert "fc1_weight" in dot and "fc2_bias" in dot and "label=" in dot
    assert len(re.findall(r"->", dot)) == 9
    with pytest.raises(mx.MXError):
        mx.viz.plot_network("not a symbol")
    with pytest.raises(mx.MXError, match="cannot infer every shape: argument 'data'"):
        mx.viz.plot_network(net(), shape={"softmax_label": (8,)})


def test_render_needs_graphviz(tmp_path):
    dot = mx.viz.plot_network(net(), save_format="svg")
    if shutil.which("dot") is None:
        with pytest.raises(mx.MXError, match="Graphviz"):
            dot.render(str(tmp_path / "g"))
    else:
        out = dot.render(str(tmp_path / "g"))
        assert out.endswith(".svg") and open(out).read().lstrip().startswith("<")


def test_edges_from_multi_output_nodes_get_their_own_shapes():
    data = mx.sym.Variable("data")
    parts = mx.sym.SliceChannel(data, num_outputs=2, axis=1, name="split")
    net = mx.sym.FullyConnected(parts[1], num_hidden=3, name="fc") + \
        mx.sym.FullyConnected(parts[0], num_hidden=3, name="fc0")
    dot = mx.viz.plot_network(net, shape={"data": (2, 10)})
    assert re.findall(r'-> n\d+ \[[^]]*label="2x5"', dot) and len(
        re.findall(r'label="2x5"', dot)) == 2
    assert dot.count('label="2x3"') == 2 and 'label="2x10"' in dot
