#!/usr/bin/python3
"""The peer of bench/mnist_lenet: LeNet with the same recipe in PyTorch.

conv 5x5x20 -> tanh -> max-pool 2 -> conv 5x5x50 -> tanh -> max-pool 2 -> FC 500 -> tanh ->
FC 10, Xavier-uniform weights and zero biases (libmx's default initializer), SGD lr 0.1 with
momentum 0.9, batch 128, shuffled whole batches. Run with /usr/bin/python3; bench/mnist_lenet
starts it in bench::PeerEnv()'s environment once per thread count. Prints

    torch lenet threads=1: 3400 samples/s test_accuracy=0.9800

Usage: mnist_lenet_torch.py --data DIR --epochs 10 --batch 128 --lr 0.1 --threads N --seed S
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


def lenet():
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5), nn.Tanh(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 500), nn.Tanh(), nn.Linear(500, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train", flat=False)
    xte, yte = load(a.data, "t10k", flat=False)
    net = lenet()
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = (len(xtr) // a.batch) * a.batch
    gen = torch.Generator().manual_seed(a.seed)
    seconds = 0.0
    for _ in range(a.epochs):
        perm = torch.randperm(len(xtr), generator=gen)
        t0 = time.perf_counter()
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
        seconds += time.perf_counter() - t0
    with torch.no_grad():
        acc = (net(xte).argmax(1) == yte).float().mean().item()
    print(f"torch lenet threads={a.threads}: {a.epochs * n / seconds:.0f} samples/s "
          f"test_accuracy={acc:.4f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
