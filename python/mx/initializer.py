"""mx.init: parameter initializers, each a rule of the library chosen by the argument's name.

``init(name, array)`` fills `array` as MXNet does: names ending in "weight" get the
initializer's rule, "bias" / "beta" / "moving_mean" zeros, "gamma" / "moving_var" ones (the
library decides; other names are an MXError). Random rules draw from the generator seeded by
``mx.random.seed``.
"""
import ctypes
import json

from ._capi import InitializerHandle
from .base import MXError, c_str, c_str_array, check_call, lib
from ._ops import param_str

__all__ = ["Initializer", "Uniform", "Normal", "Xavier", "Zero", "One", "Constant", "create"]


class Initializer:
    """A library initializer created by name with keyword parameters."""

    _lib_name = None

    def __init__(self, **kwargs):
        self._kwargs = {k: v for k, v in kwargs.items() if v is not None}
        keys = list(self._kwargs)
        handle = InitializerHandle()
        check_call(lib.mx_initializer_create(
            c_str(self._lib_name), len(keys), c_str_array(keys),
            c_str_array([param_str(self._kwargs[k]) for k in keys]), ctypes.byref(handle)))
        self.handle = handle

    def __del__(self, _free=lib.mx_initializer_free):
        handle = getattr(self, "handle", None)
        if handle is not None:
            _free(handle)

    def __call__(self, name, arr):
        """Fills NDArray `arr` by the rule that argument name `name` selects (lazy)."""
        check_call(lib.mx_initializer_apply(self.handle, c_str(str(name)), arr.handle))

    def dumps(self):
        """The initializer as JSON: [name, {params}] (stored in a Variable's __init__)."""
        return json.dumps([self._lib_name, self._kwargs])

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in sorted(self._kwargs.items())))


class Uniform(Initializer):
    """Weights from U(-scale, scale)."""
    _lib_name = "uniform"

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)


class Normal(Initializer):
    """Weights from N(0, sigma^2)."""
    _lib_name = "normal"

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)


class Xavier(Initializer):
    """Xavier/Glorot: rnd_type 'uniform' | 'gaussian', factor_type 'avg' | 'in' | 'out'."""
    _lib_name = "xavier"

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)


class Zero(Initializer):
    """Weights of 0."""
    _lib_name = "zero"


class One(Initializer):
    """Weights of 1."""
    _lib_name = "one"


class Constant(Initializer):
    """Weights of `value`."""
    _lib_name = "constant"

    def __init__(self, value):
        super().__init__(value=value)


_BY_NAME = {"uniform": Uniform, "normal": Normal, "xavier": Xavier, "zero": Zero,
            "zeros": Zero, "one": One, "ones": One, "constant": Constant}


def create(init, **kwargs):
    """An initializer from a name ('xavier', ...), a JSON dump, or an Initializer (as is)."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str) and init.startswith("["):
        name, params = json.loads(init)
        return create(name, **params)
    cls = _BY_NAME.get(str(init).lower())
    if cls is None:
        raise MXError("unknown initializer %r: expected one of %s"
                      % (init, ", ".join(sorted(_BY_NAME))))
    return cls(**kwargs)
