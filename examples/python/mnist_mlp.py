#!/usr/bin/env python3
"""Trains the seed document's MLP on MNIST with a hand-written loop, as the classic MXNet
tutorial does: simple_bind an executor, initialise the weights, then per batch copy the data
in, forward, backward and update every weight with NDArray arithmetic (W -= lr * G / batch).
A second executor shares the weights (and memory) for evaluation.

    /usr/bin/python3 examples/python/mnist_mlp.py --data data/mnist --epochs 10

Prints a line per epoch and a final "test accuracy: ..." line. --kv-store TYPE updates the
weights through a key-value store instead; with dist_sync, launched by mpirun, every worker
trains on its part of the training set with its share of each batch, and rank 0 prints
(docs/distributed.md):

    mpirun -np 2 /usr/bin/python3 examples/python/mnist_mlp.py --kv-store dist_sync
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
    p.add_argument("--gpu", type=int, default=None, metavar="N",
                   help="train on gpu(N) (default: the CPU)")
    p.add_argument("--kv-store", metavar="TYPE",
                   help="update through a key-value store: local, device, dist_sync")
    p.add_argument("--profile", metavar="FILE",
                   help="record every engine op and write FILE: a Chrome trace for .json "
                        "(open in https://ui.perfetto.dev), a table of ops for .txt")
    args = p.parse_args()

    mx.random.seed(args.seed)
    ctx = mx.gpu(args.gpu) if args.gpu is not None else mx.cpu()
    kv = mx.kv.create(args.kv_store) if args.kv_store else None
    workers, chief = (kv.num_workers, kv.rank == 0) if kv else (1, True)
    if args.batch_size % workers:
        raise mx.MXError("--batch-size %d does not split evenly over %d workers"
                         % (args.batch_size, workers))
    batch = args.batch_size // workers  # this worker's share of each batch
    train_iter = mx.io.MNISTIter(image=os.path.join(args.data, "train-images-idx3-ubyte"),
                                 label=os.path.join(args.data, "train-labels-idx1-ubyte"),
                                 batch_size=batch, shuffle=True, flat=True, seed=args.seed,
                                 num_parts=workers, part_index=kv.rank if kv else 0)
    test_iter = mx.io.MNISTIter(image=os.path.join(args.data, "t10k-images-idx3-ubyte"),
                                label=os.path.join(args.data, "t10k-labels-idx1-ubyte"),
                                batch_size=batch, shuffle=False, flat=True)
    net = mlp()
    if chief:
        print("libmx %s (Python): MNIST MLP on %s, %d epochs, batch %d, lr %g (hand-written loop%s)"
              % (mx.__version__, ctx, args.epochs, args.batch_size, args.lr,
                 ", kvstore %s, %d worker(s)" % (args.kv_store, workers) if kv else ""))

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
    step = args.lr / args.batch_size
    if kv is not None:
        # A distributed store keeps rank 0's weights, which every worker starts from; a step
        # sums the gradients of every worker's share of the batch.
        kv.init(params, weights)
        kv.set_optimizer(mx.optimizer.SGD(learning_rate=args.lr,
                                          rescale_grad=1.0 / args.batch_size))
        kv.pull(params, weights)
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
            if kv is not None:
                kv.push(params, grads)
                kv.pull(params, weights)
            else:
                for w, g in zip(weights, grads):
                    w -= g * step
            metric.update([label], executor.outputs)
            nbatch += 1
        mx.nd.waitall()
        secs = time.time() - tic
        speeds.append(nbatch * args.batch_size / secs)
        if not chief:
            continue  # (every worker holds the same weights)
        train_acc = metric.get()[1]
        val_acc = evaluate(evaluator, test_iter, metric)
        print("Epoch[%d] Train-accuracy=%.4f Validation-accuracy=%.4f Time=%.2f s (%.0f "
              "samples/s)" % (epoch, train_acc, val_acc, secs, speeds[-1]))
        sys.stdout.flush()
    if chief:
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
