"""mx.model: checkpoints and the classic FeedForward model (fit / predict / score / save /
load), MXNet 0.x's estimator.

FeedForward binds one executor per device (the batch is split between them), initialises the
parameters by name, and trains with the library's optimizer: directly on one device, or
through a key-value store (mx.kv) that sums the devices' gradients and updates once.
"""
import logging
import time

import numpy as np

from . import initializer as _init
from . import kvstore as _kv
from . import metric as _metric
from . import ndarray as nd
from . import optimizer as _opt
from . import symbol as _sym
from .base import MXError
from .callback import BatchEndParam
from .context import Context, cpu
from .io import DataIter, NDArrayIter

__all__ = ["FeedForward", "save_checkpoint", "load_checkpoint"]

BASE_ESTIMATOR = object


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params):
    """Writes prefix-symbol.json and prefix-%04d.params (keys 'arg:<name>', 'aux:<name>')."""
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix)
    save_dict = {"arg:%s" % k: v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({"aux:%s" % k: v.as_in_context(cpu()) for k, v in aux_params.items()})
    param_name = "%s-%04d.params" % (prefix, epoch)
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def load_checkpoint(prefix, epoch):
    """(symbol, arg_params, aux_params) of a checkpoint written by save_checkpoint."""
    symbol = _sym.load("%s-symbol.json" % prefix)
    fname = "%s-%04d.params" % (prefix, epoch)
    saved = nd.load(fname)
    if not isinstance(saved, dict):
        raise MXError("%s holds an unnamed list of arrays, not checkpoint parameters" % fname)
    arg_params, aux_params = {}, {}
    for key, value in saved.items():
        kind, _, name = key.partition(":")
        if kind == "arg":
            arg_params[name] = value
        elif kind == "aux":
            aux_params[name] = value
        else:
            raise MXError("%s: key %r is neither arg:<name> nor aux:<name>" % (fname, key))
    return symbol, arg_params, aux_params


def _split(batch_size, work_load_list):
    """[start, stop) of each device's share of a batch, proportional to its work load."""
    total = float(sum(work_load_list))
    bounds = [0]
    acc = 0.0
    for w in work_load_list:
        acc += w
        bounds.append(int(round(batch_size * acc / total)))
    slices = list(zip(bounds[:-1], bounds[1:]))
    if any(b <= a for a, b in slices):
        raise MXError("a batch of %d cannot be split over %d devices with work loads %s"
                      % (batch_size, len(work_load_list), work_load_list))
    return slices


class FeedForward(BASE_ESTIMATOR):
    """A network whose arguments are its inputs (named by the data iterator: 'data', and a
    label ending in 'label') and parameters (everything else, initialised by name).

    Extra keyword arguments (learning_rate, momentum, wd, ...) go to the optimizer when it is
    given by name.
    """

    def __init__(self, symbol, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
                 initializer=None, numpy_batch_size=128, arg_params=None, aux_params=None,
                 allow_extra_params=False, begin_epoch=0, **kwargs):
        if not isinstance(symbol, _sym.Symbol):
            raise MXError("FeedForward: symbol must be an mx.sym.Symbol")
        self.symbol = symbol
        if ctx is None:
            ctx = [cpu()]
        elif isinstance(ctx, Context):
            ctx = [ctx]
        self.ctx = [Context(c) for c in ctx]
        self.num_epoch = num_epoch
        self.epoch_size = epoch_size
        self.optimizer = optimizer
        self.initializer = initializer if initializer is not None else _init.Uniform(0.01)
        self.numpy_batch_size = numpy_batch_size
        self.arg_params = arg_params
        self.aux_params = aux_params
        self.allow_extra_params = allow_extra_params
        self.begin_epoch = begin_epoch
        self.kwargs = kwargs
        self._pred_exec = None

    # ---- data ---------------------------------------------------------------------------------

    def _init_iter(self, X, y, is_train):
        if isinstance(X, DataIter):
            return X
        if isinstance(X, (np.ndarray, nd.NDArray)):
            X = X.asnumpy() if isinstance(X, nd.NDArray) else X
            if y is None:
                if is_train:
                    raise MXError("fit: y (the labels) must be given with a numpy X")
                y = np.zeros(X.shape[0], dtype=np.float32)
            y = y.asnumpy() if isinstance(y, nd.NDArray) else np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise MXError("X has %d samples but y has %d" % (X.shape[0], y.shape[0]))
            if y.ndim > 1 and y.shape[1:] == (1,) * (y.ndim - 1):
                y = y.reshape(y.shape[0])
            batch_size = min(X.shape[0], self.numpy_batch_size)
            return NDArrayIter(X, y, batch_size, shuffle=is_train,
                               last_batch_handle="roll_over" if is_train else "pad")
        raise MXError("X must be a DataIter, a numpy array or an NDArray, got %s"
                      % type(X).__name__)

    def _init_eval_iter(self, eval_data):
        if eval_data is None or isinstance(eval_data, DataIter):
            return eval_data
        if isinstance(eval_data, (tuple, list)) and len(eval_data) == 2:
            X, y = eval_data
            return self._init_iter(X, y, is_train=False)
        raise MXError("eval_data must be a DataIter or an (X, y) pair")

    def _inputs(self, data):
        """[(arg name, shape)] of the data inputs and of the labels, matched to the symbol's
        arguments: a label the symbol does not name is its one argument ending in 'label'."""
        args = self.symbol.list_arguments()
        labels_of_symbol = [a for a in args if a.endswith("label")]

        def match(descs, is_label):
            out = []
            for desc in descs:
                name, shape = desc[0], tuple(desc[1])
                if name not in args:
                    if is_label and len(labels_of_symbol) == 1:
                        name = labels_of_symbol[0]
                    else:
                        raise MXError("the data iterator provides '%s', which is not an argument "
                                      "of the symbol (%s)" % (name, ", ".join(args)))
                out.append((name, shape))
            return out
        return match(data.provide_data, False), match(data.provide_label, True)

    # ---- parameters ---------------------------------------------------------------------------

    def _init_params(self, input_shapes):
        arg_shapes, _, aux_shapes = self.symbol.infer_shape(**input_shapes)
        arg_names = self.symbol.list_arguments()
        aux_names = self.symbol.list_auxiliary_states()
        param_names = [n for n in arg_names if n not in input_shapes]
        attrs = self.symbol.attr_dict()
        shapes = dict(zip(arg_names, arg_shapes))
        given_args = self.arg_params or {}
        given_aux = self.aux_params or {}
        if not self.allow_extra_params:
            extra = (set(given_args) - set(param_names)) | (set(given_aux) - set(aux_names))
            if extra:
                raise MXError("arg_params/aux_params name %s, which the symbol does not have "
                              "(pass allow_extra_params=True to ignore them)"
                              % ", ".join(sorted(extra)))

        def make(name, shape, given):
            if name in given:
                value = given[name]
                if tuple(value.shape) != tuple(shape):
                    raise MXError("parameter '%s' has shape %s, the network needs %s"
                                  % (name, value.shape, tuple(shape)))
                return value.as_in_context(cpu())
            arr = nd.zeros(shape, cpu())
            rule = attrs.get(name, {}).get("__init__")
            (_init.create(rule) if rule else self.initializer)(name, arr)
            return arr
        self.arg_params = {n: make(n, shapes[n], given_args) for n in param_names}
        self.aux_params = {n: make(n, s, given_aux) for n, s in zip(aux_names, aux_shapes)}
        return param_names, aux_names

    def _bind(self, ctx, input_shapes, grad=True):
        reqs = {n: "write" for n in self.arg_params} if grad else "null"
        return self.symbol.simple_bind(ctx, grad_req=reqs, **input_shapes)

    # ---- training -----------------------------------------------------------------------------

    def fit(self, X, y=None, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", logger=None, work_load_list=None,
            monitor=None, eval_end_callback=None, eval_batch_end_callback=None):
        """Trains for num_epoch epochs on X (a DataIter, or numpy data with labels y), scoring
        eval_data (a DataIter or (X, y)) with eval_metric after every epoch."""
        if monitor is not None:
            raise MXError("fit: monitor is not supported; use Executor.set_monitor_callback")
        if self.num_epoch is None:
            raise MXError("fit: num_epoch must be set")
        logger = logger or logging
        data = self._init_iter(X, y, is_train=True)
        eval_data = self._init_eval_iter(eval_data)
        eval_metric = _metric.create(eval_metric)
        data_inputs, label_inputs = self._inputs(data)
        inputs = data_inputs + label_inputs
        batch_size = inputs[0][1][0]
        param_names, aux_names = self._init_params(dict(inputs))

        if work_load_list is not None and len(work_load_list) != len(self.ctx):
            raise MXError("work_load_list has %d entries for %d contexts"
                          % (len(work_load_list), len(self.ctx)))
        slices = _split(batch_size, work_load_list or [1] * len(self.ctx))
        execs = []
        for ctx, (start, stop) in zip(self.ctx, slices):
            exe = self._bind(ctx, {n: (stop - start,) + s[1:] for n, s in inputs})
            exe.copy_params_from(self.arg_params, self.aux_params)
            execs.append(exe)

        if isinstance(kvstore, str):
            kv = _kv.create(kvstore) if len(self.ctx) > 1 or "dist" in kvstore else None
        else:
            kv = kvstore
        # Each of the store's workers contributes batch_size samples to a step.
        num_workers = kv.num_workers if kv is not None else 1

        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = _opt.create(optimizer, rescale_grad=1.0 / (batch_size * num_workers),
                                    param_idx2name=dict(enumerate(param_names)),
                                    sym=self.symbol, **self.kwargs)
        elif isinstance(optimizer, _opt.Optimizer):
            if not optimizer.idx2name:
                optimizer.idx2name = dict(enumerate(param_names))
        else:
            raise MXError("optimizer must be a name or an mx.optimizer.Optimizer")

        # Per-device lists, looked up once: the loop below only pushes work.
        dev_inputs = [[exe.arg_dict[n] for n, _ in inputs] for exe in execs]
        dev_labels = [[exe.arg_dict[n] for n, _ in label_inputs] for exe in execs]
        weights = [[exe.arg_dict[n] for exe in execs] for n in param_names]
        grads = [[exe.grad_dict[n] for exe in execs] for n in param_names]
        if kv is not None:
            # From the first device's copy: a 'device' store keeps each key where it comes from.
            # A distributed store keeps rank 0's, which every worker then starts from.
            kv.init(param_names, [w[0] for w in weights])
            kv.set_optimizer(optimizer)
            kv.pull(param_names, weights)
        eval_exec = None

        for epoch in range(self.begin_epoch, self.num_epoch):
            tic = time.time()
            eval_metric.reset()
            data.reset()
            nbatch = 0
            for batch in data:
                sources = list(batch.data) + list(batch.label or [])
                for k, (start, stop) in enumerate(slices):
                    for src, dst in zip(sources, dev_inputs[k]):
                        (src if len(execs) == 1 else src[start:stop]).copyto(dst)
                for exe in execs:
                    exe.forward(is_train=True)
                    exe.backward()
                if kv is not None:
                    # One call for all keys: a distributed store sends small keys together.
                    kv.push(param_names, grads)
                    kv.pull(param_names, weights)
                else:
                    for i in range(len(param_names)):
                        optimizer.update(i, weights[i][0], grads[i][0])
                for k, exe in enumerate(execs):
                    eval_metric.update(dev_labels[k], exe.outputs)
                nbatch += 1
                if batch_end_callback is not None:
                    _call_all(batch_end_callback, BatchEndParam(epoch, nbatch, eval_metric,
                                                                locals()))
                if self.epoch_size is not None and nbatch >= self.epoch_size:
                    break
            for name, value in eval_metric.get_global_name_value():
                logger.info("Epoch[%d] Train-%s=%f", epoch, name, value)
            logger.info("Epoch[%d] Time cost=%.3f", epoch, time.time() - tic)

            self._capture(execs, param_names, aux_names)
            if epoch_end_callback is not None:
                _call_all(epoch_end_callback, epoch, self.symbol, self.arg_params,
                          self.aux_params)
            if eval_data is not None:
                # Evaluates with the first device's live parameters (no copies).
                if eval_exec is None:
                    eval_exec = self._eval_executor(execs[0], eval_data)
                self._run_metric(eval_exec, eval_data, eval_metric, eval_batch_end_callback,
                                 epoch)
                for name, value in eval_metric.get_name_value():
                    logger.info("Epoch[%d] Validation-%s=%f", epoch, name, value)
                if eval_end_callback is not None:
                    _call_all(eval_end_callback, BatchEndParam(epoch, 0, eval_metric, locals()))
        self._pred_exec = None
        return self

    def _capture(self, execs, param_names, aux_names):
        """Copies the trained parameters to the CPU (checkpoints, predictors); auxiliary
        states are averaged over the devices."""
        ref = execs[0]
        self.arg_params = {n: ref.arg_dict[n].copyto(cpu()) for n in param_names}
        aux = {}
        for n in aux_names:
            total = ref.aux_dict[n].copyto(cpu())
            for exe in execs[1:]:
                total += exe.aux_dict[n].copyto(cpu())
            aux[n] = total / len(execs) if len(execs) > 1 else total
        self.aux_params = aux

    def _eval_executor(self, train_exec, data):
        data_inputs, label_inputs = self._inputs(data)
        shapes = dict(data_inputs + label_inputs)
        arg_shapes, _, _ = self.symbol.infer_shape(**shapes)
        args = []
        for name, shape, arr in zip(self.symbol.list_arguments(), arg_shapes,
                                    train_exec.arg_arrays):
            args.append(arr if name not in shapes else nd.zeros(shape, train_exec._ctx))
        return self.symbol.bind(train_exec._ctx, args, grad_req="null",
                                aux_states=train_exec.aux_arrays, shared_exec=train_exec)

    def _run_metric(self, exe, data, metric, batch_end_callback=None, epoch=0, num_batch=None):
        data_inputs, _ = self._inputs(data)
        targets = [exe.arg_dict[n] for n, _ in data_inputs]
        metric.reset()
        data.reset()
        for nbatch, batch in enumerate(data):
            if num_batch is not None and nbatch >= num_batch:
                break
            for src, dst in zip(batch.data, targets):
                src.copyto(dst)
            exe.forward(is_train=False)
            keep = batch.data[0].shape[0] - batch.pad
            labels = [l if batch.pad == 0 else l[0:keep] for l in batch.label]
            outputs = [o if batch.pad == 0 else o[0:keep] for o in exe.outputs]
            metric.update(labels, outputs)
            if batch_end_callback is not None:
                _call_all(batch_end_callback, BatchEndParam(epoch, nbatch + 1, metric, locals()))
        return metric

    # ---- inference ----------------------------------------------------------------------------

    def _predictor(self, data):
        if self.arg_params is None:
            raise MXError("the model has no parameters: fit or load it first")
        data_inputs, _ = self._inputs(data)
        shapes = dict(data_inputs)
        if self._pred_exec is not None and self._pred_exec[0] == shapes:
            return self._pred_exec[1]
        ctx = self.ctx[0]
        exe = self.symbol.simple_bind(ctx, grad_req="null", **shapes)
        exe.copy_params_from(self.arg_params, self.aux_params,
                             allow_extra_params=self.allow_extra_params)
        self._pred_exec = (shapes, exe)
        return exe

    def predict(self, X, num_batch=None, return_data=False, reset=True):
        """The outputs for every sample of X (numpy arrays; a list for several outputs),
        padding removed. With return_data, also the data and labels seen."""
        data = self._init_iter(X, None, is_train=False)
        if reset:
            data.reset()
        exe = self._predictor(data)
        data_inputs, _ = self._inputs(data)
        targets = [exe.arg_dict[n] for n, _ in data_inputs]
        outputs = [[] for _ in exe.outputs]
        seen_data, seen_label = [], []
        for nbatch, batch in enumerate(data):
            if num_batch is not None and nbatch >= num_batch:
                break
            for src, dst in zip(batch.data, targets):
                src.copyto(dst)
            exe.forward(is_train=False)
            keep = batch.data[0].shape[0] - batch.pad
            for i, o in enumerate(exe.outputs):
                outputs[i].append(o.asnumpy()[:keep])
            if return_data:
                seen_data.append(batch.data[0].asnumpy()[:keep])
                if batch.label:
                    seen_label.append(batch.label[0].asnumpy()[:keep])
        result = [np.concatenate(o) for o in outputs]
        result = result[0] if len(result) == 1 else result
        if return_data:
            return (result, np.concatenate(seen_data),
                    np.concatenate(seen_label) if seen_label else None)
        return result

    def score(self, X, eval_metric="acc", num_batch=None, batch_end_callback=None, reset=True):
        """The metric over X (a DataIter or an (X, y) pair), padding excluded."""
        data = self._init_eval_iter(X) if isinstance(X, (tuple, list)) else \
            self._init_iter(X, None, is_train=False)
        metric = _metric.create(eval_metric)
        exe = self._predictor(data)
        self._run_metric(exe, data, metric, batch_end_callback, num_batch=num_batch)
        return metric.get()[1]

    # ---- files --------------------------------------------------------------------------------

    def save(self, prefix, epoch=None):
        """Writes prefix-symbol.json and prefix-%04d.params (epoch: num_epoch by default)."""
        if epoch is None:
            epoch = self.num_epoch
        if self.arg_params is None:
            raise MXError("save: the model has no parameters yet")
        save_checkpoint(prefix, epoch, self.symbol, self.arg_params, self.aux_params or {})

    @staticmethod
    def load(prefix, epoch, ctx=None, **kwargs):
        """A model from a checkpoint; it may be trained further (begin_epoch = epoch)."""
        symbol, arg_params, aux_params = load_checkpoint(prefix, epoch)
        return FeedForward(symbol, ctx=ctx, arg_params=arg_params, aux_params=aux_params,
                           begin_epoch=epoch, **kwargs)

    @staticmethod
    def create(symbol, X, y=None, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
               initializer=None, eval_data=None, eval_metric="acc", epoch_end_callback=None,
               batch_end_callback=None, kvstore="local", logger=None, work_load_list=None,
               eval_end_callback=None, eval_batch_end_callback=None, **kwargs):
        """A model made and trained in one call."""
        model = FeedForward(symbol, ctx=ctx, num_epoch=num_epoch, epoch_size=epoch_size,
                            optimizer=optimizer, initializer=initializer, **kwargs)
        model.fit(X, y, eval_data=eval_data, eval_metric=eval_metric,
                  epoch_end_callback=epoch_end_callback, batch_end_callback=batch_end_callback,
                  kvstore=kvstore, logger=logger, work_load_list=work_load_list,
                  eval_end_callback=eval_end_callback,
                  eval_batch_end_callback=eval_batch_end_callback)
        return model


def _call_all(callbacks, *args):
    for cb in callbacks if isinstance(callbacks, (list, tuple)) else [callbacks]:
        cb(*args)
