"""Learning-rate schedules, carried out by the library's optimizer (driven by its update count).

A scheduler is a description handed to an optimizer (``mx.optimizer.SGD(lr_scheduler=...)``):
the library owns the rate then.
"""
__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler"]


class LRScheduler:
    """The base of the schedules; `params()` are the optimizer parameters it stands for."""

    def params(self):
        raise NotImplementedError


class FactorScheduler(LRScheduler):
    """Multiplies the rate by `factor` every `step` updates, down to `stop_factor_lr`."""

    def __init__(self, step, factor=1.0, stop_factor_lr=1e-8):
        self.step, self.factor, self.stop_factor_lr = step, factor, stop_factor_lr

    def params(self):
        return {"lr_scheduler": "factor", "lr_step": int(self.step),
                "lr_factor": float(self.factor), "lr_stop_factor_lr": float(self.stop_factor_lr)}


class MultiFactorScheduler(LRScheduler):
    """Multiplies the rate by `factor` at each update count in `step` (increasing)."""

    def __init__(self, step, factor=1.0):
        self.step, self.factor = list(step), factor

    def params(self):
        return {"lr_scheduler": "multifactor",
                "lr_steps": "[" + ", ".join(str(int(s)) for s in self.step) + "]",
                "lr_factor": float(self.factor)}
