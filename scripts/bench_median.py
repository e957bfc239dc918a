#!/usr/bin/python3
"""Runs a benchmark command several times and prints each figure as `median (min-max)`.

Usage: bench_median.py [--reps N] [--] COMMAND [ARG ...]

One run of a throughput benchmark on a shared machine can be off by 2x; the median of several
cannot be moved by one noisy run, and the spread says how far to trust it. The command runs N
times (default: $MX_BENCH_REPS, else 5); its standard error passes through, its standard output
is collected. Every run must print the same lines with the numbers masked (runs of spaces count
as one, so printf's padding may differ); the script then prints the first run's lines with each
number that varied replaced by `median (min-max)` (`median (min to max)` when signed), kept at the most decimals any run printed it
with. Numbers equal in every run (sizes, thread counts, budgets) print unchanged.

Exit status: 0; the command's own status if a run fails; 2 if the runs' lines do not match up
(a line that only some runs print, or words that change between runs: the bench must print the
same text each time), after printing every run's output so nothing measured is lost.
Standard library only: it runs under Debian's /usr/bin/python3, without a virtual environment.
"""
import os
import re
import statistics
import subprocess
import sys

# A number is digits with an optional fraction, exponent and sign, not inside a word ("float32"
# and "x86" stay text) but maybe before a unit ("1.35x", "16M"); a '-' right after a digit or
# letter is a dash ("784-128", "x86-64"), not a sign.
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def fields(line):
    """The line's numbers (as matches) and its shape: the text with each number masked and runs
    of spaces collapsed."""
    nums = list(NUMBER.finditer(line))
    shape = re.sub(r"\s+", " ", NUMBER.sub("#", line)).strip()
    return nums, shape


def decimals(text):
    """Digits after the point as printed (exponent form keeps its text's digit count)."""
    mantissa = re.split(r"[eE]", text)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def fmt(value, places, signed):
    s = f"{value:.{places}f}"
    if signed and value >= 0:
        s = "+" + s
    return s


def summarize(texts):
    """One number's texts across the runs -> what to print in its place."""
    if all(t == texts[0] for t in texts):
        return texts[0]
    values = [float(t) for t in texts]
    places = max(decimals(t) for t in texts)
    signed = any(t.startswith("+") for t in texts)
    med = statistics.median(values)
    lo, hi = fmt(min(values), places, signed), fmt(max(values), places, signed)
    # "1.0-5.0" reads as a range only while neither end carries a sign.
    sep = " to " if signed or lo.startswith("-") else "-"
    return f"{fmt(med, places, signed)} ({lo}{sep}{hi})"


def merge(outputs):
    """The runs' stdout texts -> the merged text; raises ValueError naming the first mismatch."""
    runs = [out.splitlines() for out in outputs]
    for r, lines in enumerate(runs[1:], start=2):
        if len(lines) != len(runs[0]):
            raise ValueError(f"run 1 printed {len(runs[0])} lines, run {r} printed {len(lines)}")
    merged = []
    for i, first in enumerate(runs[0]):
        nums0, shape0 = fields(first)
        per_run = [nums0]
        for r, lines in enumerate(runs[1:], start=2):
            nums, shape = fields(lines[i])
            if shape != shape0:
                raise ValueError(f"line {i + 1} differs beyond its numbers:\n  run 1: {first}\n"
                                 f"  run {r}: {lines[i]}")
            per_run.append(nums)
        out, pos = [], 0
        for k, m in enumerate(nums0):
            out.append(first[pos:m.start()])
            out.append(summarize([nums[k].group(0) for nums in per_run]))
            pos = m.end()
        out.append(first[pos:])
        merged.append("".join(out))
    return "\n".join(merged) + ("\n" if merged else "")


def main(argv):
    args = argv[1:]
    reps = int(os.environ.get("MX_BENCH_REPS", "5"))
    if args[:1] == ["--reps"] and len(args) >= 2:
        reps, args = int(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or reps < 1:
        sys.stderr.write("usage: bench_median.py [--reps N>=1] [--] COMMAND [ARG ...]\n")
        return 2
    outputs = []
    for r in range(reps):
        proc = subprocess.run(args, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            sys.stderr.write(f"bench_median: run {r + 1} of {' '.join(args)} exited with status "
                             f"{proc.returncode}\n")
            return proc.returncode if proc.returncode > 0 else 1
        outputs.append(proc.stdout)
    try:
        merged = merge(outputs)
    except ValueError as e:
        for r, out in enumerate(outputs, start=1):
            sys.stdout.write(f"--- run {r} of {reps} ---\n{out}")
        sys.stderr.write(f"bench_median: the runs of {' '.join(args)} do not match up: {e}\n")
        return 2
    sys.stdout.write(f"(each varying figure: median (min-max) of {reps} runs)\n" if reps > 1 else "")
    sys.stdout.write(merged)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
