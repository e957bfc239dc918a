"""MNIST IDX files as torch tensors, for the PyTorch peers of the MNIST benchmarks."""
import gzip
import os
import struct

import numpy as np
import torch


def read_idx(path):
    """An IDX file, plain or gzip'ed (told by its first bytes, as libmx does); a path that does
    not exist is tried with ".gz" added."""
    if not os.path.exists(path):
        path += ".gz"
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = struct.unpack(">I", raw[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data, prefix, flat=True):
    """(images scaled to [0, 1], labels) of `prefix` (train or t10k) in directory `data`."""
    images = read_idx(os.path.join(data, prefix + "-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data, prefix + "-labels-idx1-ubyte"))
    x = images.astype(np.float32) / 255.0
    x = x.reshape(len(x), -1) if flat else x.reshape(len(x), 1, x.shape[1], x.shape[2])
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
