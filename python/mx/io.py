"""mx.io: data iterators — batches of (data, label) for fit, score and hand-written loops.

``NDArrayIter`` (numpy arrays or NDArrays in memory) and ``MNISTIter`` (IDX files) are the
library's iterators, which prepare the next batch on a background thread. Every batch has arrays
of its own (read-only) that the iterator never writes again: a batch stays valid after
``next()``, ``reset()`` and ``free()``, so ``batches = list(it)`` keeps each batch's data, label
and pad. The memory of a batch nobody holds any more is reused for later batches (no allocation
per batch in a training loop).

A Python iterator only needs ``reset()``, ``next()`` (raising StopIteration at the end of an
epoch, returning a DataBatch) and ``provide_data`` / ``provide_label``: subclass DataIter.
"""
import ctypes
from collections import namedtuple

import numpy as np

from . import _capi
from ._capi import DataIterHandle, NDArrayHandle
from .base import MXError, c_str, check_call, free_deferred, free_later_if_in_callback, lib
from .ndarray import NDArray, host_array

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter", "MNISTIter"]


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """The name and shape of one input of a batch; unpacks as (name, shape)."""

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        desc = super().__new__(cls, name, tuple(shape))
        desc.dtype = dtype
        desc.layout = layout
        return desc


class DataBatch:
    """One batch: lists of data and label NDArrays, and how many trailing samples are padding."""

    def __init__(self, data, label=None, pad=0, index=None, provide_data=None,
                 provide_label=None):
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.provide_data = provide_data
        self.provide_label = provide_label


class DataIter:
    """The iterator protocol fit/score/predict use; iterate with ``for batch in it``."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def reset(self):
        pass

    def next(self):
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(),
                             index=self.getindex())
        raise StopIteration

    def iter_next(self):
        return False

    def getdata(self):
        return None

    def getlabel(self):
        return None

    def getindex(self):
        return None

    def getpad(self):
        return 0

    @property
    def provide_data(self):
        return []

    @property
    def provide_label(self):
        return []


class _LibIter(DataIter):
    """An iterator of the library (mx_data_iter_t)."""

    def __init__(self, handle, batch_size, data_name, label_name):
        super().__init__(batch_size)
        self.handle = handle
        self.data_name = data_name
        self.label_name = label_name
        data_ndim, label_ndim = ctypes.c_int32(), ctypes.c_int32()
        data_dims = ctypes.POINTER(ctypes.c_int64)()
        label_dims = ctypes.POINTER(ctypes.c_int64)()
        check_call(lib.mx_data_iter_get_shapes(handle, ctypes.byref(data_ndim),
                                               ctypes.byref(data_dims), ctypes.byref(label_ndim),
                                               ctypes.byref(label_dims)))
        self._data_shape = tuple(data_dims[i] for i in range(data_ndim.value))
        self._label_shape = (tuple(label_dims[i] for i in range(label_ndim.value))
                             if label_dims else None)

    def __del__(self, _free=lib.mx_data_iter_free, _later=free_later_if_in_callback):
        handle = getattr(self, "handle", None)
        if handle is not None:
            _later(_free, handle)  # stopping the prefetch thread may wait for engine work

    def free(self):
        """Stops the background thread and releases the iterator now."""
        handle, self.handle = self.handle, None
        if handle is not None:
            check_call(lib.mx_data_iter_free(handle))

    @property
    def provide_data(self):
        return [DataDesc(self.data_name, self._data_shape)]

    @property
    def provide_label(self):
        if self._label_shape is None:
            return []
        return [DataDesc(self.label_name, self._label_shape)]

    def reset(self):
        free_deferred()
        check_call(lib.mx_data_iter_reset(self.handle))

    def iter_next(self):
        has = ctypes.c_int32()
        check_call(lib.mx_data_iter_next(self.handle, ctypes.byref(has)))
        return bool(has.value)

    def getdata(self):
        h = NDArrayHandle()
        check_call(lib.mx_data_iter_get_data(self.handle, ctypes.byref(h)))
        return [NDArray(h, writable=False)]

    def getlabel(self):
        h = NDArrayHandle()
        check_call(lib.mx_data_iter_get_label(self.handle, ctypes.byref(h)))
        return [NDArray(h, writable=False)] if h.value else None

    def getpad(self):
        pad = ctypes.c_int64()
        check_call(lib.mx_data_iter_get_pad(self.handle, ctypes.byref(pad)))
        return pad.value


_LAST_BATCH = {"pad": _capi.MX_LAST_BATCH_PAD, "discard": _capi.MX_LAST_BATCH_DISCARD,
               "roll_over": _capi.MX_LAST_BATCH_ROLL_OVER}


def _last_batch_code(value):
    if value not in _LAST_BATCH:
        raise MXError("last_batch_handle is %r: expected 'pad', 'discard' or 'roll_over'"
                      % (value,))
    return _LAST_BATCH[value]


def _single(value, what):
    """One array from an NDArray / numpy array / one-entry list or dict (the library's
    iterators hold one data and one label array)."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise MXError("%s: the library's NDArrayIter takes one array, got %d" % (what,
                                                                                   len(value)))
        (name, value), = value.items()
    elif isinstance(value, (list, tuple)) and value and not np.isscalar(value[0]) and \
            isinstance(value[0], (np.ndarray, NDArray)):
        if len(value) != 1:
            raise MXError("%s: the library's NDArrayIter takes one array, got %d" % (what,
                                                                                   len(value)))
        name, value = None, value[0]
    else:
        name = None
    if isinstance(value, NDArray):
        value = value.asnumpy()
    return name, host_array(value, np.float32)


