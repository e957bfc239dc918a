"""mx.viz: a picture of a network as Graphviz DOT source.

``plot_network(sym, shape={'data': (100, 784)})`` returns the DOT text (a str, with a
``render()`` method that runs Graphviz's ``dot`` when it is installed). The graph comes from the
symbol's JSON and, given input shapes, the edges are labelled with the shapes the library
infers. Each node's DOT id is its name (``conv1``; quoted when DOT needs it), so the source can
be searched for a layer.
"""
import json
import re
import shutil
import subprocess

from .base import MXError

__all__ = ["plot_network", "Network"]

_COLORS = ("#8dd3c7", "#fb8072", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5")
_HIDDEN_SUFFIXES = ("_weight", "_bias", "_beta", "_gamma", "_moving_var", "_moving_mean",
                    "_running_var", "_running_mean")


class Network(str):
    """DOT source of a network. ``render(filename)`` writes filename.<format> with Graphviz."""

    def __new__(cls, source, save_format="pdf"):
        obj = super().__new__(cls, source)
        obj.format = save_format
        return obj

    @property
    def source(self):
        return str(self)

    def render(self, filename="plot", format=None):  # noqa: A002 (graphviz's name)
        fmt = format or self.format
        dot = shutil.which("dot")
        if dot is None:
            raise MXError("rendering needs Graphviz's 'dot' program, which is not installed; "
                          "the DOT source is this string")
        out = "%s.%s" % (filename, fmt)
        result = subprocess.run([dot, "-T" + fmt, "-o", out], input=str(self).encode(),
                                capture_output=True)
        if result.returncode != 0:
            raise MXError("dot failed: %s" % result.stderr.decode(errors="replace"))
        return out


def _dims(text, default=""):
    """'(5, 5)' -> '5x5' (MXNet's way of printing kernels and strides)."""
    parts = [p for p in str(text or default).strip("()[]").replace(" ", "").split(",") if p]
    return "x".join(parts)


def _label(op, attrs, name):
    def a(key, default=""):
        return attrs.get(key, default)

    if op == "null":
        return name, _COLORS[0]
    if op == "Convolution":
        return "Convolution\n%s/%s, %s" % (_dims(a("kernel")), _dims(a("stride"), "1"),
                                            a("num_filter")), _COLORS[1]
    if op == "FullyConnected":
        return "FullyConnected\n%s" % a("num_hidden"), _COLORS[1]
    if op == "BatchNorm":
        return "BatchNorm", _COLORS[3]
    if op in ("Activation", "LeakyReLU"):
        return "%s\n%s" % (op, a("act_type", "leaky")), _COLORS[2]
    if op == "Pooling":
        if a("global_pool") in ("True", "true", "1"):
            return "Pooling\n%s, global" % a("pool_type", "max"), _COLORS[4]
        return "Pooling\n%s, %s/%s" % (a("pool_type", "max"), _dims(a("kernel")),
                                        _dims(a("stride"), "1")), _COLORS[4]
    if op in ("Concat", "Flatten", "Reshape", "SliceChannel"):
        return op, _COLORS[5]
    if op.startswith("Softmax") or op.endswith("RegressionOutput"):
        return op, _COLORS[6]
    return "%s\n%s" % (op, name), _COLORS[7]


def _quote(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')


_DOT_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def _id(name):
    """`name` as a DOT id: as it is when DOT reads it as a plain id (letters, digits and
    underscores, not starting with a digit, not a keyword: conv1, fc1_weight, _plus0), else
    quoted with its quotes and backslashes escaped. DOT reads back `\\"` as a quote and keeps
    `\\\\` as two backslashes (it has no escape for one backslash before a quote), so every name
    gives a valid, distinct id, the name itself unless it holds a backslash."""
    if re.match(r"^[A-Za-z_][A-Za-z_0-9]*\Z", name) and name.lower() not in _DOT_KEYWORDS:
        return name
    return _quote(name)


def _node_ids(nodes):
    """Each node's DOT id: its own name, as MXNet's plot_network does. Symbols may give two nodes
    one name; the later ones get "#<node index>" appended, so no two nodes merge."""
    ids, taken = [], set()
    for nid, node in enumerate(nodes):
        name = node["name"]
        while name in taken:
            name = "%s#%d" % (name, nid)
        taken.add(name)
        ids.append(_id(name))
    return ids


def plot_network(symbol, title="plot", save_format="pdf", shape=None, node_attrs=None,
                 hide_weights=True):
    """The network of `symbol` as DOT source (a Network, i.e. a str). `shape` (input name ->
    shape) labels the edges with inferred shapes; `hide_weights` leaves out parameters."""
    from .symbol import Symbol
    if not isinstance(symbol, Symbol):
        raise MXError("plot_network: symbol must be an mx.sym.Symbol")
    graph = json.loads(symbol.tojson())
    nodes = graph["nodes"]
    shape_of = {}
    if shape is not None:
        internals = symbol.get_internals()
        _, out_shapes, _ = internals.infer_shape(**shape)
        names = internals.list_outputs()
        # Internals list the outputs in the JSON's node order: a variable's is its name, an
        # operator's visible ones follow as "<node>_<output>" (hidden ones, such as batch-norm
        # statistics, are not listed and feed no other node). Walk both lists together.
        pos = 0
        for nid, node in enumerate(nodes):
            k = 0
            while pos < len(names) and (
                    names[pos] == node["name"] if node["op"] == "null" and k == 0 else
                    node["op"] != "null" and names[pos].startswith(node["name"] + "_")):
                shape_of[(nid, k)] = out_shapes[pos]
                pos += 1
                k += 1
    style = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034",
             "style": "filled"}
    style.update(node_attrs or {})
    lines = ["digraph %s {" % _quote(title), "  label=%s;" % _quote(title),
             "  node [%s];" % ", ".join("%s=%s" % (k, _quote(v)) for k, v in style.items())]
    hidden = set()
    ids = _node_ids(nodes)
    for nid, node in enumerate(nodes):
        op, name = node["op"], node["name"]
        if hide_weights and op == "null" and name.endswith(_HIDDEN_SUFFIXES):
            hidden.add(nid)
            continue
        label, color = _label(op, node.get("attrs", {}), name)
        extra = ', shape="oval"' if op == "null" else ""
        lines.append("  %s [label=%s, fillcolor=%s%s];"
                     % (ids[nid], _quote(label), _quote(color), extra))
    for nid, node in enumerate(nodes):
        if node["op"] == "null":
            continue
        for entry in node["inputs"]:
            src, k = entry[0], entry[1]
            if src in hidden:
                continue
            attrs = 'dir="back", arrowtail="open"'
            if (src, k) in shape_of:
                attrs += ", label=%s" % _quote("x".join(str(d) for d in shape_of[(src, k)]))
            lines.append("  %s -> %s [%s];" % (ids[nid], ids[src], attrs))
    lines.append("}")
    return Network("\n".join(lines) + "\n", save_format)
