"""Shared test setup: import the package from this checkout (python/), and helpers.

The library is found as the package finds it: $MX_LIBRARY_PATH, else the checkout's
build/libmx.so (what CI builds).
"""
import gzip
import os
import struct
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import mx  # noqa: E402


def contexts():
    """The devices every device-parameterised test runs on: the CPU, and GPU 0 when this
    build and machine have one (then results are compared with the CPU's)."""
    ctxs = [mx.cpu()]
    if mx.num_gpus() > 0:
        ctxs.append(mx.gpu(0))
    return ctxs


@pytest.fixture(params=contexts(), ids=str)
def ctx(request):
    return request.param


def write_idx(directory, prefix, images, labels, gz=True):
    """Writes MNIST-format IDX files (gzip'ed, or plain when not `gz`) of uint8 images
    (n, rows, cols) and labels; returns their paths."""
    images = np.asarray(images, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.uint8)
    suffix, opener = (".gz", gzip.open) if gz else ("", open)
    img_path = os.path.join(directory, prefix + "-images-idx3-ubyte" + suffix)
    lbl_path = os.path.join(directory, prefix + "-labels-idx1-ubyte" + suffix)
    with opener(img_path, "wb") as f:
        f.write(struct.pack(">IIII", 2051, *images.shape))
        f.write(images.tobytes())
    with opener(lbl_path, "wb") as f:
        f.write(struct.pack(">II", 2049, labels.shape[0]))
        f.write(labels.tobytes())
    return img_path, lbl_path


def prototypes(n, dim=784, classes=10, noise=2.0, seed=42):
    """A learnable classification set: noisy copies of one random prototype per class. The
    prototypes are the same for every seed (train and test sets share them); `seed` draws the
    samples."""
    protos = np.random.RandomState(12345).randn(classes, dim).astype(np.float32)
    rng = np.random.RandomState(seed)
    y = rng.randint(0, classes, size=n)
    x = protos[y] + noise * rng.randn(n, dim).astype(np.float32)
    return x.astype(np.float32), y.astype(np.float32)
