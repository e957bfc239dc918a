"""mx.random (also mx.rnd): seeding and random arrays, drawn by the library's generators."""
from . import ndarray as _nd
from ._ops import param_str
from .base import check_call, lib
from .context import current_context

__all__ = ["seed", "uniform", "normal"]


def seed(seed_state):
    """Seeds every device's generator: later random ops and initializers repeat."""
    check_call(lib.mx_random_seed(int(seed_state)))


def _draw(op, params, shape, ctx, dtype, out):
    if out is not None:
        shape, ctx, dtype = out.shape, out.context, out.dtype
    p = {k: param_str(float(v)) for k, v in params.items()}
    p.update(shape=param_str(_nd.as_shape(shape)), ctx=str(ctx or current_context()),
             dtype=_nd.dtype_name(dtype))
    return _nd.invoke(op, [], p, out)


def uniform(low=0.0, high=1.0, shape=(1,), ctx=None, dtype="float32", out=None):
    """Values from U(low, high)."""
    return _draw("_random_uniform", {"low": low, "high": high}, shape, ctx, dtype, out)


def normal(loc=0.0, scale=1.0, shape=(1,), ctx=None, dtype="float32", out=None):
    """Values from N(loc, scale^2)."""
    return _draw("_random_normal", {"loc": loc, "scale": scale}, shape, ctx, dtype, out)
