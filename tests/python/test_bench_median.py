"""scripts/bench_median.py: the median and spread of each figure over repeated bench runs."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "bench_median.py")

# A fake bench: run k (counted in a file) prints line templates filled with the k-th value of
# each list, so every run's figures are known.
FAKE = r'''
import os, sys
count_file = sys.argv[1]
k = int(open(count_file).read()) if os.path.exists(count_file) else 0
open(count_file, "w").write(str(k + 1))
exec(open(sys.argv[2]).read())
'''


def run_fake(tmp_path, body, reps=None, env_reps=None):
    fake = tmp_path / "fake_bench.py"
    fake.write_text(FAKE)
    (tmp_path / "body.py").write_text(body)
    env = dict(os.environ)
    env.pop("MX_BENCH_REPS", None)
    if env_reps is not None:
        env["MX_BENCH_REPS"] = str(env_reps)
    cmd = [sys.executable, SCRIPT]
    if reps is not None:
        cmd += ["--reps", str(reps)]
    cmd += ["--", sys.executable, str(fake), str(tmp_path / "count"), str(tmp_path / "body.py")]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    runs = int((tmp_path / "count").read_text()) if (tmp_path / "count").exists() else 0
    return proc, runs


def test_median_and_spread_of_each_figure(tmp_path):
    body = '''
gbs = [3.0, 1.0, 5.0, 2.0, 4.0][k]
ratio = [0.91, 0.95, 0.90, 0.99, 0.93][k]
ns = [120, 95, 101, 130, 99][k]
print("elemwise_add, 16777216 floats, 2 threads: %5.1f GB/s, ratio %.2f (budget >= 0.9)"
      % (gbs, ratio))
print("x86-64 float32 784-128-64-10: %7.0f ns/op" % ns)
print("accuracy %+.2f points, delta %.1f" % ([0.5, -0.25, 0.0, 0.75, 0.25][k], -1.5 - k))
'''
    proc, runs = run_fake(tmp_path, body)
    assert proc.returncode == 0, proc.stderr
    assert runs == 5
    assert proc.stdout.splitlines() == [
        "(each varying figure: median (min-max) of 5 runs)",
        "elemwise_add, 16777216 floats, 2 threads:   3.0 (1.0-5.0) GB/s, "
        "ratio 0.93 (0.90-0.99) (budget >= 0.9)",
        # printf padded "    120" and "     95" differently: one line, the first run's padding.
        "x86-64 float32 784-128-64-10:     101 (95-130) ns/op",
        "accuracy +0.25 (-0.25 to +0.75) points, delta -3.5 (-5.5 to -1.5)",
    ]


def test_reps_from_the_environment_and_the_flag(tmp_path):
    body = 'print("took %.1f ms" % [1.0, 3.0, 2.0, 9.0][k])\n'
    proc, runs = run_fake(tmp_path, body, env_reps=3)
    assert proc.returncode == 0, proc.stderr
    assert runs == 3
    assert proc.stdout.splitlines()[1] == "took 2.0 (1.0-3.0) ms"
    (tmp_path / "count").unlink()
    proc, runs = run_fake(tmp_path, body, reps=4, env_reps=3)
    assert runs == 4
    assert proc.stdout.splitlines()[1] == "took 2.5 (1.0-9.0) ms"


def test_words_that_change_between_runs_are_an_error(tmp_path):
    body = '''
print("figure %.1f" % k)
print("budget met" if k < 2 else "budget not met")
'''
    proc, runs = run_fake(tmp_path, body)
    assert proc.returncode == 2
    assert "do not match up: line 2 differs beyond its numbers" in proc.stderr
    assert "run 3: budget not met" in proc.stderr
    # Nothing measured is lost: every run's output is printed.
    assert proc.stdout.count("--- run ") == 5
    assert "figure 4.0" in proc.stdout


def test_a_line_printed_by_some_runs_only_is_an_error(tmp_path):
    body = '''
print("figure %.1f" % k)
if k == 1:
    print("warning: dropped 3 ops")
'''
    proc, _ = run_fake(tmp_path, body)
    assert proc.returncode == 2
    assert "run 1 printed 1 lines, run 2 printed 2" in proc.stderr


def test_a_failing_run_stops_with_its_status(tmp_path):
    body = '''
print("figure %d" % k)
if k == 2:
    sys.exit(7)
'''
    proc, runs = run_fake(tmp_path, body)
    assert proc.returncode == 7
    assert runs == 3
    assert "run 3 of" in proc.stderr and "exited with status 7" in proc.stderr


def test_bad_usage_is_an_error(tmp_path):
    proc = subprocess.run([sys.executable, SCRIPT, "--reps", "0", "true"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2
    assert "usage" in proc.stderr
