"""The package as a whole: where it finds libmx.so, that a bad MX_LIBRARY_PATH is a clear error,
its version agrees with the library's and pyproject.toml's, and the module layout."""
import os
import re
import subprocess
import sys

import pytest

import mx
from conftest import ROOT

PYTHON_DIR = os.path.join(ROOT, "python")


def run_python(code, env_changes):
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["PYTHONPATH"] = PYTHON_DIR
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, cwd="/")


def test_versions_agree():
    pyproject = open(os.path.join(PYTHON_DIR, "pyproject.toml")).read()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == mx.__version__
    cmake = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    assert re.search(r"project\(mx VERSION ([\d.]+)", cmake).group(1) == mx.__version__


def test_library_search_order():
    paths = mx.base.find_lib_path()
    here = os.path.dirname(os.path.abspath(mx.__file__))
    assert paths[-2:] == [os.path.join(here, "libmx.so"),
                          os.path.join(ROOT, "build", "libmx.so")]


def test_bad_library_path_is_a_clear_error():
    result = run_python("import mx", {"MX_LIBRARY_PATH": "/nonexistent/libmx.so"})
    assert result.returncode != 0
    assert "MXError" in result.stderr and "/nonexistent/libmx.so" in result.stderr


def test_library_path_may_be_a_directory():
    lib = os.path.realpath(mx.base.lib._name)
    result = run_python("import mx; print(mx.base.lib._name); print(mx.nd.ones(2).asnumpy())",
                        {"MX_LIBRARY_PATH": os.path.dirname(lib)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == os.path.join(os.path.dirname(lib), "libmx.so")


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "build", "libmx.so")),
                    reason="no build/libmx.so in this checkout")
def test_the_checkouts_build_is_found_without_configuration():
    result = run_python("import mx; print(mx.base.lib._name)", {"MX_LIBRARY_PATH": None})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == os.path.join(ROOT, "build", "libmx.so")


def test_modules_of_the_api():
    for name in ("nd", "ndarray", "sym", "symbol", "executor", "io", "init", "initializer",
                 "optimizer", "lr_scheduler", "metric", "callback", "kv", "kvstore", "model",
                 "random", "rnd", "viz"):
        assert hasattr(mx, name), name
    assert mx.nd is mx.ndarray and mx.sym is mx.symbol and mx.kv is mx.kvstore
    assert mx.init is mx.initializer and mx.rnd is mx.random
    assert mx.FeedForward is mx.model.FeedForward
