"""Operator descriptions from the C ABI's op list, and the rules that turn a Python call into an
operator call (inputs, string parameters).

``mx.nd`` and ``mx.sym`` generate one function per registered operator from these
descriptions (``mx_op_list`` + ``mx_op_get_info``), so an operator added to the library appears
in Python without a line of binding code. Parameter values are sent as strings and parsed,
checked and documented by the library; the binding only formats Python values.
"""
import ctypes

import numpy as np

from . import _capi
from .base import MXError, check_call, lib, py_str, py_str_list

__all__ = ["OpDef", "list_ops", "get_op", "param_str", "split_call", "generate"]


class OpDef:
    """What the library says about one operator (mx_op_info_t, copied into Python)."""

    def __init__(self, name):
        info = _capi.OpInfo()
        info.struct_size = ctypes.sizeof(_capi.OpInfo)
        check_call(lib.mx_op_get_info(name.encode(), ctypes.byref(info)))
        self.name = py_str(info.name)
        self.doc = py_str(info.doc)
        n = info.num_params
        self.param_names = py_str_list(info.param_names, n)
        self.param_types = py_str_list(info.param_types, n)
        self.param_defaults = py_str_list(info.param_defaults, n)
        self.param_docs = py_str_list(info.param_docs, n)
        self.inputs = py_str_list(info.input_names, max(info.num_inputs, 0))
        self.variadic = py_str(info.variadic_param)
        self.num_outputs = info.num_outputs
        self.hidden = bool(info.hidden)
        self.gpu = bool(info.gpu)  # has GPU kernels (used by CUDA builds)
        # A parameter documented as "... or None" takes the string "None"; for any other, a
        # Python None means "leave it at the library's default".
        self._none_ok = {p for p, t in zip(self.param_names, self.param_types) if "or None" in t}

    def docstring(self):
        lines = [self.doc or self.name, ""]
        if self.inputs:
            if self.variadic:
                lines.append("Inputs: any number of arrays (%s is set from their count)."
                             % self.variadic)
            else:
                lines.append("Inputs: " + ", ".join(self.inputs))
        if self.param_names:
            lines += ["", "Parameters", "----------"]
            for p, t, d in zip(self.param_names, self.param_types, self.param_docs):
                lines.append("%s : %s" % (p, t))
                if d:
                    lines.append("    " + d)
        return "\n".join(lines)


_op_cache = {}


def list_ops():
    """Every registered operator's name, sorted (hidden ones included)."""
    n = ctypes.c_int32()
    names = ctypes.POINTER(ctypes.c_char_p)()
    check_call(lib.mx_op_list(ctypes.byref(n), ctypes.byref(names)))
    return py_str_list(names, n.value)


def get_op(name):
    """The OpDef of operator `name` (an unknown name is the library's MXError)."""
    op = _op_cache.get(name)
    if op is None:
        op = _op_cache[name] = OpDef(name)
    return op


def param_str(value):
    """A Python value in the string form the library's parameter parser reads."""
    # The common exact types first (the isinstance chain below costs ~1 us for an int); each
    # gives what the chain would.
    t = type(value)
    if t is str:
        return value
    if t is int:
        return str(value)
    if t is float:
        return repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        inner = ",".join(param_str(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (np.floating,)):
        return repr(float(value))
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def split_call(op, args, kwargs, is_input, special=()):
    """Sorts one Python call of `op` into inputs and string parameters.

    Positional values for which `is_input` holds are inputs; later positional values fill the
    parameters in their documented order. Keyword inputs are returned by name, keyword values
    in `special` (name, attr, out, ...) separately, everything else becomes a parameter. A
    variadic operator's count parameter (Concat's num_args) is set from the number of inputs.
    Returns (positional_inputs, named_inputs, params, specials).
    """
    inputs, named, params, extra = [], {}, {}, {}
    i = 0
    while i < len(args) and is_input(args[i]):
        inputs.append(args[i])
        i += 1
    rest = args[i:]
    if rest:  # positional parameters: matched to the ones not given by keyword
        free_params = [p for p in op.param_names if p != op.variadic and p not in kwargs]
        if len(rest) > len(free_params):
            raise MXError("%s: %d positional values given after the inputs, but it takes only "
                          "%d parameters (%s)" % (op.name, len(rest), len(free_params),
                                                  ", ".join(free_params)))
        kwargs = dict(kwargs)
        for value, pname in zip(rest, free_params):
            if is_input(value):
                raise MXError("%s: input given after the parameters" % op.name)
            kwargs[pname] = value
    for key, value in kwargs.items():
        if key in special:
            extra[key] = value
        elif is_input(value):
            named[key] = value
        elif value is None and key not in op._none_ok:
            continue
        else:
            params[key] = param_str(value)
    if op.variadic and op.variadic not in params:
        params[op.variadic] = str(len(inputs) + len(named))
    return inputs, named, params, extra


def generate(op_names, make_function, public, internal):
    """Creates make_function(OpDef) for every op; names starting with '_' go to `internal`
    only, the others to both dicts (existing entries are kept: hand-written wrappers win)."""
    for name in op_names:
        if name.startswith("_backward"):
            continue
        op = get_op(name)
        fn = make_function(op)
        fn.__name__ = name
        fn.__qualname__ = name
        fn.__doc__ = op.docstring()
        internal.setdefault(name, fn)
        if not name.startswith("_") and not op.hidden:
            public.setdefault(name, fn)
