#!/usr/bin/python3
"""The cost of one small op called from Python: libmx's binding (`mx`) against PyTorch eager, in
one process and one run, taking turns. Budget: mx / torch <= 1.0 on every row.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 bench/op_latency_py.py`.
Without torch it still times mx and prints that the peer is missing. The figures are ns per op,
the median of the rounds (each round times every case once for mx, the raw C calls and torch, in
turn), so load that comes and goes shifts both sides alike.

Rows (mx | torch):
  add       `a + b` on 16 floats, a new result each time | `a + b`
  add_out   mx.nd.elemwise_add(a, b, out=c)              | torch.add(a, b, out=c)
  dot       mx.nd.dot(x, y), 16x16                       | torch.mm(x, y)
  slice     a[2:5] (a view)                              | a[2:5] (a view)
  asnumpy   s.asnumpy(), s of 1 element                  | s.numpy()
  asscalar  s.asscalar()                                 | s.item()
`asnumpy` waits for s's pending writes and copies its values into a new numpy array; torch's
`.numpy()` hands back a numpy array sharing the tensor's memory (torch has nothing pending to
wait for). Both give the caller a numpy array of the values; torch's is the cheaper contract, so
the row is the stricter comparison. `asscalar` / `.item()` give a Python-level scalar.

mx's lazy ops are timed up to their completion (the loop ends with mx.nd.waitall()).

The `raw` column is the same C ABI calls made through ctypes with every argument built once
beforehand and no argtypes (nothing converted per call): the floor of a pure-ctypes binding.
With the binding's C fast path (mx._fast, the default where it is built) mx is below it (mx - raw
negative): the C module skips ctypes' own per-call cost. With MX_PY_FAST=0 (the pure-ctypes
binding) mx - raw is the binding's Python-side share. bench/op_latency times the C side alone.

The budget is checked with libmx's default (threaded) engine. The run repeats itself in a child
process with MX_ENGINE_TYPE=naive (ops run inline on the calling thread) for reference only.
Options: --rounds R, --seconds S (per timed loop, roughly), --no-naive.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import numpy as np  # noqa: E402

import mx  # noqa: E402
from mx import _capi  # noqa: E402
from mx.base import lib  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

BUDGET = 1.0


def timed(fn, n, sync=None):
    """ns per call of fn() over n calls (plus one sync() at the end, included)."""
    t0 = time.perf_counter_ns()
    fn(n)
    if sync is not None:
        sync()
    return (time.perf_counter_ns() - t0) / n


# ---- the cases: each a loop of n calls, so the loop itself costs the same on every side ------


def mx_cases():
    a = mx.nd.ones(16)
    b = mx.nd.ones(16)
    c = mx.nd.empty(16)
    x = mx.nd.ones((16, 16))
    y = mx.nd.ones((16, 16))
    s = mx.nd.ones(1)
    dot = mx.nd.dot
    add_into = mx.nd.elemwise_add

    def add(n):
        for _ in range(n):
            a + b

    def add_out(n):
        for _ in range(n):
            add_into(a, b, out=c)

    def mm(n):
        for _ in range(n):
            dot(x, y)

    def sl(n):
        for _ in range(n):
            a[2:5]

    def asnumpy(n):
        for _ in range(n):
            s.asnumpy()

    def asscalar(n):
        for _ in range(n):
            s.asscalar()

    return {"add": add, "add_out": add_out, "dot": mm, "slice": sl, "asnumpy": asnumpy,
            "asscalar": asscalar}


def raw_cases():
    """The C calls each mx case makes, through ctypes, with all arguments prebuilt."""
    H = _capi.NDArrayHandle
    a, b, c = mx.nd.ones(16), mx.nd.ones(16), mx.nd.empty(16)
    x, y = mx.nd.ones((16, 16)), mx.nd.ones((16, 16))
    s = mx.nd.ones(1)
    # Function objects without argtypes (nothing converted per call), exactly typed arguments.
    fns = {}
    for name in ("mx_op_invoke", "mx_op_invoke_into", "mx_ndarray_free", "mx_ndarray_slice",
                 "mx_ndarray_copy_to_host"):
        fns[name] = lib[name]
        fns[name].restype = ctypes.c_int32
    invoke, invoke_into = fns["mx_op_invoke"], fns["mx_op_invoke_into"]
    free, slice_, copy = fns["mx_ndarray_free"], fns["mx_ndarray_slice"], fns[
        "mx_ndarray_copy_to_host"]
    ab = (H * 2)(a.handle, b.handle)
    xy = (H * 2)(x.handle, y.handle)
    outs = (H * 1)(c.handle)
    n_out = ctypes.c_int32()
    out_list = ctypes.POINTER(H)()
    ref_n, ref_list = ctypes.byref(n_out), ctypes.byref(out_list)
    view = H()
    ref_view = ctypes.byref(view)
    host = np.empty(1, np.float32)
    host_ptr = ctypes.c_void_p(host.ctypes.data)
    four = ctypes.c_size_t(4)
    two, five = ctypes.c_int64(2), ctypes.c_int64(5)

    def add(n):
        for _ in range(n):
            invoke(b"elemwise_add", 2, ab, 0, None, None, ref_n, ref_list)
            free(out_list[0])

    def add_out(n):
        for _ in range(n):
            invoke_into(b"elemwise_add", 2, ab, 0, None, None, 1, outs)

    def mm(n):
        for _ in range(n):
            invoke(b"dot", 2, xy, 0, None, None, ref_n, ref_list)
            free(out_list[0])

    def sl(n):
        for _ in range(n):
            slice_(a.handle, two, five, ref_view)
            free(view)

    def asnumpy(n):
        for _ in range(n):
            copy(s.handle, host_ptr, four)

    keep = (a, b, c, x, y, s, host)
    cases = {"add": add, "add_out": add_out, "dot": mm, "slice": sl, "asnumpy": asnumpy,
             "asscalar": asnumpy}
    return cases, keep


def torch_cases():
    a = torch.ones(16)
    b = torch.ones(16)
    c = torch.empty(16)
    x = torch.ones(16, 16)
    y = torch.ones(16, 16)
    s = torch.ones(1)
    add_into, mm_ = torch.add, torch.mm

    def add(n):
        for _ in range(n):
            a + b

    def add_out(n):
        for _ in range(n):
            add_into(a, b, out=c)

    def mm(n):
        for _ in range(n):
            mm_(x, y)

    def sl(n):
        for _ in range(n):
            a[2:5]

    def asnumpy(n):
        for _ in range(n):
            s.numpy()

    def asscalar(n):
        for _ in range(n):
            s.item()

    return {"add": add, "add_out": add_out, "dot": mm, "slice": sl, "asnumpy": asnumpy,
            "asscalar": asscalar}


def check_same_values():
    """The mx cases compute what the torch ones do (a bench of wrong results proves nothing)."""
    a, b = mx.nd.ones(16), mx.nd.ones(16)
    assert (a + b).asnumpy().tolist() == [2.0] * 16
    x = mx.nd.array(np.arange(256, dtype=np.float32).reshape(16, 16))
    ref = np.arange(256, dtype=np.float32).reshape(16, 16)
    np.testing.assert_allclose(mx.nd.dot(x, x).asnumpy(), ref @ ref, rtol=1e-5)
    assert mx.nd.array(np.arange(16))[2:5].asnumpy().tolist() == [2.0, 3.0, 4.0]
    assert mx.nd.ones(1).asscalar() == 1.0


def calibrate(fn, seconds):
    n = 64
    while True:
        t = timed(fn, n, mx.nd.waitall) * n / 1e9
        if t >= seconds / 4 or n >= 1 << 22:
            return max(64, int(n * seconds / max(t, 1e-9)))
        n *= 4


def run(rounds, seconds):
    mxc = mx_cases()
    rawc, keep = raw_cases()
    tc = torch_cases() if torch is not None else None
    names = list(mxc)
    iters = {k: calibrate(mxc[k], seconds) for k in names}
    res = {k: {"mx": [], "raw": [], "torch": []} for k in names}
    for _ in range(rounds):
        for k in names:
            n = iters[k]
            res[k]["mx"].append(timed(mxc[k], n, mx.nd.waitall))
            res[k]["raw"].append(timed(rawc[k], n, mx.nd.waitall))
            if tc is not None:
                res[k]["torch"].append(timed(tc[k], n))
    del keep
    return {k: {side: (statistics.median(v) if v else None) for side, v in r.items()}
            for k, r in res.items()}


def report(res, engine, budget_applies):
    print("engine %s%s" % (engine, "" if budget_applies else " (reference only, no budget)"))
    print("%-9s %10s %10s %10s %10s %8s" % ("op", "mx ns/op", "raw ns/op", "mx-raw", "torch",
                                            "mx/torch"))
    failed = []
    for k, r in res.items():
        t = r["torch"]
        ratio = "" if t is None else "%8.2f" % (r["mx"] / t)
        verdict = ""
        if t is not None and budget_applies:
            ok = r["mx"] / t <= BUDGET
            verdict = "  (budget <= %.1f: %s)" % (BUDGET, "met" if ok else "NOT met")
            if not ok:
                failed.append(k)
        print("%-9s %10.0f %10.0f %10.0f %10s %8s%s"
              % (k, r["mx"], r["raw"], r["mx"] - r["raw"],
                 "-" if t is None else "%.0f" % t, ratio, verdict))
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.05)
    ap.add_argument("--no-naive", action="store_true", help="skip the naive-engine reference")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if torch is None:
        print("PyTorch peer: missing (python3-torch is not installed, or this is not "
              "/usr/bin/python3); timing mx alone")
    else:
        torch.set_num_threads(1)
    check_same_values()
    engine = ctypes.c_char_p()
    lib.mx_engine_get_type(ctypes.byref(engine))
    engine = engine.value.decode()
    if not args.child:
        print("Python op latency: mx %s (%s) vs PyTorch %s, 1 torch thread, median of %d rounds"
              % (mx.__version__, sys.executable, torch.__version__ if torch else "missing",
                 args.rounds))
        print("binding: %s" % ("mx._fast (C fast path)" if mx.base.fast is not None else
                               "pure ctypes (mx._fast not built, or MX_PY_FAST=0)"))
    res = run(args.rounds, args.seconds)
    failed = report(res, engine, budget_applies=not args.child)
    if not args.child and not args.no_naive:
        sys.stdout.flush()
        env = dict(os.environ, MX_ENGINE_TYPE="naive")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--rounds",
                        str(args.rounds), "--seconds", str(args.seconds)], env=env, check=True)
    if failed and not args.child:
        print("budget not met: %s" % ", ".join(failed))


if __name__ == "__main__":
    main()
