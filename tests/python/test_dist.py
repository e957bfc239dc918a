"""dist_sync across processes: FeedForward in 2 and 3 workers started by mpirun (each on its part
of the data, tests/python/dist_worker.py) ends with the same parameters on every worker, equal
to one process trained on the combined batches. Skipped without mpirun or without MPI in libmx."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import dist_worker
import mx

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
          "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo",
          "--mca", "oob_tcp_if_include", "lo"]


def _libmx_has_mpi():
    try:
        mx.kv.create("dist_sync")
    except mx.MXError as e:
        assert "without MPI" in str(e)
        return False
    return True


pytestmark = pytest.mark.skipif(shutil.which("mpirun") is None or not _libmx_has_mpi(),
                                reason="needs mpirun and a libmx built with MPI")


def combined(workers):
    """The data in the order one process must see it: step i's batch is every worker's i-th
    batch, worker by worker."""
    x, y = dist_worker.data()
    part, b = dist_worker.SAMPLES // workers, dist_worker.BATCH
    rows = [w * part + i * b + k for i in range(part // b) for w in range(workers)
            for k in range(b)]
    return x[rows], y[rows]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_train_as_one_process_on_the_combined_batch(tmp_path, workers):
    env = dict(os.environ, MX_KVSTORE_TIMEOUT="60")
    run = subprocess.run(MPIRUN + ["-np", str(workers), sys.executable, dist_worker.__file__,
                                   str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240, env=env)
    assert run.returncode == 0, run.stdout.decode(errors="replace")[-4000:]
    ranks = [dict(np.load(tmp_path / ("rank%d.npz" % r))) for r in range(workers)]
    x, y = combined(workers)
    one = dist_worker.train(x, y, dist_worker.BATCH * workers, "local")
    assert sorted(one) == sorted(ranks[0]) == ["fc1_bias", "fc1_weight", "fc2_bias", "fc2_weight"]
    for name in one:
        for r in range(1, workers):
            np.testing.assert_array_equal(ranks[r][name], ranks[0][name], err_msg=name)
        np.testing.assert_allclose(ranks[0][name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)
