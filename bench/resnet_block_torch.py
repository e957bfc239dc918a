#!/usr/bin/python3
"""The peer of bench/resnet_block: the same two ResNet basic blocks in PyTorch's eager modules.

Run with /usr/bin/python3 (Debian's python3-torch). bench/resnet_block starts it in
bench::PeerEnv()'s environment, once per thread count, and keeps the faster figure per case.
Prints one line per case, seconds per step:

    torch n,c,hw: train infer

Usage: resnet_block_torch.py --threads N  "n,c,hw" ...
"""
import sys

from peer_timing import best_seconds, peer_args

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("torch: python3-torch is not installed (apt-get install python3-torch)")
    raise SystemExit(3)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
                               nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(x + self.b(self.a(x)))



def main():
    for key, (n, c, hw) in peer_args(torch):
        net = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                            Block(c), Block(c), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                            nn.Linear(c, 10))
        x = torch.rand(n, 3, hw, hw)
        label = torch.randint(0, 10, (n,))
        loss_fn = nn.CrossEntropyLoss()

        def train():
            net.zero_grad(set_to_none=True)
            loss_fn(net(x), label).backward()

        net.train()
        t_train = best_seconds(train)
        net.eval()
        with torch.no_grad():
            t_infer = best_seconds(lambda: net(x))
        print(f"torch {key}: {t_train:.6f} {t_infer:.6f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
