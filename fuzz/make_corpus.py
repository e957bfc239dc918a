#!/usr/bin/env python3
"""Writes the fuzz harnesses' seed corpus (fuzz/corpus/<harness>/) and dictionaries (fuzz/dict/).

The seeds are small valid files and edge cases: the examples' networks as symbol JSON, saved
NDArray files of every dtype, tiny IDX files plain and gzip'ed, op parameter strings. They are
committed; run this again (from a checkout, after building build/libmx.so) when a format or an
example changes:

    /usr/bin/python3 fuzz/make_corpus.py

The output is deterministic: the same library writes the same bytes.
"""
import gzip
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import mx  # noqa: E402
import numpy as np  # noqa: E402

FUZZ = os.path.join(ROOT, "fuzz")


def out_dir(name):
    path = os.path.join(FUZZ, "corpus", name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(folder, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---- symbol JSON: the examples' networks, and the format's corners ----------------------------

def example_mlp():
    spec = importlib.util.spec_from_file_location(
        "mnist_mlp", os.path.join(ROOT, "examples", "python", "mnist_mlp.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mlp()


def lenet():  # examples/cpp/mnist_lenet.cpp
    sym = mx.sym
    x = sym.Variable("data")
    x = sym.Convolution(data=x, name="conv1", kernel=(5, 5), num_filter=20)
    x = sym.Pooling(data=sym.Activation(data=x, name="act1", act_type="tanh"), name="pool1",
                    kernel=(2, 2), stride=(2, 2), pool_type="max")
    x = sym.Convolution(data=x, name="conv2", kernel=(5, 5), num_filter=50)
    x = sym.Pooling(data=sym.Activation(data=x, name="act2", act_type="tanh"), name="pool2",
                    kernel=(2, 2), stride=(2, 2), pool_type="max")
    x = sym.Activation(data=sym.FullyConnected(data=sym.Flatten(data=x, name="flatten"),
                                               name="fc1", num_hidden=500),
                       name="act3", act_type="tanh")
    return sym.SoftmaxOutput(data=sym.FullyConnected(data=x, name="fc2", num_hidden=10),
                             name="softmax")


def resnet():  # examples/cpp/mnist_resnet.cpp, one block of each kind
    sym = mx.sym

    def conv_bn(name, x, channels, stride):
        c = sym.Convolution(data=x, name=name + "_conv", kernel=(3, 3), num_filter=channels,
                            stride=(stride, stride), pad=(1, 1), no_bias=True)
        return sym.BatchNorm(data=c, name=name + "_bn")

    x = sym.Variable("data", shape=(2, 1, 28, 28))
    x = sym.Activation(data=conv_bn("stem", x, 16, 1), name="stem_relu", act_type="relu")
    x = sym.Pooling(data=x, name="stem_pool", kernel=(2, 2), stride=(2, 2), pool_type="max")
    y = sym.Activation(data=conv_bn("b1_a", x, 16, 1), name="b1_relu1", act_type="relu")
    x = sym.Activation(data=conv_bn("b1_b", y, 16, 1) + x, name="b1_relu2", act_type="relu")
    y = sym.Activation(data=conv_bn("b2_a", x, 32, 2), name="b2_relu1", act_type="relu")
    shortcut = sym.BatchNorm(
        data=sym.Convolution(data=x, name="b2_proj", kernel=(1, 1), num_filter=32,
                             stride=(2, 2), no_bias=True), name="b2_proj_bn")
    x = sym.Activation(data=conv_bn("b2_b", y, 32, 1) + shortcut, name="b2_relu2",
                       act_type="relu")
    x = sym.Pooling(data=x, name="global_pool", kernel=(1, 1), global_pool=True,
                    pool_type="avg")
    return sym.SoftmaxOutput(data=sym.FullyConnected(data=sym.Flatten(data=x, name="flatten"),
                                                     name="fc", num_hidden=10), name="softmax")


def symbol_json():
    folder = out_dir("symbol_json")
    sym = mx.sym
    write(folder, "mlp.json", example_mlp().tojson())
    write(folder, "lenet.json", lenet().tojson())
    write(folder, "resnet.json", resnet().tojson())

    # Shapes and dtypes as variable attributes: inference with nothing given completes.
    data = sym.Variable("data", shape=(4, 8), dtype="float32", lr_mult=2)
    fc = sym.FullyConnected(data=data, name="fc", num_hidden=3)
    parts = sym.SliceChannel(data=fc, name="split", num_outputs=3, axis=1)
    joined = sym.Concat(parts[0], parts[2], parts[1], name="cat", num_args=3, dim=1)
    write(folder, "multi_output.json", sym.Group([joined, parts[1], fc]).tojson())

    # Hidden outputs, parameter-dependent inputs, scalars and user attributes on an op.
    x = sym.Variable("x", shape=(2, 3))
    y = sym.Dropout(data=x * 2.0 + 1.0, name="drop", p=0.25)
    y._set_attr(ctx_group="dev1")
    write(folder, "scalars.json", sym.LeakyReLU(data=y, name="prelu", act_type="prelu").tojson())

    write(folder, "variable.json", sym.Variable("v").tojson())
    write(folder, "empty_group.json", '{"nodes": [], "arg_nodes": [], "heads": []}\n')

    # MXNet 1.x conventions: attributes of variables under "attrs", "__key__" user attributes
    # among an op's parameters, two-number entries, no node_row_ptr, no format version.
    write(folder, "mxnet_style.json", json.dumps({
        "nodes": [
            {"op": "null", "name": "data", "attrs": {"__shape__": "(1,4)"}, "inputs": []},
            {"op": "null", "name": "w", "attrs": {"__lr_mult__": "0.5"}, "inputs": []},
            {"op": "FullyConnected", "name": "fc",
             "attrs": {"num_hidden": "2", "no_bias": "True", "__wd_mult__": "0"},
             "inputs": [[0, 0], [1, 0]]}],
        "arg_nodes": [0, 1],
        "heads": [[2, 0]]}, indent=1))

    # Escapes: \uXXXX, a surrogate pair, every short escape; a key the reader ignores.
    write(folder, "escapes.json",
          '{"nodes": [{"op": "null", "name": "d\\u00e9j\\u00e0 \\ud83d\\ude00 \\"\\\\\\/\\b\\f'
          '\\n\\r\\t", "user_attrs": {"note": "\\u0041"}, "inputs": []}], "arg_nodes": [0], '
          '"heads": [[0, 0, 0]], "future_key": [1.5e3, -0, true, false, null], '
          '"attrs": {"format_version": ["int", 1]}}')
    # Edge cases that must be rejected cleanly.
    write(folder, "future_version.json",
          '{"nodes": [], "arg_nodes": [], "heads": [], '
          '"attrs": {"format_version": ["int", 2]}}')
    write(folder, "forward_reference.json",
          '{"nodes": [{"op": "relu", "name": "r", "inputs": [[1, 0, 0]]}, '
          '{"op": "null", "name": "x", "inputs": []}], "arg_nodes": [1], "heads": [[0, 0, 0]]}')
    write(folder, "deep.json", "[" * 70 + "]" * 70)


# ---- NDArray files ----------------------------------------------------------------------------

def ndarray_load():
    folder = out_dir("ndarray_load")
    nd = mx.nd
    tmp = tempfile.mkdtemp()

    def save(name, data):
        path = os.path.join(tmp, name)
        nd.save(path, data)
        with open(path, "rb") as f:
            write(folder, name, f.read())

    save("list.params", [nd.array(np.arange(6, dtype=np.float32).reshape(2, 3)),
                         nd.array(np.array([-1, 0, 1 << 40], dtype=np.int64), dtype="int64")])
    save("named.params", {"arg:fc_weight": nd.array(np.ones((2, 2), dtype=np.float32)),
                          "aux:bn_moving_var": nd.array(np.array([0.5], dtype=np.float32))})
    dtypes = ["float32", "float64", "float16", "uint8", "int32", "int8", "int64"]
    save("dtypes.params", [nd.array(np.array([1, 2, 3]), dtype=d) for d in dtypes])
    save("empty_list.params", [])
    save("scalar_and_empty.params", {"scalar": nd.array(np.float32(3.5)),
                                     "zero_size": nd.zeros((0, 3)), "": nd.zeros((1,))})
    shutil.rmtree(tmp)
    # A header that is right up to a count of arrays the file cannot hold.
    write(folder, "huge_count.params",
          b"MXNDARRY" + struct.pack("<IQQ", 1, 1 << 60, 0) + b"\0\0\0\0")


# ---- IDX files --------------------------------------------------------------------------------

def idx_file():
    folder = out_dir("idx_file")
    images = struct.pack(">IIII", 2051, 2, 3, 2) + bytes(range(12))
    labels = struct.pack(">II", 2049, 3) + bytes([7, 0, 9])
    write(folder, "images.idx", images)
    write(folder, "labels.idx", labels)
    # mtime=0: the gzip header carries no date, so the files do not change between runs.
    write(folder, "images.idx.gz", gzip.compress(images, mtime=0))
    write(folder, "labels.idx.gz", gzip.compress(labels, mtime=0))
    write(folder, "no_images.idx", struct.pack(">IIII", 2051, 0, 28, 28))
    write(folder, "truncated_images.idx", images[:20])
    write(folder, "header_only.idx", struct.pack(">II", 2049, 0))
    write(folder, "two_members.idx.gz",
          gzip.compress(labels[:6], mtime=0) + gzip.compress(labels[6:], mtime=0))


# ---- op parameters ------------------------------------------------------------------------------

OP_CASES = {
    "fully_connected": "FullyConnected\nnum_hidden=4\n@in=(2,3)\n",
    "fully_connected_no_flatten": "FullyConnected\nnum_hidden=2\nno_bias=True\nflatten=False\n"
                                  "@in=(2,2,3)\n",
    "convolution": "Convolution\nkernel=(3,3)\nnum_filter=2\nstride=(1,1)\npad=(1,1)\n"
                   "@in=(1,1,5,5)\n",
    "convolution_dilate": "Convolution\nkernel=(2,2)\nnum_filter=1\ndilate=(2,2)\nno_bias=1\n"
                          "num_group=1\n@in=(1,2,6,6)\n@fill=1\n",
    "deconvolution": "Deconvolution\nkernel=(2,2)\nnum_filter=3\nstride=(2,2)\n@in=(1,2,3,3)\n",
    "pooling": "Pooling\nkernel=(2,2)\nstride=(2,2)\npool_type=avg\n@in=(1,1,4,4)\n",
    "pooling_global": "Pooling\nglobal_pool=true\npool_type=max\nkernel=(1,1)\n@in=(2,3,3,3)\n"
                      "@fill=2\n",
    "batch_norm": "BatchNorm\neps=0.001\nmomentum=0.9\nfix_gamma=False\n@in=(2,3,2,2)\n@train=1\n",
    "activation": "Activation\nact_type=softrelu\n@in=(3,4)\n@fill=2\n",
    "leaky_relu": "LeakyReLU\nact_type=elu\nslope=0.3\n@in=(2,5)\n@fill=1\n",
    "dropout": "Dropout\np=0.5\n@in=(4,4)\n@train=1\n",
    "softmax_output": "SoftmaxOutput\ngrad_scale=1\nmulti_output=False\n@in=(2,5)\n@in=(2,)\n",
    "reshape": "Reshape\nshape=(-1,0)\n@in=(2,3,4)\n",
    "reshape_codes": "Reshape\nshape=(0,-3,-2)\n@in=(2,3,4,5)\n",
    "transpose": "transpose\naxes=(1,0,2)\n@in=(2,3,4)\n",
    "concat": "Concat\nnum_args=3\ndim=1\n@in=(2,1)\n@in=(2,2)\n@in=(2,3)\n",
    "slice_channel": "SliceChannel\nnum_outputs=2\naxis=-1\nsqueeze_axis=0\n@in=(3,4)\n",
    "sum_axis": "sum\naxis=(0,2)\nkeepdims=True\n@in=(2,3,4)\n@fill=1\n",
    "broadcast_to": "broadcast_to\nshape=(3,0,4)\n@in=(1,2,1)\n",
    "take": "take\naxis=0\nmode=clip\n@in=(3,4)\n@in=(5,)\n@fill=1\n",
    "one_hot": "one_hot\ndepth=4\non_value=2\noff_value=-1\n@in=(3,)\n@fill=1\n",
    "embedding": "Embedding\ninput_dim=4\noutput_dim=3\n@in=(2,3)\n",
    "zeros": "_zeros\nshape=(2,3)\ndtype=int32\n",
    "random_uniform": "_random_uniform\nlow=-1\nhigh=1\nshape=(4,)\n",
    "mul_scalar": "_mul_scalar\nscalar=-2.5e3\n@in=(3,)\n@fill=2\n",
    "clip": "clip\na_min=-1\na_max=1\n@in=(6,)\n@fill=2\n",
    "sgd_mom_update": "sgd_mom_update\nlr=0.1\nmomentum=0.9\nwd=0.0001\nrescale_grad=0.5\n"
                      "clip_gradient=1\n@in=(3,)\n",
    "upsampling": "UpSampling\nscale=2\nsample_type=nearest\nnum_args=1\n@in=(1,1,2,2)\n",
    "crop": "Crop\nnum_args=1\nh_w=(2,2)\noffset=(1,1)\n@in=(1,1,4,4)\n",
    "pad": "Pad\nmode=constant\npad_width=(0,0,0,0,1,1,2,2)\nconstant_value=3\n@in=(1,1,2,2)\n",
    "lrn": "LRN\nnsize=3\nalpha=0.001\nbeta=0.75\nknorm=2\n@in=(1,4,2,2)\n",
    "bad_key": "FullyConnected\nnum_hiden=4\n",
    "bad_value": "Activation\nact_type=relux\n",
    "bad_tuple": "Reshape\nshape=(2,,3)\n",
    "unknown_op": "FullyConected\nnum_hidden=1\n",
    "empty": "",
}


def op_params():
    folder = out_dir("op_params")
    for name, text in OP_CASES.items():
        write(folder, name + ".txt", text)


# ---- dictionaries -------------------------------------------------------------------------------

def dictionaries():
    folder = os.path.join(FUZZ, "dict")
    os.makedirs(folder, exist_ok=True)
    ops = mx._ops.list_ops()
    params = set()
    for op in ops:
        params.update(p for p in mx._ops.get_op(op).param_names)

    def entries(words):
        # libFuzzer's dictionary syntax: printable ASCII, with \\, \" and \xNN escapes.
        def escape(c):
            if c in '\\"' or not " " <= c <= "~":
                return "".join("\\x%02x" % b for b in c.encode("utf-8"))
            return c
        return "".join('"%s"\n' % "".join(escape(c) for c in w) for w in words)

    keys = ["nodes", "op", "name", "attrs", "user_attrs", "inputs", "arg_nodes", "node_row_ptr",
            "heads", "format_version", "mx_version", "int", "null", "__shape__", "__dtype__",
            "__lr_mult__", "lr_mult", "ctx_group", "true", "false"]
    with open(os.path.join(folder, "symbol_json.dict"), "w") as f:
        f.write("# JSON keys of docs/design/symbol_json.md, then operator and parameter names.\n")
        f.write(entries('"%s"' % k for k in keys))
        f.write(entries('"%s"' % o for o in ops))
        f.write(entries('"%s"' % p for p in sorted(params)))
        f.write(entries(["\\u", "\\ud83d\\ude00", "[0, 0, 0]", "(2,3)", "-1", "1e400"]))
    with open(os.path.join(folder, "op_params.dict"), "w") as f:
        f.write("# Operator names, parameter keys, and the harness's own lines (fuzz/op_params_"
                "fuzz.cc).\n")
        f.write(entries(o + "\n" for o in ops))
        f.write(entries("\n%s=" % p for p in sorted(params)))
        f.write(entries(["@in=(", "@fill=2", "@train=1", "(-1,0)", "()", "True", "-2147483649",
                         "9223372036854775808", "1e-45", "nan", "inf"]))


def binary_dictionaries():
    folder = os.path.join(FUZZ, "dict")

    def entries(words):
        return "".join('"%s"\n' % "".join("\\x%02x" % b for b in w) for w in words)

    with open(os.path.join(folder, "ndarray_load.dict"), "w") as f:
        f.write("# docs/design/ndarray_format.md: magic, version, dtypes, device types, ndim.\n")
        f.write(entries([b"MXNDARRY", struct.pack("<I", 1)] +
                        [struct.pack("<i", v) for v in (0, 1, 2, 3, 4, 5, 6, 7, 12, 13, -1)] +
                        [struct.pack("<q", v) for v in (1 << 31, 1 << 32, 1 << 62, -1)] +
                        [struct.pack("<Q", 1 << 63)]))
    with open(os.path.join(folder, "idx_file.dict"), "w") as f:
        f.write("# IDX magic numbers (big-endian), large counts, and the gzip magic.\n")
        f.write(entries([struct.pack(">I", 2051), struct.pack(">I", 2049),
                         struct.pack(">I", 0xFFFFFFFF), struct.pack(">I", 1 << 31),
                         struct.pack(">I", 1 << 16), b"\x1f\x8b\x08"]))


def main():
    symbol_json()
    ndarray_load()
    idx_file()
    op_params()
    dictionaries()
    binary_dictionaries()


if __name__ == "__main__":
    main()
