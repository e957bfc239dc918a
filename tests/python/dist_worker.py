"""One worker of the jobs tests/python/test_dist.py starts with mpirun: trains FeedForward through
a dist_sync store on its part of the data and saves its final parameters as rank<R>.npz in the
directory given. The test imports data() and train() to train the same net in one process."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import mx  # noqa: E402

SAMPLES, DIM, CLASSES = 360, 16, 4
BATCH = 20  # per worker and step


def data():
    rng = np.random.RandomState(3)
    x = rng.randn(SAMPLES, DIM).astype(np.float32)
    y = x[:, :CLASSES].argmax(axis=1).astype(np.float32)
    return x, y


def net():
    h = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=16, name="fc1")
    h = mx.sym.Activation(h, act_type="relu", name="relu1")
    h = mx.sym.FullyConnected(h, num_hidden=CLASSES, name="fc2")
    return mx.sym.SoftmaxOutput(h, name="softmax")


def train(x, y, batch, kvstore):
    """Two epochs in data order, with momentum and weight decay (so the optimizer's state
    matters); the parameters as numpy arrays."""
    mx.random.seed(5)
    model = mx.model.FeedForward(net(), num_epoch=2, learning_rate=0.1, momentum=0.9, wd=1e-4,
                                 initializer=mx.init.Xavier())
    model.fit(mx.io.NDArrayIter(x, y, batch_size=batch, shuffle=False), kvstore=kvstore)
    return {k: v.asnumpy() for k, v in model.arg_params.items()}


def main(out_dir):
    kv = mx.kv.create("dist_sync")
    part = SAMPLES // kv.num_workers
    x, y = data()
    mine = slice(kv.rank * part, (kv.rank + 1) * part)
    np.savez(os.path.join(out_dir, "rank%d.npz" % kv.rank), **train(x[mine], y[mine], BATCH, kv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
