"""Timing shared by the PyTorch peer scripts (bench/*_torch.py): the same method as bench_util.h's
TimePerIter, so both sides of a ratio are measured alike."""
import sys
import time


def peer_args(torch):
    """The command line bench::RunTorchPeerCases passes (`--threads N` and the cases, each a
    comma-separated list of integers): sets PyTorch's threads; returns each case as its text (the
    key the peer prints back) and its integers."""
    args = sys.argv[1:]
    torch.set_num_threads(int(args[args.index("--threads") + 1]))
    return [(a, [int(v) for v in a.split(",")]) for a in args if "," in a]


def best_seconds(fn, reps=5, min_time=0.1):
    """Seconds per call of fn: the best of `reps` runs of about `min_time` seconds each."""
    fn()  # warm up (allocations, algorithm choice)
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        t = time.perf_counter() - t0
        if t > min_time / 4:
            iters = max(1, int(iters * min_time / t))
            break
        iters *= 4
    best = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters)
    return best
