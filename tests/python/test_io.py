"""mx.io's library iterators: every batch keeps its own data, label and pad after the iterator
moves on (``list(it)`` works), for every last_batch_handle, shuffled or not."""
import gc
import itertools

import numpy as np
import pytest

import mx
from conftest import write_idx

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
