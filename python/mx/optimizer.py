"""mx.optimizer: update rules run by the library as engine operators (sgd_update, adam_update).

``opt.update(index, weight, grad)`` pushes one update of argument `index` and returns at
once; the optimizer's state (momentum, Adam's moments) lives in the library beside the weight.
Multipliers and the learning-rate schedule follow MXNet's optimizer.py.
"""
import ctypes

from ._capi import OptimizerHandle
from ._ops import param_str
from .base import MXError, c_array, c_str, c_str_array, check_call, lib
from .lr_scheduler import LRScheduler

__all__ = ["Optimizer", "SGD", "Adam", "create", "get_updater", "Updater"]


class Optimizer:
    """A library optimizer. Common parameters: learning_rate, wd, rescale_grad (1/batch size
    for summed gradients), clip_gradient (None: off), lr_scheduler, begin_num_update,
    param_idx2name (index -> argument name, for multipliers and no decay on biases), and
    `sym`, whose variables' lr_mult / wd_mult attributes are applied."""

    _lib_name = None

    def __init__(self, learning_rate=0.01, wd=0.0, rescale_grad=1.0, clip_gradient=None,
                 lr_scheduler=None, begin_num_update=0, param_idx2name=None, sym=None,
                 **kwargs):
        params = dict(learning_rate=learning_rate, wd=wd, rescale_grad=rescale_grad,
                      clip_gradient=clip_gradient, begin_num_update=begin_num_update, **kwargs)
        if lr_scheduler is not None:
            if not isinstance(lr_scheduler, LRScheduler):
                raise MXError("lr_scheduler must be an mx.lr_scheduler.LRScheduler")
            params.update(lr_scheduler.params())
        self._params = {k: v for k, v in params.items() if v is not None}
        keys = list(self._params)
        handle = OptimizerHandle()
        check_call(lib.mx_optimizer_create(
            c_str(self._lib_name), len(keys), c_str_array(keys),
            c_str_array([param_str(self._params[k]) for k in keys]), ctypes.byref(handle)))
        self.handle = handle
        self._idx2name = {}
        if param_idx2name:
            self.idx2name = param_idx2name
        if sym is not None:
            self._apply_sym_mults(sym)

    def __del__(self, _free=lib.mx_optimizer_free):
        handle = getattr(self, "handle", None)
        if handle is not None:
            _free(handle)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in sorted(self._params.items())))

    @property
    def rescale_grad(self):
        return float(self._params.get("rescale_grad", 1.0))

    @property
    def idx2name(self):
        return dict(self._idx2name)

    @idx2name.setter
    def idx2name(self, mapping):
        idx = list(mapping)
        check_call(lib.mx_optimizer_set_arg_names(self.handle, len(idx),
                                                  c_array(ctypes.c_int32, idx),
                                                  c_str_array([mapping[i] for i in idx])))
        self._idx2name.update(mapping)

    def _set_mult(self, fn, mults):
        names = list(mults)
        check_call(fn(self.handle, len(names), c_str_array(names),
                      c_array(ctypes.c_double, [float(mults[n]) for n in names])))

    def set_lr_mult(self, args_lr_mult):
        """Learning-rate multipliers by argument name."""
        self._set_mult(lib.mx_optimizer_set_lr_mult, args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers by argument name."""
        self._set_mult(lib.mx_optimizer_set_wd_mult, args_wd_mult)

    def _apply_sym_mults(self, sym):
        lr, wd = {}, {}
        for node, attrs in sym.attr_dict().items():
            for key, target in (("lr_mult", lr), ("wd_mult", wd)):
                for k in (key, "__%s__" % key):
                    if k in attrs:
                        target[node] = float(attrs[k])
        if lr:
            self.set_lr_mult(lr)
        if wd:
            self.set_wd_mult(wd)

    @property
    def learning_rate(self):
        """The rate at the current update count (the schedule's, if any)."""
        lr = ctypes.c_double()
        check_call(lib.mx_optimizer_get_learning_rate(self.handle, ctypes.byref(lr)))
        return lr.value

    def set_learning_rate(self, lr):
        check_call(lib.mx_optimizer_set_learning_rate(self.handle, float(lr)))

    def create_state(self, index, weight):
        """The state lives in the library (created at the index's first update): None."""
        return None

    def update(self, index, weight, grad, state=None):
        """Pushes one update of argument `index`: `weight` changes in place (lazy)."""
        del state
        check_call(lib.mx_optimizer_update(self.handle, int(index), weight.handle, grad.handle))


class SGD(Optimizer):
    """Stochastic gradient descent with momentum and weight decay."""
    _lib_name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)


class Adam(Optimizer):
    """Adam (bias correction folded into the rate, as in MXNet)."""
    _lib_name = "adam"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon,
                         **kwargs)


_BY_NAME = {"sgd": SGD, "adam": Adam}


def create(name, **kwargs):
    """An optimizer by name ('sgd', 'adam') with its parameters, or an Optimizer as is."""
    if isinstance(name, Optimizer):
        return name
    cls = _BY_NAME.get(str(name).lower())
    if cls is None:
        raise MXError("unknown optimizer %r: expected one of %s" % (name,
                                                                   ", ".join(sorted(_BY_NAME))))
    return cls(**kwargs)


class Updater:
    """updater(index, grad, weight): the callable form of an optimizer (MXNet's get_updater)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def __call__(self, index, grad, weight):
        self.optimizer.update(index, weight, grad)


def get_updater(optimizer):
    return Updater(optimizer)