class NDArrayIter(_LibIter):
    """Batches over arrays in memory (copied in: the caller may change its arrays afterwards).

    ``last_batch_handle``: 'pad' (fill the last batch from the start; see DataBatch.pad),
    'discard' or 'roll_over' (keep the rest for the next epoch). ``shuffle`` draws a new order
    each epoch from ``seed``."""

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label", seed=0):
        dname, data = _single(data, "data")
        opts = _capi.DataIterNDArrayOptions()
        opts.struct_size = ctypes.sizeof(opts)
        dshape = (ctypes.c_int64 * data.ndim)(*data.shape)
        opts.data = data.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        opts.data_shape = dshape
        opts.data_ndim = data.ndim
        if label is not None:
            lname, label = _single(label, "label")
            label_name = lname or label_name
            lshape = (ctypes.c_int64 * label.ndim)(*label.shape)
            opts.label = label.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            opts.label_shape = lshape
            opts.label_ndim = label.ndim
        opts.batch_size = int(batch_size)
        opts.shuffle = 1 if shuffle else 0
        opts.last_batch_handle = _last_batch_code(last_batch_handle)
        opts.seed = int(seed)
        handle = DataIterHandle()
        check_call(lib.mx_data_iter_create_ndarray(ctypes.byref(opts), ctypes.byref(handle)))
        super().__init__(handle, int(batch_size), dname or data_name, label_name)


class MNISTIter(_LibIter):
    """Batches of MNIST-format IDX files, gzip'ed or plain: pixels in [0, 1], labels as class
    indices. ``flat``: samples of 784 values, else (1, 28, 28). A path that does not exist is
    tried with ``.gz`` added (or removed), so ``DIR/train-images-idx3-ubyte`` finds either
    form; gzip'ed files are recognised by their first bytes, not their name. ``num_parts`` /
    ``part_index``: read only that contiguous part of the file (one per distributed worker)."""

    def __init__(self, image, label, batch_size=128, shuffle=True, flat=False, seed=0,
                 last_batch_handle="pad", data_name="data", label_name="softmax_label",
                 silent=True, num_parts=1, part_index=0, **kwargs):
        del silent  # the library logs nothing unless asked (MX_LOG_LEVEL)
        if kwargs:
            raise MXError("MNISTIter: unknown arguments %s" % ", ".join(sorted(kwargs)))
        opts = _capi.DataIterMNISTOptions()
        opts.struct_size = ctypes.sizeof(opts)
        opts.image_path = c_str(image)
        opts.label_path = c_str(label)
        opts.batch_size = int(batch_size)
        opts.shuffle = 1 if shuffle else 0
        opts.flat = 1 if flat else 0
        opts.seed = int(seed)
        opts.last_batch_handle = _last_batch_code(last_batch_handle)
        opts.num_parts = int(num_parts)
        opts.part_index = int(part_index)
        handle = DataIterHandle()
        check_call(lib.mx_data_iter_create_mnist(ctypes.byref(opts), ctypes.byref(handle)))
        super().__init__(handle, int(batch_size), data_name, label_name)
