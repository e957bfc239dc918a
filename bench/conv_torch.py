#!/usr/bin/python3
"""The peer of bench/conv: torch.nn.functional.conv2d forward and backward on the same shapes.

Run with /usr/bin/python3 (Debian's python3-torch). bench/conv starts it in
bench::PeerEnv()'s environment, once per thread count, and keeps the faster figure per shape. Prints one
line per shape:

    torch n c h w f k s p: fwd GFLOP/s bwd GFLOP/s

Usage: conv_torch.py --threads N  "n,c,h,w,f,k,s,p" ...
"""
import sys

from peer_timing import best_seconds, peer_args

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("torch: python3-torch is not installed (apt-get install python3-torch)")
    raise SystemExit(3)



def main():
    for s, (n, c, h, w, f, k, st, p) in peer_args(torch):
        x = torch.rand(n, c, h, w, requires_grad=True)
        wt = torch.rand(f, c, k, k, requires_grad=True)
        b = torch.rand(f, requires_grad=True)
        y = F.conv2d(x, wt, b, stride=st, padding=p)
        oh, ow = y.shape[2], y.shape[3]
        flop = 2.0 * n * f * oh * ow * c * k * k
        with torch.no_grad():
            t_fwd = best_seconds(lambda: F.conv2d(x, wt, b, stride=st, padding=p))
        g = torch.ones_like(y)

        # The backward pass alone, on a kept graph (timing forward + backward and subtracting the
        # forward went negative under noise on the large shapes).
        def backward():
            torch.autograd.grad(y, (x, wt, b), g, retain_graph=True)

        t_bwd = best_seconds(backward)
        print(f"torch {s}: {flop / t_fwd * 1e-9:.1f} {2 * flop / t_bwd * 1e-9:.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
