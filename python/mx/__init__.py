"""libmx for Python: the classic MXNet Python API over libmx's C ABI (ctypes + numpy only).

    import mx
    a = mx.nd.ones((2, 3))
    print((a * 2).asnumpy())

Every failure raises mx.MXError with the library's message. See docs/python.md.
"""
from . import base
from .base import MXError, __version__
from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus
from . import ndarray
from . import ndarray as nd
from . import symbol
from . import symbol as sym
from . import executor
from . import io
from . import initializer
from . import initializer as init
from . import lr_scheduler
from . import optimizer
from . import metric
from . import callback
from . import kvstore
from . import kvstore as kv
from . import model
from . import random
from . import random as rnd
from . import viz
from . import predict
from . import profiler
from .model import FeedForward

__all__ = ["base", "MXError", "Context", "cpu", "gpu", "cpu_pinned", "current_context",
           "num_gpus", "nd", "ndarray", "sym", "symbol", "executor", "io", "init", "initializer",
           "lr_scheduler", "optimizer", "metric", "callback", "kv", "kvstore", "model",
           "random", "rnd", "viz", "predict", "profiler", "FeedForward", "__version__"]
