"""mx.io's library iterators: every batch keeps its own data, label and pad after the iterator
moves on (``list(it)`` works), for every last_batch_handle, shuffled or not; MNIST files are read
plain or gzip'ed, under either name, by the iterator and by every MNIST example."""
import gc
import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mx
from conftest import prototypes, write_idx

MODES = ["pad", "discard", "roll_over"]
N, BATCH = 10, 4  # 4 does not divide 10: every mode has a last batch to handle


def source():
    """Sample s is a 2x3 block of 100 s + k; its label is s."""
    x = (100 * np.arange(N)[:, None] + np.arange(6)).reshape(N, 2, 3).astype(np.float32)
    return x, np.arange(N, dtype=np.float32)


def planned_epochs(mode, num_epochs, orders):
    """The sample ids of each batch, and its pad, of `num_epochs` epochs whose new samples come in
    `orders[e]` (the library's epoch plan written out: pad wraps to the epoch's start, discard
    drops the rest, roll_over carries it into the next epoch)."""
    epochs, carried = [], []
    for e in range(num_epochs):
        order = carried + list(orders[e])
        full = len(order) // BATCH
        count = -(-len(order) // BATCH) if mode == "pad" else full
        batches = []
        for b in range(count):
            ids = [order[(b * BATCH + i) % len(order)] for i in range(BATCH)]
            batches.append((ids, max(0, (b + 1) * BATCH - len(order))))
        epochs.append(batches)
        carried = order[full * BATCH:] if mode == "roll_over" else []
    return epochs


def check_batch(batch, ids, pad, x, y):
    """`batch` holds exactly the source rows `ids` and their labels, and `pad`."""
    assert batch.pad == pad
    np.testing.assert_array_equal(batch.data[0].asnumpy(), x[ids])
    np.testing.assert_array_equal(batch.label[0].asnumpy(), y[ids])


def ids_of(batch):
    return [int(v) for v in batch.label[0].asnumpy()]


@pytest.mark.parametrize("mode", MODES)
def test_list_keeps_every_batch_in_order(mode):
    x, y = source()
    it = mx.io.NDArrayIter(x, y, batch_size=BATCH, last_batch_handle=mode)
    first = list(it)
    it.reset()
    second = list(it)
    it.free()  # batches outlive their iterator
    gc.collect()
    expected = planned_epochs(mode, 2, [range(N), range(N)])
    assert [len(first), len(second)] == [len(e) for e in expected]
    for batches, plan in zip([first, second], expected):
        for batch, (ids, pad) in zip(batches, plan):
            check_batch(batch, ids, pad, x, y)


@pytest.mark.parametrize("mode", MODES)
def test_list_keeps_every_shuffled_batch(mode):
    x, y = source()
    it = mx.io.NDArrayIter(x, y, batch_size=BATCH, shuffle=True, last_batch_handle=mode, seed=7)
    kept = [list(it)]
    it.reset()
    kept.append(list(it))
    del it
    gc.collect()
    # Each epoch's new samples come in a permutation the seed chose; read it off the batches
    # (check_batch then proves each row holds the sample its label names), then every batch must
    # be the plan's. Samples an epoch leaves over appear at the next epoch's start (roll_over) or
    # never (discard: their order does not matter).
    seen = [[s for b in batches for s in ids_of(b)] for batches in kept] + [[]]
    orders, carried = [], 0
    for e in range(len(kept)):
        new = seen[e][carried:carried + N]
        left = (carried + N) % BATCH if mode == "roll_over" else 0
        new += seen[e + 1][:left]
        new += sorted(set(range(N)) - set(new))
        assert sorted(new) == list(range(N)), (e, seen[e])
        orders.append(new)
        carried = left
    expected = planned_epochs(mode, 2, orders)
    for batches, plan in zip(kept, expected):
        assert len(batches) == len(plan)
        for batch, (ids, pad) in zip(batches, plan):
            check_batch(batch, ids, pad, x, y)
    # And the same as a second iterator with the same seed, read while each batch is current.
    ref = mx.io.NDArrayIter(x, y, batch_size=BATCH, shuffle=True, last_batch_handle=mode, seed=7)
    for e, batches in enumerate(kept):
        if e:
            ref.reset()  # as `it` was: a reset before the first epoch would reshuffle
        now = [(b.data[0].asnumpy(), b.label[0].asnumpy(), b.pad) for b in ref]
        assert len(now) == len(batches)
        for b, (d, l, p) in zip(batches, now):
            np.testing.assert_array_equal(b.data[0].asnumpy(), d)
            np.testing.assert_array_equal(b.label[0].asnumpy(), l)
            assert b.pad == p


def test_a_batch_is_independent_of_later_batches_and_of_reset():
    x, y = source()
    it = mx.io.NDArrayIter(x, y, batch_size=BATCH)
    batch = next(it)
    rest = list(itertools.islice(it, 5))
    it.reset()
    more = list(it)
    assert rest and more
    check_batch(batch, [0, 1, 2, 3], 0, x, y)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shuffle", [False, True])
def test_mnist_iter_list_keeps_every_batch(tmp_path, mode, shuffle):
    rng = np.random.RandomState(3)
    images = rng.randint(0, 256, size=(N, 5, 4))
    labels = np.arange(N) % 10
    img, lbl = write_idx(str(tmp_path), "t", images, labels)
    it = mx.io.MNISTIter(image=img, label=lbl, batch_size=BATCH, shuffle=shuffle, flat=True,
                         last_batch_handle=mode, seed=5)
    kept = [list(it)]
    it.reset()
    kept.append(list(it))
    it.free()
    x = images.reshape(N, 20).astype(np.float32) / np.float32(255)
    ref = mx.io.MNISTIter(image=img, label=lbl, batch_size=BATCH, shuffle=shuffle, flat=True,
                          last_batch_handle=mode, seed=5)
    for e, batches in enumerate(kept):
        if e:
            ref.reset()
        now = [(b.data[0].asnumpy(), b.label[0].asnumpy(), b.pad) for b in ref]
        assert len(batches) == len(now) == (3 if mode == "pad" else 2 + (mode == "roll_over" and
                                                                          e == 1))
        for b, (d, l, p) in zip(batches, now):
            data, label = b.data[0].asnumpy(), b.label[0].asnumpy()
            np.testing.assert_array_equal(data, d)
            np.testing.assert_array_equal(label, l)
            assert b.pad == p
            # Each row is one image of the file, with that image's label.
            for row, lab in zip(data, label):
                matches = [s for s in range(N) if np.array_equal(x[s], row)]
                assert matches and labels[matches[0]] == lab
        if not shuffle and mode != "roll_over":
            np.testing.assert_array_equal(batches[0].data[0].asnumpy(), x[:BATCH])
            np.testing.assert_array_equal(batches[0].label[0].asnumpy(), labels[:BATCH])


# ---- MNIST files in either form ---------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = {
    "python-loop": [sys.executable, os.path.join(ROOT, "examples/python/mnist_mlp.py")],
    "python-feedforward": [sys.executable,
                           os.path.join(ROOT, "examples/python/mnist_feedforward.py")],
    "cpp": [os.path.join(ROOT, "build/examples/mnist_mlp")],
    "cpp-feedforward": [os.path.join(ROOT, "build/examples/mnist_mlp"), "--feedforward"],
    "c": [os.path.join(ROOT, "build/examples/mnist_mlp_c")],
}


