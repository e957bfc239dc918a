"""Executors: a symbol bound to arrays on a device (made by Symbol.bind / simple_bind).

Binding planned everything once in the library; ``forward`` and ``backward`` only push the
cached operators and return at once. Outputs and gradients are ordinary NDArrays: reading them
blocks until they are computed.
"""
import ctypes
import weakref

from . import _capi
from ._capi import NDArrayHandle
from .base import MXError, c_handle_array, check_call, free_deferred, \
    free_later_if_in_callback, in_engine_callback, lib, py_str, py_str_list
from .ndarray import NDArray, array, empty, zeros

__all__ = ["Executor"]

class Executor:
    """Runs a bound symbol. Not created directly: see Symbol.bind and Symbol.simple_bind."""

    def __init__(self, handle, symbol, ctx, args=None, grads=None, aux=None, grad_req=None):
        free_deferred()
        self.handle = handle
        self._symbol = symbol
        self._ctx = ctx
        self._grad_req = grad_req
        self._monitor = None  # the ctypes callback, kept alive while installed
        self._monitor_error = None
        # Arrays the caller bound stay the very objects it passed (as in MXNet); the others
        # are the library's, fetched once: they do not change for the executor's life.
        self.arg_names, fetched_args = self._arrays(_capi.MX_EXEC_ARGS)
        _, fetched_grads = self._arrays(_capi.MX_EXEC_GRADS)
        self.aux_names, fetched_aux = self._arrays(_capi.MX_EXEC_AUX)
        self.output_names, self.outputs = self._arrays(_capi.MX_EXEC_OUTPUTS)
        self.arg_arrays = list(args) if args is not None else fetched_args
        self.grad_arrays = list(grads) if grads is not None else fetched_grads
        self.aux_arrays = list(aux) if aux else fetched_aux

    def __del__(self, _free=lib.mx_executor_free, _later=free_later_if_in_callback):
        handle = getattr(self, "handle", None)
        if handle is not None:
            # The library calls the monitor until the executor is freed: keep it alive till then.
            _later(_free, handle, getattr(self, "_monitor", None))

    def free(self):
        """Releases the executor now (pending work finishes first); later use is an MXError."""
        handle, self.handle = self.handle, None
        if handle is not None:
            check_call(lib.mx_executor_free(handle))

    def _arrays(self, kind):
        n = ctypes.c_int32()
        names = ctypes.POINTER(ctypes.c_char_p)()
        handles = ctypes.POINTER(NDArrayHandle)()
        check_call(lib.mx_executor_get_arrays(self.handle, kind, ctypes.byref(n),
                                              ctypes.byref(names), ctypes.byref(handles)))
        arrays = [NDArray(NDArrayHandle(handles[i].value)) if handles[i].value else None
                  for i in range(n.value)]
        return py_str_list(names, n.value), arrays

    @property
    def arg_dict(self):
        return dict(zip(self.arg_names, self.arg_arrays))

    @property
    def grad_dict(self):
        return {n: g for n, g in zip(self.arg_names, self.grad_arrays) if g is not None}

    @property
    def aux_dict(self):
        return dict(zip(self.aux_names, self.aux_arrays))

    @property
    def output_dict(self):
        return dict(zip(self.output_names, self.outputs))

    def _raise_monitor_error(self):
        if self._monitor_error is not None:
            err, self._monitor_error = self._monitor_error, None
            raise MXError("the monitor callback failed: %r" % (err,)) from err

    def forward(self, is_train=False, **kwargs):
        """Pushes the forward pass. Keyword arrays (NDArray or numpy) are first copied into
        the arguments of those names. Returns the outputs (computed lazily)."""
        self._raise_monitor_error()
        free_deferred()
        arg_dict = self.arg_dict
        for name, value in kwargs.items():
            if name not in arg_dict:
                raise MXError("forward: '%s' is not an argument; the arguments are %s"
                              % (name, ", ".join(self.arg_names)))
            arg_dict[name][:] = value
        check_call(lib.mx_executor_forward(self.handle, 1 if is_train else 0))
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        """Pushes the backward pass. `out_grads`: the gradient of each output (an NDArray, a
        list, or None for ones; loss outputs such as SoftmaxOutput ignore them)."""
        self._raise_monitor_error()
        if out_grads is None:
            grads = []
        elif isinstance(out_grads, NDArray):
            grads = [out_grads]
        else:
            grads = [g if isinstance(g, NDArray) else array(g) for g in out_grads]
        check_call(lib.mx_executor_backward(self.handle, len(grads),
                                            c_handle_array(grads, NDArrayHandle)))

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copies parameter values (dicts name -> NDArray) into the bound arrays."""
        for params, target, what in ((arg_params, self.arg_dict, "argument"),
                                     (aux_params or {}, self.aux_dict, "auxiliary state")):
            for name, value in params.items():
                if name in target:
                    value.copyto(target[name])
                elif not allow_extra_params:
                    raise MXError("copy_params_from: '%s' is not an %s of the executor"
                                  % (name, what))

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for other input shapes (keywords), sharing the arrays whose shapes
        stay the same (the parameters) and this executor's planned memory. Arguments whose
        shape changes without being named need partial_shaping=True; they get new arrays.
        (allow_up_sizing is accepted for MXNet compatibility: new arrays are always made.)"""
        del allow_up_sizing
        arg_shapes, _, aux_shapes = self._symbol.infer_shape(**kwargs)

        def renew(names, arrays, shapes, grads=False):
            out = []
            for name, arr, shape in zip(names, arrays, shapes):
                if arr is None or arr.shape == tuple(shape):
                    out.append(arr)
                    continue
                if name not in kwargs and not partial_shaping and not grads:
                    raise MXError("reshape: the shape of '%s' would change from %s to %s; pass "
                                  "partial_shaping=True to allow it" % (name, arr.shape,
                                                                        tuple(shape)))
                out.append(zeros(shape, arr.context, arr.dtype))
            return out
        args = renew(self.arg_names, self.arg_arrays, arg_shapes)
        grads = renew(self.arg_names, self.grad_arrays, arg_shapes, grads=True)
        aux = renew(self.aux_names, self.aux_arrays, aux_shapes)
        has_grads = any(g is not None for g in grads)
        return self._symbol.bind(self._ctx, args, grads if has_grads else None,
                                 self._grad_req, aux, shared_exec=self)

    def set_monitor_callback(self, callback, monitor_all=False):
        """Calls callback(name, array) with every node output as it is computed (None removes
        it). The callback runs on an engine thread with a copy of the value that stays valid:
        keep it and read it later, but do not block on the engine (asnumpy) inside it. An
        exception in it is raised by the next forward or backward."""
        del monitor_all
        if callback is None:
            check_call(lib.mx_executor_set_monitor(self.handle, _capi.MONITOR_FN(), None))
            self._monitor = None
            return

        owner = weakref.ref(self)  # no cycle: the executor is freed when its last user lets go

        def trampoline(name, handle, _user):
            in_engine_callback.active = True
            try:
                value = handle.value if isinstance(handle, NDArrayHandle) else handle
                borrowed = NDArray(NDArrayHandle(value))
                try:
                    copy = empty(borrowed.shape, borrowed.context, borrowed.dtype)
                    check_call(lib.mx_ndarray_copy_to(borrowed.handle, copy.handle))
                finally:
                    borrowed.handle = None  # borrowed for the call: never ours to free
                callback(py_str(name), copy)
            except BaseException as e:  # noqa: B902 - nothing may unwind into the engine
                exe = owner()
                if exe is not None and exe._monitor_error is None:
                    exe._monitor_error = e
            finally:
                in_engine_callback.active = False
        cb = _capi.MONITOR_FN(trampoline)
        check_call(lib.mx_executor_set_monitor(self.handle, cb, None))
        self._monitor = cb

    def debug_str(self):
        """The memory plan as text."""
        out = ctypes.c_char_p()
        check_call(lib.mx_executor_get_plan(self.handle, ctypes.byref(out)))
        return py_str(out.value)

    def memory(self):
        """(planned bytes, bytes one buffer per value would take)."""
        planned, naive = ctypes.c_uint64(), ctypes.c_uint64()
        check_call(lib.mx_executor_get_memory(self.handle, ctypes.byref(planned),
                                              ctypes.byref(naive)))
        return planned.value, naive.value
