"""mx.callback: functions fit calls after every batch or epoch (progress, checkpoints)."""
import logging
import time

__all__ = ["BatchEndParam", "Speedometer", "do_checkpoint", "log_train_metric"]


class BatchEndParam:
    """What a batch-end callback receives: epoch, nbatch, eval_metric, locals."""

    def __init__(self, epoch, nbatch, eval_metric, locals=None):  # noqa: A002 (MXNet's name)
        self.epoch = epoch
        self.nbatch = nbatch
        self.eval_metric = eval_metric
        self.locals = locals


class Speedometer:
    """Logs samples per second and the metric every `frequent` batches (and, with
    auto_reset, restarts the metric so each line covers its own batches)."""

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size = batch_size
        self.frequent = frequent
        self.auto_reset = auto_reset
        self.init = False
        self.tic = 0
        self.last_count = 0
        self.last_speed = None  # samples/s of the last line (tests and examples read it)

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:
            self.init = False
        self.last_count = count
        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent != 0:
            return
        elapsed = time.time() - self.tic
        self.last_speed = self.frequent * self.batch_size / elapsed if elapsed > 0 else 0.0
        if param.eval_metric is not None:
            pairs = param.eval_metric.get_name_value()
            if self.auto_reset:
                param.eval_metric.reset_local()
            metrics = "\t".join("%s=%f" % nv for nv in pairs)
            logging.info("Epoch[%d] Batch [%d]\tSpeed: %.2f samples/sec\t%s", param.epoch,
                         count, self.last_speed, metrics)
        else:
            logging.info("Epoch[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch, count,
                         self.last_speed)
        self.tic = time.time()


def do_checkpoint(prefix, period=1):
    """An epoch-end callback saving prefix-symbol.json and prefix-%04d.params every `period`
    epochs (numbered from 1, as MXNet does)."""
    period = int(max(1, period))

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            from .model import save_checkpoint
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def log_train_metric(period, auto_reset=False):
    """A batch-end callback logging the training metric every `period` batches."""
    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name,
                             value)
            if auto_reset:
                param.eval_metric.reset_local()
    return _callback
