"""mx.profiler: recording NDArray work, the Chrome trace (parsed by json.load), the table, resets,
and bad inputs as MXError."""
import json

import numpy as np
import pytest

import mx


@pytest.fixture(autouse=True)
def clean_profiler(tmp_path):
    """Each test starts and ends with the process-wide profiler stopped and empty."""
    def drain():
        mx.nd.waitall()
        mx.profiler.set_state("stop")
        try:
            mx.profiler.dump(str(tmp_path / "drain.json"), reset=True)
        except mx.MXError as e:  # nothing recorded: already empty
            assert e.code == "failed", str(e)
    drain()
    yield
    drain()
    mx.profiler.set_config("profile.json")


def record_some_work():
    a = mx.nd.array(np.ones((16, 16), dtype=np.float32))
    b = mx.nd.dot(a, a)
    c = (b * 0.5).asnumpy()
    assert c[0, 0] == 8
    mx.nd.waitall()


def test_trace_loads_as_json_with_the_ops(tmp_path):
    mx.profiler.set_state("run")
    record_some_work()
    mx.profiler.set_state("stop")
    path = tmp_path / "trace.json"
    mx.profiler.dump(str(path))
    with open(path, encoding="utf-8") as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    ops = [e for e in events if e["ph"] == "X"]
    names = {e["name"] for e in ops}
    assert "dot" in names and "_mul_scalar" in names, names
    for e in ops:
        assert e["dur"] >= 0 and e["ts"] >= 0, e
        assert e["args"]["device"] == "cpu(0)"
        assert e["args"]["queue_wait_us"] >= 0
    lanes = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {(e["pid"], e["tid"]) for e in ops} <= lanes  # every lane that ran an op is named
    assert trace["otherData"]["ops"] == len(ops)


def test_table_and_reset(tmp_path):
    mx.profiler.set_state("run")
    record_some_work()
    mx.profiler.set_state("stop")
    table = mx.profiler.dumps()
    assert "dot" in table and "count" in table and "mean wait (us)" in table, table
    mx.profiler.dump(tmp_path / "table.txt", reset=True)  # an os.PathLike path
    assert "dot" in (tmp_path / "table.txt").read_text()
    with pytest.raises(mx.MXError) as info:
        mx.profiler.dump(str(tmp_path / "again.json"))
    assert info.value.code == "failed" and "nothing recorded" in str(info.value)
    assert not (tmp_path / "again.json").exists()


def test_config_names_the_default_file(tmp_path):
    mx.profiler.set_config(filename=str(tmp_path / "default.json"))
    mx.profiler.set_state("run")
    record_some_work()
    mx.profiler.set_state("stop")
    mx.profiler.dump()
    with open(tmp_path / "default.json", encoding="utf-8") as f:
        assert any(e["name"] == "dot" for e in json.load(f)["traceEvents"])
    mx.profiler.dump(str(tmp_path / "trace.out"), format="json")
    with open(tmp_path / "trace.out", encoding="utf-8") as f:
        assert json.load(f)["traceEvents"]


def test_off_records_nothing(tmp_path):
    record_some_work()
    with pytest.raises(mx.MXError, match="nothing recorded"):
        mx.profiler.dump(str(tmp_path / "p.json"))


@pytest.mark.parametrize("call, code, part", [
    (lambda d: mx.profiler.set_state("go"), None, "'go'"),
    (lambda d: mx.profiler.set_state(1), None, "1"),
    (lambda d: mx.profiler.set_state(["run"]), None, "['run']"),
    (lambda d: mx.profiler.dump(str(d / "p.json"), format="xml"), None, "'xml'"),
    (lambda d: mx.profiler.dump(str(d / "p.csv")), "invalid_argument", "p.csv"),
    (lambda d: mx.profiler.dump(""), "invalid_argument", "path is empty"),
    (lambda d: mx.profiler.dump(str(d / "no" / "p.json")), "io", "p.json"),
    (lambda d: mx.profiler.dump(str(d / "a\0b.json")), None, "NUL"),
    (lambda d: mx.profiler.dump(42), None, "42"),
    (lambda d: mx.profiler.set_config(filename=""), None, "non-empty"),
    (lambda d: mx.profiler.set_config(filename=None), None, "None"),
])
def test_bad_inputs_are_errors(tmp_path, call, code, part):
    mx.profiler.set_state("run")
    record_some_work()
    mx.profiler.set_state("stop")
    with pytest.raises(mx.MXError) as info:
        call(tmp_path)
    assert part in str(info.value), str(info.value)
    if code is not None:
        assert info.value.code == code, str(info.value)
    # Nothing was lost, and the library still computes.
    assert "dot" in mx.profiler.dumps()
    record_some_work()
