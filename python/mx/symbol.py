"""mx.sym: symbolic graphs — variables, operators composed into networks, and binding them.

A Symbol is stateless: it describes a computation. ``bind``/``simple_bind`` give an
:class:`mx.executor.Executor` that runs it on arrays. Every operator the library registers is a
function here (``mx.sym.FullyConnected(data=net, num_hidden=128, name='fc1')``), generated from
the C ABI's op list; inputs left out become variables named ``<name>_<input>``, and nodes
without a name are named by the library (``fullyconnected0``, ``_plusscalar0``).

    >>> a = mx.sym.Variable('A')
    >>> b = mx.sym.Variable('B')
    >>> c = (a + b) / 10 + 1
    >>> c.list_arguments()
    ['A', 'B']
    >>> c.infer_shape(A=(10,), B=(10,))[1]
    [(10,)]
"""
import builtins
import ctypes
import numbers
import sys
import types

import numpy as np

from . import _capi, _ops
from ._capi import SymbolHandle
from .base import MXError, c_array, c_handle_array, c_str, c_str_array, check_call, lib, py_str, \
    py_str_list
from .context import Context
from .ndarray import NDArray, as_shape, dtype_code, dtype_name, np_dtype

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "pow", "maximum",
           "minimum"]

_internal = types.ModuleType("mx.sym._internal",
                             "Every registered operator, hidden ones included.")
GRAD_REQ = {"null": _capi.MX_GRAD_NULL, "write": _capi.MX_GRAD_WRITE,
            "inplace": _capi.MX_GRAD_WRITE, "add": _capi.MX_GRAD_ADD}


def _grad_req_code(req, arg):
    if req not in GRAD_REQ:
        raise MXError("grad_req for '%s' is %r: expected 'null', 'write' or 'add'" % (arg, req))
    return GRAD_REQ[req]


def _list(fn, handle):
    n = ctypes.c_int32()
    names = ctypes.POINTER(ctypes.c_char_p)()
    check_call(fn(handle, ctypes.byref(n), ctypes.byref(names)))
    return py_str_list(names, n.value)


