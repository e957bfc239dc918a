"""mx.viz.plot_network: DOT source with one node per operator and visible input, each with its
own name as its id, edges from each node to its inputs labelled with inferred shapes, weights
hidden on request."""
import json
import re
import shutil
import subprocess

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
    nodes = re.findall(r'^  (\w+) \[label="([^"]*)"', dot, re.M)
    assert nodes == [("data", "data"), ("fc1", "FullyConnected\n16"),
                     ("relu1", "Activation\nrelu"), ("fc2", "FullyConnected\n4"),
                     ("softmax_label", "softmax_label"), ("softmax", "SoftmaxOutput")]
    edges = re.findall(r'^  (\w+) -> (\w+) \[[^]]*label="([^"]*)"', dot, re.M)
    assert sorted(edges) == sorted([("fc1", "data", "8x32"), ("relu1", "fc1", "8x16"),
                                    ("fc2", "relu1", "8x16"), ("softmax", "fc2", "8x4"),
                                    ("softmax", "softmax_label", "8")])
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
    assert sorted(re.findall(r'(\w+) -> split \[[^]]*label="2x10"', dot)) == []
    assert sorted(re.findall(r'(\w+) -> split \[[^]]*label="(2x5)"', dot)) == [("fc", "2x5"),
                                                                               ("fc0", "2x5")]
    assert dot.count('label="2x3"') == 2 and 'label="2x10"' in dot


def dot_qstring(text, pos):
    """Graphviz's reading of the quoted string at text[pos] (its scanner's rules: backslash-quote
    is a quote, a backslash pair stays a pair, backslash-newline is dropped); returns (string,
    position after the closing quote)."""
    out, i = [], pos + 1
    while text[i] != '"':
        if text.startswith('\\"', i):
            out.append('"')
            i += 2
        elif text.startswith("\\\\", i):
            out.append("\\\\")
            i += 2
        elif text.startswith("\\\n", i):
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out), i + 1


def node_ids(dot):
    """The ids of the node statements of plot_network's DOT source, as DOT reads them."""
    ids = []
    for m in re.finditer(r'^  (?=[\w"])', dot, re.M):
        pos = m.end()
        if dot[pos] == '"':
            name, pos = dot_qstring(dot, pos)
        else:
            name = re.match(r"\w+", dot[pos:]).group(0)
            pos += len(name)
        if dot.startswith(" [label=", pos):
            ids.append(name)
    return ids


NAMES = ["conv1", "my-layer", 'say "hi"', "node", "Graph", "1st", "a b", "über", "back\\slash",
         "end\\", "conv1"]


def odd_names_net():
    x = mx.sym.Variable("data")
    for name in NAMES:
        x = mx.sym.FullyConnected(x, num_hidden=2, name=name)
    return x


def test_node_ids_are_the_names_and_searchable():
    net = mx.sym.Convolution(mx.sym.Variable("data"), kernel=(3, 3), num_filter=2, name="conv1")
    dot = mx.viz.plot_network(mx.sym.Pooling(net, kernel=(2, 2), pool_type="max", name="pool1"))
    assert re.search(r"^  conv1 \[label=", dot, re.M)
    assert re.search(r"^  pool1 -> conv1 \[", dot, re.M) and re.search(r"^  conv1 -> data ", dot,
                                                                        re.M)


def test_names_that_are_not_dot_ids_are_quoted_and_escaped():
    dot = mx.viz.plot_network(odd_names_net())
    # Plain ids stay as they are; the rest are quoted, keywords and leading digits included.
    for plain in ("data", "conv1"):
        assert re.search(r"^  %s \[label=" % plain, dot, re.M)
    for quoted in ('"my-layer"', '"node"', '"Graph"', '"1st"', '"a b"', '"über"',
                   '"say \\"hi\\""', '"back\\\\slash"', '"end\\\\"'):
        assert "\n  %s [label=" % quoted in dot, quoted
    # Read back as DOT reads it: every node keeps its name (a backslash comes back doubled: DOT
    # has no escape for a single one before a quote), and the repeated name gets its own id.
    count = len(NAMES) + 1
    expected = ["data"] + [n.replace("\\", "\\\\") for n in NAMES[:-1]] + \
        ["conv1#%d" % (3 * count - 3)]
    assert node_ids(dot) == expected
    assert len(re.findall(r" -> ", dot)) == len(NAMES)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_reads_every_name_back():
    dot = mx.viz.plot_network(odd_names_net())
    out = subprocess.run(["dot", "-Tjson"], input=dot.encode(), capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    graph = json.loads(out.stdout)
    names = [o["name"] for o in graph["objects"]]
    assert names == node_ids(dot)
    edges = [(names[e["tail"]], names[e["head"]]) for e in graph["edges"]]
    assert edges == list(zip(names[1:], names[:-1]))
