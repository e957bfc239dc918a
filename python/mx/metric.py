"""mx.metric: evaluation metrics. The built-in ones are the library's (computed in C++ from
the arrays); CustomMetric runs a Python function on numpy copies.

``update(labels, preds)`` takes lists of NDArrays (one pair per output) and blocks until the
predictions are computed; ``get()`` returns (name, value).
"""
import ctypes
import math

from ._capi import MetricHandle, NDArrayHandle
from ._ops import param_str
from .base import MXError, c_handle_array, c_str, c_str_array, check_call, lib, py_str
from .ndarray import NDArray, array

__all__ = ["EvalMetric", "Accuracy", "TopKAccuracy", "CrossEntropy", "MSE", "CustomMetric",
           "CompositeEvalMetric", "create", "np"]


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return [a if isinstance(a, NDArray) else array(a) for a in x]
    return [x if isinstance(x, NDArray) else array(x)]


class EvalMetric:
    """The metric protocol: update(labels, preds), reset(), get()."""

    def __init__(self, name):
        self.name = name

    def update(self, labels, preds):
        raise NotImplementedError

    def reset(self):
        raise NotImplementedError

    def get(self):
        raise NotImplementedError

    def reset_local(self):
        """Restarts the local score only (the global one keeps counting)."""
        raise NotImplementedError

    def get_global(self):
        """(name, value) since the last reset(), however often reset_local() was called."""
        raise NotImplementedError

    @staticmethod
    def _pairs(name, value):
        if not isinstance(name, list):
            name, value = [name], [value]
        return list(zip(name, value))

    def get_name_value(self):
        return self._pairs(*self.get())

    def get_global_name_value(self):
        return self._pairs(*self.get_global())

    def __str__(self):
        return "EvalMetric: %s" % dict(self.get_name_value())


class _LibMetric(EvalMetric):
    """A library metric. Two library scores are kept, local and global, so that progress
    callbacks (Speedometer) can restart the local one while the epoch's total goes on."""

    _lib_name = None

    def __init__(self, **params):
        params = {k: v for k, v in params.items() if v is not None}
        keys = list(params)
        self._handles = []
        for _ in range(2):
            handle = MetricHandle()
            check_call(lib.mx_metric_create(c_str(self._lib_name), len(keys), c_str_array(keys),
                                            c_str_array([param_str(params[k]) for k in keys]),
                                            ctypes.byref(handle)))
            self._handles.append(handle)
        super().__init__(self.get()[0])

    def __del__(self, _free=lib.mx_metric_free):
        for handle in getattr(self, "_handles", ()):
            _free(handle)

    def update(self, labels, preds):
        labels, preds = _as_list(labels), _as_list(preds)
        if len(labels) != len(preds):
            raise MXError("%s: %d labels for %d predictions" % (self.name, len(labels),
                                                               len(preds)))
        cl, cp = c_handle_array(labels, NDArrayHandle), c_handle_array(preds, NDArrayHandle)
        for handle in self._handles:
            check_call(lib.mx_metric_update(handle, len(labels), cl, cp))

    def reset(self):
        for handle in self._handles:
            check_call(lib.mx_metric_reset(handle))

    def reset_local(self):
        check_call(lib.mx_metric_reset(self._handles[0]))

    def _get(self, handle):
        name = ctypes.c_char_p()
        value = ctypes.c_double()
        check_call(lib.mx_metric_get(handle, ctypes.byref(name), ctypes.byref(value)))
        return py_str(name.value), value.value

    def get(self):
        return self._get(self._handles[0])

    def get_global(self):
        return self._get(self._handles[1])


class Accuracy(_LibMetric):
    """The fraction of samples whose argmax along `axis` equals the label."""
    _lib_name = "acc"

    def __init__(self, axis=1, name=None):
        del name
        super().__init__(axis=axis)


class TopKAccuracy(_LibMetric):
    """The fraction of samples whose label is among the `top_k` highest predictions."""
    _lib_name = "top_k_accuracy"

    def __init__(self, top_k=1, name=None):
        del name
        super().__init__(top_k=top_k)


class CrossEntropy(_LibMetric):
    """The mean of -log(p[label] + eps)."""
    _lib_name = "ce"

    def __init__(self, eps=1e-12, name=None):
        del name
        super().__init__(eps=eps)


class MSE(_LibMetric):
    """The mean over batches of each batch's mean squared error."""
    _lib_name = "mse"

    def __init__(self, name=None):
        del name
        super().__init__()


class CustomMetric(EvalMetric):
    """A metric from feval(label, pred) on numpy arrays, returning a value (averaged over
    updates) or a (sum, count) pair."""

    def __init__(self, feval, name=None, allow_extra_outputs=False):
        super().__init__(name or getattr(feval, "__name__", "custom"))
        self._feval = feval
        self._allow_extra = allow_extra_outputs
        self.reset()

    def update(self, labels, preds):
        labels, preds = _as_list(labels), _as_list(preds)
        if len(labels) != len(preds) and not self._allow_extra:
            raise MXError("%s: %d labels for %d predictions" % (self.name, len(labels),
                                                               len(preds)))
        for label, pred in zip(labels, preds):
            result = self._feval(label.asnumpy(), pred.asnumpy())
            total, count = result if isinstance(result, tuple) else (result, 1)
            for acc in (self._local, self._global):
                acc[0] += total
                acc[1] += count

    def reset(self):
        self._local, self._global = [0.0, 0], [0.0, 0]

    def reset_local(self):
        self._local = [0.0, 0]

    def _value(self, acc):
        return self.name, (acc[0] / acc[1] if acc[1] else math.nan)

    def get(self):
        return self._value(self._local)

    def get_global(self):
        return self._value(self._global)


class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; get() returns lists of names and values."""

    def __init__(self, metrics=None, name="composite"):
        super().__init__(name)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric):
        self.metrics.append(create(metric))

    def update(self, labels, preds):
        for m in self.metrics:
            m.update(labels, preds)

    def reset(self):
        for m in self.metrics:
            m.reset()

    def reset_local(self):
        for m in self.metrics:
            m.reset_local()

    def get(self):
        pairs = [m.get() for m in self.metrics]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def get_global(self):
        pairs = [m.get_global() for m in self.metrics]
        return [p[0] for p in pairs], [p[1] for p in pairs]


_BY_NAME = {"acc": Accuracy, "accuracy": Accuracy, "top_k_accuracy": TopKAccuracy,
            "top_k_acc": TopKAccuracy, "ce": CrossEntropy, "cross-entropy": CrossEntropy,
            "mse": MSE}


def create(metric, *args, **kwargs):
    """A metric from a name ('acc', 'ce', 'mse', 'top_k_accuracy'), a function (CustomMetric),
    a list (CompositeEvalMetric) or an EvalMetric (as is)."""
    if isinstance(metric, EvalMetric):
        return metric
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, (list, tuple)):
        return CompositeEvalMetric(list(metric))
    cls = _BY_NAME.get(str(metric).lower())
    if cls is None:
        raise MXError("unknown metric %r: expected one of %s"
                      % (metric, ", ".join(sorted(_BY_NAME))))
    return cls(*args, **kwargs)


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A CustomMetric from a numpy function (MXNet's mx.metric.np)."""
    return CustomMetric(numpy_feval, name, allow_extra_outputs)


