#!/usr/bin/python3
"""The peer of bench/op_latency: the same small ops in PyTorch eager mode (Debian's python3-torch).

Run with /usr/bin/python3 (bench/op_latency runs it); prints ns/op for torch.add(a, b, out=c) and
torch.mul(a, 2, out=c) on 16 floats and torch.mm(m, m, out=o) on 16x16, with 1 thread (the fastest
setting for tiny ops)."""
import time

try:
    import torch
except ImportError:
    print("PyTorch eager: python3-torch is not installed (apt-get install python3-torch)")
    raise SystemExit(0)

torch.set_num_threads(1)
a = torch.ones(16)
b = torch.ones(16)
c = torch.empty(16)
m = torch.ones(16, 16)
o = torch.empty(16, 16)
N = 200000
for _ in range(2):
    t0 = time.perf_counter()
    for _ in range(N):
        torch.add(a, b, out=c)
    add_ns = (time.perf_counter() - t0) / N * 1e9
    t0 = time.perf_counter()
    for _ in range(N):
        torch.mul(a, 2, out=c)
    mul_ns = (time.perf_counter() - t0) / N * 1e9
    t0 = time.perf_counter()
    for _ in range(N // 4):
        torch.mm(m, m, out=o)
    mm_ns = (time.perf_counter() - t0) / (N // 4) * 1e9
print(f"PyTorch eager add (16 floats, out=): {add_ns:7.0f} ns/op")
print(f"PyTorch eager mul (16 floats, out=): {mul_ns:7.0f} ns/op")
print(f"PyTorch eager mm (16x16, out=): {mm_ns:7.0f} ns/op")
