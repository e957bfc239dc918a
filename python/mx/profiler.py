"""The engine's profiler, as MXNet users know it (``mx.profiler``).

    mx.profiler.set_state('run')
    ... train a few batches ...
    mx.nd.waitall()                  # ops still running are recorded when they finish
    mx.profiler.set_state('stop')
    mx.profiler.dump('profile.json')  # Chrome trace: open in https://ui.perfetto.dev
    print(mx.profiler.dumps())        # the table of ops by total run time

Every op the engine runs is recorded with its name, device, worker thread, queue wait and run
time. Off by default (and then free). ``set_state`` and ``dump`` may be called from any thread.
"""
import ctypes
import os
import tempfile

from . import _capi
from .base import MXError, c_str, check_call, lib

__all__ = ["set_config", "set_state", "dump", "dumps"]

_STATES = {"stop": _capi.MX_PROFILER_STOP, "run": _capi.MX_PROFILER_RUN}
_FORMATS = {None: _capi.MX_PROFILER_FORMAT_AUTO, "auto": _capi.MX_PROFILER_FORMAT_AUTO,
            "json": _capi.MX_PROFILER_FORMAT_CHROME_TRACE,
            "chrome": _capi.MX_PROFILER_FORMAT_CHROME_TRACE,
            "table": _capi.MX_PROFILER_FORMAT_TABLE, "txt": _capi.MX_PROFILER_FORMAT_TABLE}
_config = {"filename": "profile.json"}


def _path(path):
    """A str or bytes path as given, or an MXError naming what it is instead. (A NUL would cut the
    C string short, and the file written would not be the one named.)"""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise MXError("profiler: a path must be a str, bytes or os.PathLike, got %r" % (path,))
    path = os.fspath(path)
    if (b"\0" if isinstance(path, bytes) else "\0") in path:
        raise MXError("profiler: the path %r contains a NUL character" % (path,))
    return path


def set_config(filename="profile.json"):
    """Sets the file ``dump()`` writes when given no path (MXNet's default: profile.json)."""
    filename = _path(filename)
    if not filename:
        raise MXError("profiler.set_config: filename must be a non-empty path")
    _config["filename"] = filename


def set_state(state="stop"):
    """Starts ('run') or stops ('stop') recording. An op is recorded if it was pushed while
    recording; stopping keeps what was recorded."""
    if not isinstance(state, str) or state not in _STATES:
        raise MXError("profiler.set_state: unknown state %r: expected 'run' or 'stop'" % (state,))
    check_call(lib.mx_profiler_set_state(_STATES[state]))


def dump(path=None, format=None, reset=False):
    """Writes every op recorded so far to ``path`` (default: ``set_config``'s filename).

    ``format``: None (by the extension: ``.json`` Chrome trace, ``.txt`` table), ``'json'`` or
    ``'table'``. ``reset``: discard what was written once the file is. Raises MXError (code
    ``'failed'``) when nothing was recorded, and writes no file then."""
    if not (format is None or isinstance(format, str)) or format not in _FORMATS:
        raise MXError("profiler.dump: unknown format %r: expected None, 'json' or 'table'"
                      % (format,))
    path = _config["filename"] if path is None else _path(path)
    opts = _capi.ProfilerDumpOptions()
    check_call(lib.mx_profiler_dump_options_default(ctypes.byref(opts)))
    opts.format = _FORMATS[format]
    opts.reset = 1 if reset else 0
    check_call(lib.mx_profiler_dump(c_str(path), ctypes.byref(opts)))


def dumps(reset=False):
    """The table of ops by total run time (what ``dump`` writes to a ``.txt`` file), as a
    string. Raises MXError as ``dump`` does when nothing was recorded."""
    fd, path = tempfile.mkstemp(prefix="mx_profile_", suffix=".txt")
    os.close(fd)
    try:
        dump(path, "table", reset)
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    finally:
        os.unlink(path)