def digits(n, seed):
    """n learnable 28x28 "digits" as uint8 (noisy class prototypes) and their labels."""
    x, y = prototypes(n, noise=0.5, seed=seed)
    return np.clip(x * 32 + 128, 0, 255).astype(np.uint8).reshape(n, 28, 28), y.astype(np.uint8)


@pytest.fixture(scope="module")
def plain_mnist_dir(tmp_path_factory):
    """A directory of the four MNIST files, plain (as gunzip leaves them): no .gz anywhere."""
    directory = tmp_path_factory.mktemp("plain_mnist")
    write_idx(str(directory), "train", *digits(320, 1), gz=False)
    write_idx(str(directory), "t10k", *digits(96, 2), gz=False)
    assert not [f for f in os.listdir(str(directory)) if f.endswith(".gz")]
    return str(directory)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_examples_train_from_a_directory_of_plain_idx_files(plain_mnist_dir, example):
    cmd = EXAMPLES[example]
    if not os.path.exists(cmd[-1] if cmd[0] == sys.executable else cmd[0]):
        pytest.skip("%s is not built" % cmd[0])
    env = dict(os.environ)
    env.pop("MX_LIBRARY_PATH", None)  # the checkout's build, as the examples find it
    out = subprocess.run(cmd + ["--data", plain_mnist_dir, "--epochs", "3", "--batch-size", "32"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out.stdout).group(1))
    assert accuracy > 0.8, out.stdout  # the images and labels were read, and read together


def test_mnist_iter_reads_either_form_under_either_name(tmp_path):
    images, labels = digits(12, 3)
    plain = write_idx(str(tmp_path), "plain", images, labels, gz=False)
    gzipped = write_idx(str(tmp_path), "gzipped", images, labels)
    expected = images.reshape(12, 784).astype(np.float32) / np.float32(255)
    for img, lbl in [plain, gzipped, [p + ".gz" for p in plain],
                     [p[:-len(".gz")] for p in gzipped]]:
        batch = next(mx.io.MNISTIter(image=img, label=lbl, batch_size=12, shuffle=False,
                                     flat=True))
        np.testing.assert_array_equal(batch.data[0].asnumpy(), expected)
        np.testing.assert_array_equal(batch.label[0].asnumpy(), labels)
    missing = str(tmp_path / "missing-images-idx3-ubyte")
    with pytest.raises(mx.MXError) as err:
        mx.io.MNISTIter(image=missing, label=plain[1])
    assert "'%s'" % missing in str(err.value) and "'%s.gz'" % missing in str(err.value)
