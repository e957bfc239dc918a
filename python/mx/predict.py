"""Prediction: one loaded model shared by many predictors (``mx.predict``).

    model = mx.predict.Model("lenet-symbol.json", "lenet-0010.params")
    pred = mx.predict.Predictor(model, {"data": (1, 1, 28, 28)})
    pred.set_input("data", pixels)           # numpy array (or anything numpy converts)
    pred.forward()
    scores = pred.get_output(0)              # numpy array; waits for the forward pass
    pred.reshape({"data": (32, 1, 28, 28)})  # a new batch size, the same weights

The model's weights are loaded once and only read afterwards: give each thread its own
Predictor over one Model (ctypes releases the GIL during each call, so the threads' forward
passes run at once; docs/design/predict.md). Labels of loss outputs (``softmax_label``) need no input.
"""
import ctypes

import numpy as np

from . import _capi
from .base import MXError, c_str, c_str_array, check_call, lib
from .context import Context, current_context

__all__ = ["Model", "Predictor"]


class Model(object):
    """A symbol and its trained weights. `symbol` is a symbol file's path, or its JSON text
    when `params` is bytes; `params` is a parameter file's path or its bytes (what
    ``mx.nd.save`` writes: ``arg:<name>`` and ``aux:<name>`` as checkpoints hold them)."""

    def __init__(self, symbol, params, ctx=None):
        ctx = (current_context() if ctx is None else Context(ctx)).as_c()
        self.handle = _capi.ModelHandle()
        if isinstance(params, (bytes, bytearray, memoryview)):
            buf = bytes(params)
            check_call(lib.mx_model_create(c_str(symbol), buf, len(buf), ctx,
                                           ctypes.byref(self.handle)))
        else:
            check_call(lib.mx_model_load(c_str(symbol), c_str(params), ctx,
                                         ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, "handle", None) and lib is not None:
            lib.mx_model_free(self.handle)


def _shape_args(shapes):
    if not isinstance(shapes, dict):
        raise MXError("input shapes must be a dict of name -> shape, got %s"
                      % type(shapes).__name__)
    names = list(shapes)
    dims = [tuple(int(d) for d in shapes[n]) for n in names]
    arrays = [(ctypes.c_int64 * len(d))(*d) for d in dims]
    ptrs = (ctypes.POINTER(ctypes.c_int64) * len(names))(
        *[ctypes.cast(a, ctypes.POINTER(ctypes.c_int64)) for a in arrays])
    ndims = (ctypes.c_int32 * len(names))(*[len(d) for d in dims])
    return len(names), c_str_array(names), ndims, ptrs, arrays


class Predictor(object):
    """Inference over a Model for the given input shapes ({name: shape}). One thread's object:
    share the Model between threads, not the Predictor."""

    def __init__(self, model, input_shapes):
        if not isinstance(model, Model):
            raise MXError("Predictor needs an mx.predict.Model, got %s" % type(model).__name__)
        self.model = model  # the C predictor holds its own reference too
        self.handle = _capi.PredictorHandle()
        n, names, ndims, ptrs, _keep = _shape_args(input_shapes)
        check_call(lib.mx_predictor_create(model.handle, n, names, ndims, ptrs,
                                           ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, "handle", None) and lib is not None:
            lib.mx_predictor_free(self.handle)

    def reshape(self, input_shapes):
        """Binds again for new input shapes, keeping the model's weights."""
        n, names, ndims, ptrs, _keep = _shape_args(input_shapes)
        check_call(lib.mx_predictor_reshape(self.handle, n, names, ndims, ptrs))

    def set_input(self, name, value):
        data = np.ascontiguousarray(value, dtype=np.float32)
        check_call(lib.mx_predictor_set_input(
            self.handle, c_str(name), data.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            data.size))

    def forward(self, **inputs):
        """Sets the given inputs (name=array), then pushes the forward pass."""
        for name, value in inputs.items():
            self.set_input(name, value)
        check_call(lib.mx_predictor_forward(self.handle))

    @property
    def num_outputs(self):
        n = ctypes.c_int32()
        check_call(lib.mx_predictor_get_num_outputs(self.handle, ctypes.byref(n)))
        return n.value

    def get_output(self, index):
        """Output `index` as a new numpy array (waits for the forward pass)."""
        ndim = ctypes.c_int32()
        dims = ctypes.POINTER(ctypes.c_int64)()
        check_call(lib.mx_predictor_get_output_shape(self.handle, index, ctypes.byref(ndim),
                                                     ctypes.byref(dims)))
        out = np.empty(tuple(dims[i] for i in range(ndim.value)), dtype=np.float32)
        check_call(lib.mx_predictor_get_output(
            self.handle, index, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size))
        return out
