#!/usr/bin/python3
"""The peer of bench/mnist_mlp: the same MLP, data, batch, learning rate and epochs in PyTorch.

Run with /usr/bin/python3 (Debian's python3-torch). Prints one line per run:

    torch hidden=128,  batch=128 threads=1: 123456 samples/s test_accuracy=0.9235

PyTorch at its best on this machine, not its default: bench/mnist_mlp starts this script in
bench::PeerEnv()'s environment (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_CORETYPE: see torch_peer.h)
once per thread count, and keeps the faster run.

Usage: mnist_mlp_torch.py --data DIR --hidden 128[,128] --batch 128 --epochs 10 --lr 0.1
       --threads N --seed S
"""
import argparse
import sys
import time

try:
    import torch
except ImportError:
    print("torch: python3-torch is not installed (apt-get install python3-torch)")
    raise SystemExit(3)

from mnist_data import load


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--hidden", default="128")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")

    hidden = [int(h) for h in a.hidden.split(",")]
    layers, width = [], xtr.shape[1]
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 10))
    net = torch.nn.Sequential(*layers)
    for m in net:  # the same initialisation as libmx's default: Xavier uniform, zero bias
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    n = (len(xtr) // a.batch) * a.batch  # whole batches, as libmx's iterator with discard
    gen = torch.Generator().manual_seed(a.seed)
    train_seconds = 0.0
    for _ in range(a.epochs):
        perm = torch.randperm(len(xtr), generator=gen)
        t0 = time.perf_counter()
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
        train_seconds += time.perf_counter() - t0
    with torch.no_grad():
        acc = (net(xte).argmax(1) == yte).float().mean().item()
    print(f"torch hidden={a.hidden} batch={a.batch} threads={a.threads}: "
          f"{a.epochs * n / train_seconds:.0f} samples/s test_accuracy={acc:.4f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
