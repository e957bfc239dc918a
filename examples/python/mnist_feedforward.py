#!/usr/bin/env python3
"""Trains the seed document's MLP on MNIST with mx.model.FeedForward, as the classic MXNet
tutorial does: fit(train, eval_data=test, eval_metric='acc') with a Speedometer, then score.

    /usr/bin/python3 examples/python/mnist_feedforward.py --data data/mnist --epochs 10
    ... --ctx cpu:0,cpu:1   (data parallelism over two contexts through a 'local' kvstore)

Prints the training log and a final "test accuracy: ..." line.
"""
import argparse
import logging
import os
import sys
import time

try:
    import mx
except ImportError:  # running from a checkout: the package is in python/
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))
    import mx


class EpochTimer:
    """A batch-end callback measuring training samples/s per epoch (evaluation excluded)."""

    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.start = {}
        self.speeds = {}

    def __call__(self, param):
        now = time.time()
        if param.nbatch == 1:
            self.start[param.epoch] = now
        elif param.nbatch > 1:
            self.speeds[param.epoch] = (param.nbatch - 1) * self.batch_size / \
                (now - self.start[param.epoch])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ctx", default="cpu:0", help="devices, e.g. cpu:0 or gpu:0,gpu:1")
    p.add_argument("--profile", metavar="FILE",
                   help="record every engine op and write FILE: a Chrome trace for .json "
                        "(open in https://ui.perfetto.dev), a table of ops for .txt")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)

    mx.random.seed(args.seed)
    ctx = [mx.Context(c.split(":")[0], int(c.split(":")[1])) for c in args.ctx.split(",")]
    batch = args.batch_size
    train = mx.io.MNISTIter(image=os.path.join(args.data, "train-images-idx3-ubyte"),
                            label=os.path.join(args.data, "train-labels-idx1-ubyte"),
                            batch_size=batch, shuffle=True, flat=True, seed=args.seed)
    test = mx.io.MNISTIter(image=os.path.join(args.data, "t10k-images-idx3-ubyte"),
                           label=os.path.join(args.data, "t10k-labels-idx1-ubyte"),
                           batch_size=batch, shuffle=False, flat=True)

    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(data=fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act1, name="fc2", num_hidden=10)
    mlp = mx.sym.SoftmaxOutput(data=fc2, name="softmax")
    print("libmx %s (Python): MNIST MLP on %s, %d epochs, batch %d, lr %g (FeedForward)"
          % (mx.__version__, ",".join(str(c) for c in ctx), args.epochs, batch, args.lr))

    if args.profile:
        mx.profiler.set_state("run")
    timer = EpochTimer(batch)
    model = mx.model.FeedForward(mlp, ctx=ctx, num_epoch=args.epochs, learning_rate=args.lr,
                                 initializer=mx.init.Xavier())
    model.fit(X=train, eval_data=test, eval_metric="acc",
              batch_end_callback=[mx.callback.Speedometer(batch, 20), timer])
    print("train speed: %.0f samples/s (best epoch)" % max(timer.speeds.values()))
    print("test accuracy: %.4f" % model.score(test, "acc"))
    if args.profile:
        mx.nd.waitall()
        mx.profiler.set_state("stop")
        mx.profiler.dump(args.profile)
        print("profile written to %s" % args.profile)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except mx.MXError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)