class Symbol:
    """A handle to a library symbol, released when the object goes (or by ``free()``)."""

    __slots__ = ("handle", "__weakref__")

    def __init__(self, handle):
        if handle is not None and not isinstance(handle, SymbolHandle):
            handle = SymbolHandle(handle)
        self.handle = handle

    def __del__(self, _free=lib.mx_symbol_free):
        handle = getattr(self, "handle", None)
        if handle is not None:
            _free(handle)

    def free(self):
        """Releases the handle now; later use is an MXError."""
        handle, self.handle = self.handle, None
        if handle is not None:
            check_call(lib.mx_symbol_free(handle))

    # ---- structure ----------------------------------------------------------------------------

    def _new(self, fn, *args):
        out = SymbolHandle()
        check_call(fn(self.handle, *args, ctypes.byref(out)))
        return Symbol(out)

    def __copy__(self):
        return self._new(lib.mx_symbol_copy)

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        other = load_json(state["json"])
        self.handle, other.handle = other.handle, None

    @property
    def name(self):
        """The node name of a single-output symbol; None for a group."""
        out = ctypes.c_char_p()
        check_call(lib.mx_symbol_get_name(self.handle, ctypes.byref(out)))
        return py_str(out.value) or None

    def __repr__(self):
        name = self.name
        if name is not None:
            return "<Symbol %s>" % name
        return "<Symbol group [%s]>" % ", ".join(self.list_outputs())

    def __len__(self):
        n = ctypes.c_int32()
        check_call(lib.mx_symbol_get_num_outputs(self.handle, ctypes.byref(n)))
        return n.value

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        """Output `index` (an int, or an output name such as 'fc1_output'), or a slice."""
        if isinstance(index, str):
            return self._new(lib.mx_symbol_get_output_by_name, c_str(index))
        if isinstance(index, slice):
            return Group([self[i] for i in range(*index.indices(len(self)))])
        if isinstance(index, numbers.Integral):
            n = len(self)
            return self._new(lib.mx_symbol_get_output, int(index) + (n if index < 0 else 0))
        raise MXError("Symbol index must be an int, a str or a slice, got %r" % (index,))

    def get_internals(self):
        """Every output of every node (variables included), as one symbol."""
        return self._new(lib.mx_symbol_get_internals)

    def get_children(self):
        """The inputs of this symbol's node, as one symbol (None for a variable)."""
        children = self._new(lib.mx_symbol_get_children)
        return children if len(children) else None

    def list_arguments(self):
        return _list(lib.mx_symbol_list_arguments, self.handle)

    def list_outputs(self):
        return _list(lib.mx_symbol_list_outputs, self.handle)

    def list_auxiliary_states(self):
        return _list(lib.mx_symbol_list_auxiliary_states, self.handle)

    def list_inputs(self):
        """Arguments, then auxiliary states."""
        return self.list_arguments() + self.list_auxiliary_states()

    # ---- attributes ---------------------------------------------------------------------------

    def attr(self, key):
        """Attribute `key` of this symbol's node (an operator parameter or user attribute), or
        None."""
        value = ctypes.c_char_p()
        found = ctypes.c_int32()
        check_call(lib.mx_symbol_get_attr(self.handle, c_str(key), ctypes.byref(value),
                                          ctypes.byref(found)))
        return py_str(value.value) if found.value else None

    def _attrs(self, recursive):
        n = ctypes.c_int32()
        keys = ctypes.POINTER(ctypes.c_char_p)()
        vals = ctypes.POINTER(ctypes.c_char_p)()
        check_call(lib.mx_symbol_list_attrs(self.handle, int(recursive), ctypes.byref(n),
                                            ctypes.byref(keys), ctypes.byref(vals)))
        return list(zip(py_str_list(keys, n.value), py_str_list(vals, n.value)))

    def list_attr(self):
        """This node's attributes as a dict."""
        return dict(self._attrs(False))

    def attr_dict(self):
        """Every node's attributes: {node name: {key: value}}."""
        result = {}
        for key, value in self._attrs(True):
            node, _, k = key.rpartition("$")
            result.setdefault(node, {})[k] = value
        return result

    def _set_attr(self, **kwargs):
        for key, value in kwargs.items():
            check_call(lib.mx_symbol_set_attr(self.handle, c_str(key), c_str(str(value))))

    # ---- composition --------------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        """A copy with variables replaced: ``net(data=other)`` or positionally."""
        s = self.__copy__()
        s._compose(*args, **kwargs)
        return s

    def _compose(self, *args, name=None, **kwargs):
        if args and kwargs:
            raise MXError("compose: give the inputs either by position or by name, not both")
        for v in list(args) + list(kwargs.values()):
            if not isinstance(v, Symbol):
                raise MXError("compose: inputs must be Symbols, got %s" % type(v).__name__)
        keys = c_str_array(list(kwargs)) if kwargs else None
        inputs = list(args) if args else list(kwargs.values())
        check_call(lib.mx_symbol_compose(self.handle, c_str(name), len(inputs), keys,
                                         c_handle_array(inputs, SymbolHandle)))

    # ---- inference ----------------------------------------------------------------------------

    def _known(self, args, kwargs, what):
        known = {}
        if args:
            names = self.list_arguments()
            if len(args) > len(names):
                raise MXError("%s: %d positional values for %d arguments" % (what, len(args),
                                                                             len(names)))
            known.update({n: v for n, v in zip(names, args) if v is not None})
        known.update({k: v for k, v in kwargs.items() if v is not None})
        return known

    def _infer_shape(self, args, kwargs, strict):
        known = self._known(args, kwargs, "infer_shape")
        names = list(known)
        shapes = [as_shape(known[n]) for n in names]
        dims = (ctypes.POINTER(ctypes.c_int64) * len(names))()
        keep = []
        for i, s in enumerate(shapes):
            arr = (ctypes.c_int64 * builtins.max(len(s), 1))(*s)
            keep.append(arr)
            dims[i] = ctypes.cast(arr, ctypes.POINTER(ctypes.c_int64))
        lists = [_capi.ShapeList() for _ in range(3)]
        complete = ctypes.c_int32()
        check_call(lib.mx_symbol_infer_shape(
            self.handle, len(names), c_str_array(names), c_array(ctypes.c_int32,
                                                                 [len(s) for s in shapes]),
            dims, *[ctypes.byref(x) for x in lists], None if strict else ctypes.byref(complete)))

        def convert(sl):
            out = []
            for i in range(sl.num):
                nd = sl.ndims[i]
                out.append(None if nd < 0 else tuple(sl.dims[i][j] for j in range(nd)))
            return out
        return [convert(x) for x in lists], strict or bool(complete.value)

    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) from some input shapes (by position in
        list_arguments order, or by name). Given shapes may be partial, as in MXNet: a 0 dim is
        unknown, and inference runs forward and backward through every op. An MXError names
        each argument whose shape stays unknown, or, for a conflict, the argument, the node and
        its input, and the given vs inferred shapes."""
        return tuple(self._infer_shape(args, kwargs, True)[0])

    def infer_shape_partial(self, *args, **kwargs):
        """As infer_shape, but returns what is known: an unknown shape is (), an unknown dim 0
        (MXNet's convention)."""
        result, _ = self._infer_shape(args, kwargs, False)
        return tuple([() if s is None else tuple(0 if d < 0 else d for d in s) for s in lst]
                     for lst in result)

    def _infer_type(self, args, kwargs, strict):
        known = self._known(args, kwargs, "infer_type")
        names = list(known)
        lists = [_capi.DTypeList() for _ in range(3)]
        complete = ctypes.c_int32()
        check_call(lib.mx_symbol_infer_type(
            self.handle, len(names), c_str_array(names),
            c_array(ctypes.c_int32, [dtype_code(known[n]) for n in names]),
            *[ctypes.byref(x) for x in lists], None if strict else ctypes.byref(complete)))
        result = [[None if x.dtypes[i] < 0 else np_dtype(x.dtypes[i]) for i in range(x.num)]
                  for x in lists]
        return result, strict or bool(complete.value)

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as numpy types from some input types; an MXError
        names each argument whose type stays unknown."""
        return tuple(self._infer_type(args, kwargs, True)[0])

    def infer_type_partial(self, *args, **kwargs):
        """As infer_type, with None for unknown types."""
        return tuple(self._infer_type(args, kwargs, False)[0])

    # ---- files --------------------------------------------------------------------------------

    def tojson(self):
        """The symbol as JSON (the library's format, which MXNet 1.x files also use)."""
        out = ctypes.c_char_p()
        check_call(lib.mx_symbol_to_json(self.handle, ctypes.byref(out)))
        return py_str(out.value)

    def save(self, fname):
        check_call(lib.mx_symbol_save(self.handle, c_str(fname)))

    # ---- binding ------------------------------------------------------------------------------

    def _ordered(self, values, names, what, allow_missing):
        if values is None:
            return None
        if isinstance(values, dict):
            unknown = set(values) - set(names)
            if unknown:
                raise MXError("%s: %s %s not among %s" % (what, ", ".join(sorted(unknown)),
                                                          "is" if len(unknown) == 1 else "are",
                                                          ", ".join(names)))
            missing = [n for n in names if n not in values]
            if missing and not allow_missing:
                raise MXError("%s: no array for %s" % (what, ", ".join(missing)))
            return [values.get(n) for n in names]
        return list(values)

    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None,
             group2ctx=None, shared_exec=None):
        """An executor on `ctx` over the caller's arrays: `args` (list in list_arguments order,
        or dict by name), `args_grad` (same; None: no gradients), `grad_req` ('write', 'add',
        'null', or a list / dict per argument), `aux_states` (list or dict)."""
        from .executor import Executor
        ctx = Context(ctx)
        _check_group2ctx(group2ctx, ctx)
        names = self.list_arguments()
        args = self._ordered(args, names, "bind: args", False)
        grads = self._ordered(args_grad, names, "bind: args_grad", True)
        aux = self._ordered(aux_states, self.list_auxiliary_states(), "bind: aux_states",
                            False) or []
        for a in args + (grads or []) + aux:
            if a is not None and not isinstance(a, NDArray):
                raise MXError("bind: expected NDArrays, got %s" % type(a).__name__)
        if isinstance(grad_req, str):
            reqs = [grad_req] * len(names)
        elif isinstance(grad_req, dict):
            reqs = [grad_req.get(n, "null") for n in names]
        else:
            reqs = list(grad_req)
        if grads is not None and len(grads) == len(reqs):
            # As in MXNet, an argument without a gradient array gets no gradient.
            reqs = ["null" if g is None else r for r, g in zip(reqs, grads)]
        codes = [_grad_req_code(r, n) for r, n in zip(reqs, names)]
        opts = _capi.BindOptions()
        check_call(lib.mx_bind_options_default(ctypes.byref(opts)))
        opts.ctx = ctx.as_c()
        opts.num_args = len(args)
        opts.args = c_handle_array(args, _capi.NDArrayHandle)
        if grads is not None:
            opts.arg_grads = c_handle_array(grads, _capi.NDArrayHandle)
            if len(codes) == len(args):
                opts.grad_reqs = c_array(ctypes.c_int32, codes)
        opts.num_aux = len(aux)
        opts.aux = c_handle_array(aux, _capi.NDArrayHandle)
        if shared_exec is not None:
            opts.shared_exec = shared_exec.handle
        handle = _capi.ExecutorHandle()
        check_call(lib.mx_executor_bind(self.handle, ctypes.byref(opts), ctypes.byref(handle)))
        return Executor(handle, self, ctx, args=args, grads=grads, aux=aux,
                        grad_req=reqs if grads is not None else ["null"] * len(names))

    def simple_bind(self, ctx, grad_req="write", type_dict=None, group2ctx=None,
                    shared_exec=None, **kwargs):
        """Infers every shape from the given input shapes (keywords), allocates arguments,
        gradients and auxiliary states on `ctx`, and binds."""
        from .executor import Executor
        ctx = Context(ctx)
        _check_group2ctx(group2ctx, ctx)
        names = self.list_arguments()
        opts = _capi.SimpleBindOptions()
        check_call(lib.mx_simple_bind_options_default(ctypes.byref(opts)))
        opts.ctx = ctx.as_c()
        shape_names = list(kwargs)
        shapes = [as_shape(kwargs[n]) for n in shape_names]
        keep = [(ctypes.c_int64 * builtins.max(len(s), 1))(*s) for s in shapes]
        dims = (ctypes.POINTER(ctypes.c_int64) * len(shapes))()
        for i, arr in enumerate(keep):
            dims[i] = ctypes.cast(arr, ctypes.POINTER(ctypes.c_int64))
        opts.num_shapes = len(shape_names)
        opts.shape_names = c_str_array(shape_names)
        opts.shape_ndims = c_array(ctypes.c_int32, [len(s) for s in shapes])
        opts.shapes = dims
        if type_dict:
            tnames = list(type_dict)
            opts.num_dtypes = len(tnames)
            opts.dtype_names = c_str_array(tnames)
            opts.dtypes = c_array(ctypes.c_int32, [dtype_code(type_dict[n]) for n in tnames])
        if isinstance(grad_req, str):
            opts.grad_req = _grad_req_code(grad_req, "every argument")
            reqs = [grad_req] * len(names)
        else:
            if isinstance(grad_req, dict):
                per = dict(grad_req)
                opts.grad_req = _capi.MX_GRAD_NULL
            else:
                if len(grad_req) != len(names):
                    raise MXError("simple_bind: %d grad_req values for %d arguments"
                                  % (len(grad_req), len(names)))
                per = dict(zip(names, grad_req))
            rnames = list(per)
            opts.num_grad_reqs = len(rnames)
            opts.grad_req_names = c_str_array(rnames)
            opts.grad_reqs = c_array(ctypes.c_int32, [_grad_req_code(per[n], n) for n in rnames])
            reqs = [per.get(n, "null") for n in names]
        if shared_exec is not None:
            opts.shared_exec = shared_exec.handle
        handle = _capi.ExecutorHandle()
        check_call(lib.mx_executor_simple_bind(self.handle, ctypes.byref(opts),
                                               ctypes.byref(handle)))
        return Executor(handle, self, ctx, grad_req=reqs)

    # ---- arithmetic ---------------------------------------------------------------------------

    def __add__(self, other):
        return _binary(self, other, "elemwise_add", "_plus_scalar")

    __radd__ = __add__

    def __sub__(self, other):
        return _binary(self, other, "elemwise_sub", "_minus_scalar")

    def __rsub__(self, other):
        return _binary(self, other, None, "_rminus_scalar")

    def __mul__(self, other):
        return _binary(self, other, "elemwise_mul", "_mul_scalar")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _binary(self, other, "elemwise_div", "_div_scalar")

    def __rtruediv__(self, other):
        return _binary(self, other, None, "_rdiv_scalar")

    def __pow__(self, other):
        return _binary(self, other, "_power", "_power_scalar")

    def __rpow__(self, other):
        return _binary(self, other, None, "_rpower_scalar")

    def __neg__(self):
        return _create("negative", {}, [self], {}, None, None)

    def __pos__(self):
        return self


def _check_group2ctx(group2ctx, ctx):
    # The library places a bound graph on one device; groups are accepted only when they all
    # name that device (the result is then the same), so a model asking for real placement is
    # told instead of silently running elsewhere.
    if not group2ctx:
        return
    others = {str(c) for c in group2ctx.values() if Context(c) != ctx}
    if others:
        raise MXError("group2ctx: placing groups on other devices (%s) than the bound one (%s) "
                      "is not supported by libmx" % (", ".join(sorted(others)), ctx),
                      status=5)


def _binary(lhs, rhs, elem_op, scalar_op):
    if isinstance(rhs, Symbol):
        return _create(elem_op, {}, [lhs, rhs], {}, None, None)
    if isinstance(rhs, (numbers.Number, np.generic)) and np.ndim(rhs) == 0:
        return _create(scalar_op, {"scalar": _ops.param_str(float(rhs))}, [lhs], {}, None, None)
    raise MXError("unsupported operand: Symbol and %s (use a Symbol or a number)"
                  % type(rhs).__name__)


def _create(op_name, params, inputs, named, name, attr):
    """A node of `op_name` with string `params`, composed with `inputs` (positional) and
    `named` inputs; missing inputs become variables."""
    keys = list(params)
    handle = SymbolHandle()
    check_call(lib.mx_symbol_create_op(c_str(op_name), len(keys), c_str_array(keys),
                                       c_str_array([params[k] for k in keys]),
                                       ctypes.byref(handle)))
    sym = Symbol(handle)
    if named:
        op = _ops.get_op(op_name)
        if inputs:
            if op.variadic or len(inputs) > len(op.inputs):
                raise MXError("%s: give the inputs either by position or by name" % op_name)
            named = dict(named)
            for n, s in zip(op.inputs, inputs):
                if n in named:
                    raise MXError("%s: input '%s' is given twice" % (op_name, n))
                named[n] = s
        sym._compose(name=name, **named)
    else:
        sym._compose(*inputs, name=name)
    if attr:
        sym._set_attr(**attr)
    return sym


def Variable(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None,
             **kwargs):
    """A variable (an argument of the graph: data, label, weight). `shape` and `dtype` are
    hints for inference; lr_mult / wd_mult scale the optimizer's rate / decay for it; `init`
    (an mx.init.Initializer) overrides the model's initializer for it."""
    if not isinstance(name, str):
        raise MXError("Variable: name must be a str, got %s" % type(name).__name__)
    handle = SymbolHandle()
    check_call(lib.mx_symbol_create_variable(c_str(name), ctypes.byref(handle)))
    sym = Symbol(handle)
    attrs = dict(attr or {})
    if shape is not None:
        attrs["__shape__"] = _ops.param_str(as_shape(shape))
    if dtype is not None:
        attrs["__dtype__"] = dtype_name(dtype)
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(float(lr_mult))
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(float(wd_mult))
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    for k, v in kwargs.items():
        if not (k.startswith("__") and k.endswith("__")):
            raise MXError("Variable: unknown argument %r (attributes go in attr=, or as "
                          "__key__=value)" % k)
        attrs[k] = v
    sym._set_attr(**attrs)
    return sym


var = Variable


def Group(symbols):
    """The outputs of several symbols as one."""
    symbols = list(symbols)
    for s in symbols:
        if not isinstance(s, Symbol):
            raise MXError("Group: expected Symbols, got %s" % type(s).__name__)
    handle = SymbolHandle()
    check_call(lib.mx_symbol_group(len(symbols), c_handle_array(symbols, SymbolHandle),
                                   ctypes.byref(handle)))
    return Symbol(handle)


def load(fname):
    """A symbol from a file written by Symbol.save."""
    handle = SymbolHandle()
    check_call(lib.mx_symbol_load(c_str(fname), ctypes.byref(handle)))
    return Symbol(handle)


def load_json(json_str):
    """A symbol from a JSON string written by Symbol.tojson."""
    handle = SymbolHandle()
    check_call(lib.mx_symbol_from_json(c_str(json_str), ctypes.byref(handle)))
    return Symbol(handle)


def _either(lhs, rhs, elem_op, scalar_op):
    if isinstance(lhs, Symbol):
        return _binary(lhs, rhs, elem_op, scalar_op)
    if isinstance(rhs, Symbol):
        return _binary(rhs, lhs, elem_op, scalar_op)
    raise MXError("expected at least one Symbol")


def pow(base, exp):  # noqa: A001  (MXNet's name)
    if isinstance(base, Symbol):
        return base ** exp
    return exp.__rpow__(base)


def maximum(lhs, rhs):
    return _either(lhs, rhs, "_maximum", "_maximum_scalar")


def minimum(lhs, rhs):
    return _either(lhs, rhs, "_minimum", "_minimum_scalar")


def _make_function(op):
    def fn(*args, name=None, attr=None, **kwargs):
        inputs, named, params, _ = _ops.split_call(op, args, kwargs,
                                                   lambda v: isinstance(v, Symbol))
        return _create(op.name, params, inputs, named, name, attr)
    return fn


def _init_ops():
    module = sys.modules[__name__]
    public = {}
    _ops.generate(_ops.list_ops(), _make_function, public, _internal.__dict__)
    for name, fn in public.items():
        if not hasattr(module, name):
            setattr(module, name, fn)
            __all__.append(name)


_init_ops()
