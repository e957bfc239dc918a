"""The binding's ctypes declarations (_capi.py) agree with include/mx/c_api.h: every function of
the header is declared with the same number and kinds of arguments and return type, and every
struct has the header's fields in the header's order. A change to the header that the binding
does not follow fails here, not as memory corruption at run time."""
import ctypes
import os
import re

import pytest

from conftest import ROOT
from mx import _capi

HEADERS = [os.path.join(ROOT, "include", "mx", h) for h in ("c_types.h", "c_api.h")]


def _source():
    text = "".join(open(h).read() for h in HEADERS)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def _functions():
    out = {}
    for m in re.finditer(r"MX_API\s+([^;(]*?)\s*\b(mx_\w+)\s*\((.*?)\);", _source(), flags=re.S):
        ret, name, params = m.group(1), m.group(2), " ".join(m.group(3).split())
        if params in ("void", ""):
            args = []
        else:
            # Split on commas outside parentheses (function-pointer parameters have their own).
            args, depth, cur = [], 0, ""
            for ch in params:
                depth += ch == "("
                depth -= ch == ")"
                if ch == "," and depth == 0:
                    args.append(cur.strip())
                    cur = ""
                else:
                    cur += ch
            args.append(cur.strip())
        out[name] = (" ".join(ret.split()), args)
    return out


def _kind_of_c(decl):
    """A C parameter or return type reduced to what ctypes must match."""
    decl = decl.strip()
    if "(" in decl or "*" in decl:
        return "pointer"
    base = decl.replace("const ", "").split()[0]
    if base.startswith("mx_") and base.endswith("_fn"):
        return "pointer"  # function pointer typedefs
    if base.startswith("mx_") and base.endswith("_t"):
        if base == "mx_status_t":
            return "int32"
        if base == "mx_context_t":
            return "context"
        return "pointer"  # handles are pointers to incomplete structs
    # size_t and uint64_t are the same ctypes type on LP64 platforms.
    size_t = "uint64" if ctypes.c_size_t is ctypes.c_uint64 else "size_t"
    return {"int32_t": "int32", "int64_t": "int64", "uint64_t": "uint64", "size_t": size_t,
            "double": "double", "void": "void"}[base]


def _kind_of_ctypes(t):
    if t is None:
        return "void"
    if t is _capi.Context:
        return "context"
    simple = {ctypes.c_int32: "int32", ctypes.c_int64: "int64", ctypes.c_size_t: "size_t",
              ctypes.c_uint64: "uint64", ctypes.c_double: "double"}
    if t in simple:
        return simple[t]
    if (issubclass(t, (ctypes.c_void_p, ctypes.c_char_p, ctypes._Pointer)) or
            issubclass(t, ctypes._CFuncPtr)):
        return "pointer"
    raise AssertionError("unexpected ctypes type %r" % t)


def test_every_header_function_is_declared_alike():
    functions = _functions()
    assert len(functions) > 100, "the header parser found too few functions"
    missing = sorted(set(functions) - set(_capi.PROTOTYPES))
    assert not missing, "declared in c_api.h but not in _capi.py: %s" % missing
    extra = sorted(set(_capi.PROTOTYPES) - set(functions))
    assert not extra, "in _capi.py but not in c_api.h: %s" % extra
    for name, (ret, args) in functions.items():
        restype, argtypes = _capi.PROTOTYPES[name]
        assert len(args) == len(argtypes), "%s: %d args in C, %d in ctypes" % (
            name, len(args), len(argtypes))
        ret_kind = "pointer" if "*" in ret else _kind_of_c(ret)
        res_kind = "pointer" if restype is ctypes.c_char_p else _kind_of_ctypes(restype)
        assert ret_kind == res_kind, "%s returns %s in C, %s in ctypes" % (name, ret, restype)
        for i, (c_arg, ct) in enumerate(zip(args, argtypes)):
            c_kind = _kind_of_c(c_arg.rsplit(" ", 1)[0] if not c_arg.endswith("*") else c_arg)
            assert c_kind == _kind_of_ctypes(ct), "%s arg %d (%s): ctypes %r" % (
                name, i, c_arg, ct)


def _structs():
    out = {}
    for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} (\w+);", _source(), flags=re.S):
        fields = []
        for decl in m.group(2).split(";"):
            decl = " ".join(decl.split())
            if decl:
                fields.append(re.findall(r"(\w+)\s*(?:\[\w*\])?$", decl)[0])
        out[m.group(3)] = fields
    return out


@pytest.mark.parametrize("name", sorted(_capi.STRUCTS))
def test_struct_fields_match_the_header(name):
    structs = _structs()
    assert name in structs, "%s is not a struct of the header" % name
    assert [f[0] for f in _capi.STRUCTS[name]._fields_] == structs[name]


def test_every_header_struct_is_mirrored():
    assert sorted(_structs()) == sorted(_capi.STRUCTS)


def test_library_reports_the_sizes_the_binding_uses():
    # The library rejects a struct_size smaller than its struct; a successful call with ours
    # shows the layouts agree in size at least as far as the library reads.
    from mx.base import check_call, lib
    info = _capi.OpInfo()
    info.struct_size = ctypes.sizeof(info)
    check_call(lib.mx_op_get_info(b"FullyConnected", ctypes.byref(info)))
    assert info.name == b"FullyConnected"
    assert info.num_inputs == 3
    opts = _capi.SimpleBindOptions()
    check_call(lib.mx_simple_bind_options_default(ctypes.byref(opts)))
    assert opts.struct_size == ctypes.sizeof(opts)
    assert opts.grad_req == _capi.MX_GRAD_WRITE
    bo = _capi.BindOptions()
    check_call(lib.mx_bind_options_default(ctypes.byref(bo)))
    assert bo.struct_size == ctypes.sizeof(bo) and bo.ctx.device_type == _capi.MX_CPU
