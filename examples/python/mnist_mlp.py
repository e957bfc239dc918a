#!/usr/bin/env python3
"""Trains the seed document's MLP on MNIST with a hand-written loop, as the classic MXNet
tutorial does: simple_bind an executor, initialise the weights, then per batch copy the data
in, forward, backward and update every weight with NDArray arithmetic (W -= lr * G / batch).
A second executor shares the weights (and memory) for evaluation.

    /usr/bin/python3 examples/python/mnist_mlp.py --data data/mnist --epochs 10

Prints a line per epoch and a final "test accuracy: ..." line.
"""
import argparse
import os
import sys
import time

try:
    import mx
except ImportError:  # running from a checkout: the package is in python/
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))
    import mx


def mlp():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(data=fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act1, name="fc2", num_hidden=10)
    return mx.sym.SoftmaxOutput(data=fc2, name="softmax")


def evaluate(executor, test_iter, metric):
    metric.reset()
    test_iter.reset()
    for batch in test_iter:
        executor.arg_dict["data"][:] = batch.data[0]
        executor.forward(is_train=False)
        keep = batch.data[0].shape[0] - batch.pad
        metric.update([batch.label[0][0:keep]], [executor.outputs[0][0:keep]])
    return metric.get()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gpu", action="store_true")
    p.add_argument("--profile", metavar="FILE",
                   help="record every engine op and write FILE: a Chrome trace for .json "
                        "(open in https://ui.perfetto.dev), a table of ops for .txt")
    args = p.parse_args()

    mx.random.seed(args.seed)
    ctx = mx.gpu(0) if args.gpu else mx.cpu()
    batch = args.batch_size
    train_iter = mx.io.MNISTIter(image=os.path.join(args.data, "train-images-idx3-ubyte"),
                                 label=os.path.join(args.data, "train-labels-idx1-ubyte"),
                                 batch_size=batch, shuffle=True, flat=True, seed=args.seed)
    test_iter = mx.io.MNISTIter(image=os.path.join(args.data, "t10k-images-idx3-ubyte"),
                                label=os.path.join(args.data, "t10k-labels-idx1-ubyte"),
                                batch_size=batch, shuffle=False, flat=True)
    net = mlp()
    print("libmx %s (Python): MNIST MLP on %s, %d epochs, batch %d, lr %g (hand-written loop)"
          % (mx.__version__, ctx, args.epochs, batch, args.lr))

    if args.profile:
        mx.profiler.set_state("run")
    # Gradients for the weights only: data and label need none.
    executor = net.simple_bind(ctx=ctx, grad_req={"fc1_weight": "write", "fc1_bias": "write",
                                                  "fc2_weight": "write", "fc2_bias": "write"},
                               data=(batch, 784), softmax_label=(batch,))
    init = mx.init.Xavier()
    params = [n for n in net.list_arguments() if n not in ("data", "softmax_label")]
    for name in params:
        init(name, executor.arg_dict[name])
    evaluator = net.bind(ctx, args=executor.arg_arrays, grad_req="null", shared_exec=executor)
    weights = [executor.arg_dict[n] for n in params]
    grads = [executor.grad_dict[n] for n in params]
    data, label = executor.arg_dict["data"], executor.arg_dict["softmax_label"]
    metric = mx.metric.Accuracy()
    step = args.lr / batch
    speeds = []
    for epoch in range(args.epochs):
        tic = time.time()
        train_iter.reset()
        metric.reset()
        nbatch = 0
        for dbatch in train_iter:
            dbatch.data[0].copyto(data)
            dbatch.label[0].copyto(label)
            executor.forward(is_train=True)
            executor.backward()
            for w, g in zip(weights, grads):
                w -= g * step
            metric.update([label], executor.outputs)
            nbatch += 1
        mx.nd.waitall()
        secs = time.time() - tic
        speeds.append(nbatch * batch / secs)
        train_acc = metric.get()[1]
        val_acc = evaluate(evaluator, test_iter, metric)
        print("Epoch[%d] Train-accuracy=%.4f Validation-accuracy=%.4f Time=%.2f s (%.0f "
              "samples/s)" % (epoch, train_acc, val_acc, secs, speeds[-1]))
        sys.stdout.flush()
    print("train speed: %.0f samples/s (best epoch)" % max(speeds))
    print("test accuracy: %.4f" % evaluate(evaluator, test_iter, metric))
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
