/* mx._fast: the Python binding's hot paths in C (optional; the binding runs without it).
 *
 * A small op called from Python through ctypes costs more in the binding than in the library:
 * building ctypes arguments, wrapping handles and running Python-level __del__ come to about
 * 1 us per op (bench/op_latency_py.py). This module does the same calls from C:
 *
 *   - NDArrayBase, the base class of mx.nd.NDArray: holds the library's handle as a plain
 *     pointer, frees it in tp_dealloc, and implements `+ - * /`, `a[i]`, `a[i:j]`, asnumpy()
 *     and asscalar() for the common cases;
 *   - invoke(), ndarray.invoke's fast path;
 *   - OpFunction, the callable behind each generated mx.nd.<op>.
 *
 * Every fast path handles only plain cases (NDArrays, str parameters, int and float scalars)
 * and hands anything else, unchanged, to the pure-Python implementation it replaces (the
 * "fallbacks", registered by mx.ndarray at import), so the two can never disagree on an error
 * message or an unusual argument. MX_PY_FAST=0 runs the binding without this module; the
 * Python tests run both ways.
 *
 * The module does not link libmx: mx.base passes it the addresses of the C ABI functions that
 * ctypes loaded, so both always speak to the same library. It needs only include/mx/c_api.h's
 * declarations, repeated below as function pointer types.
 *
 * Calls that may block (copying values to the host waits for pending writes) release the GIL,
 * as ctypes does: a pending op may need it (an executor's monitor callback). The others (invoke,
 * slice, free) return at once by the C ABI's contract and keep it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

/* ---- the C ABI, as function pointers set by setup() ------------------------------------ */

typedef int32_t (*invoke_fn)(const char*, int32_t, void* const*, int32_t, const char* const*,
                             const char* const*, int32_t*, void***);
typedef int32_t (*invoke_into_fn)(const char*, int32_t, void* const*, int32_t, const char* const*,
                                  const char* const*, int32_t, void* const*);
typedef int32_t (*free_fn)(void*);
typedef int32_t (*view_fn)(void*, int64_t, int64_t, void**);
typedef int32_t (*at_fn)(void*, int64_t, void**);
typedef int32_t (*shape_fn)(void*, int32_t*, const int64_t**);
typedef int32_t (*dtype_fn)(void*, int32_t*);
typedef int32_t (*copy_fn)(void*, void*, size_t);

static struct {
  invoke_fn invoke;
  invoke_into_fn invoke_into;
  free_fn free;
  view_fn slice;
  at_fn at;
  shape_fn shape;
  dtype_fn dtype;
  copy_fn copy_to_host;
} capi;

/* Set by setup() / set_class(); all references owned by the module for the process's life. */
static PyObject* handle_type;       /* mx._capi.NDArrayHandle (ctypes c_void_p) */
static PyObject* check_call;        /* mx.base.check_call: raises MXError for a status */
static PyObject* np_dtype;          /* mx.ndarray.np_dtype: a dtype code's numpy type */
static PyTypeObject* nd_type;       /* mx.nd.NDArray, the class of every result */
static PyObject* invoke_slow;       /* the pure-Python invoke */
static PyArray_Descr* descr_of[32]; /* dtype code -> numpy descr, filled on first use */

enum { F_ADD, F_SUB, F_RSUB, F_MUL, F_DIV, F_RDIV, F_GETITEM, F_ASNUMPY, F_ASSCALAR, F_COUNT };
static const char* const fallback_names[F_COUNT] = {"__add__",     "__sub__",     "__rsub__",
                                                    "__mul__",     "__truediv__", "__rtruediv__",
                                                    "__getitem__", "asnumpy",     "asscalar"};
static PyObject* fallback[F_COUNT]; /* the pure-Python methods of those names */

#define MAX_ARGS 32 /* inputs or parameters a fast call takes; more go to the fallback */

/* Every fast path starts here: mx.ndarray calls setup() and set_class() at import, but a program
 * could make the module's objects by hand before that. */
static int not_ready(void) {
  if (nd_type != NULL && capi.invoke != NULL) return 0;
  PyErr_SetString(PyExc_RuntimeError,
                  "mx._fast is not set up: import mx (mx.ndarray sets it up) before using it");
  return 1;
}

static PyObject* raise_status(int32_t status) {
  PyObject* r = PyObject_CallFunction(check_call, "i", (int)status);
  if (r != NULL) { /* check_call returned: it did not consider it an error */
    Py_DECREF(r);
    PyErr_Format(PyExc_RuntimeError, "libmx returned status %d", (int)status);
  }
  return NULL;
}

/* ---- NDArrayBase ------------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD void* h; /* the library's handle; NULL after free() */
  PyObject* handle_obj;  /* the ctypes NDArrayHandle of h, made on first .handle read */
  PyObject* shape;       /* _shape: the shape tuple once read (None: not yet) */
  PyObject* dtype;       /* _dtype: the numpy type once read */
  PyObject* view_of;     /* _view_of: (base, start, stop) of a slice view */
  PyObject* weakrefs;
  char writable;
} Base;

static PyTypeObject BaseType;

#define IS_BASE(o) PyObject_TypeCheck((o), &BaseType)

static int base_traverse(Base* self, visitproc visit, void* arg) {
  Py_VISIT(self->handle_obj);
  Py_VISIT(self->shape);
  Py_VISIT(self->dtype);
  Py_VISIT(self->view_of);
  return 0;
}

static int base_clear(Base* self) {
  Py_CLEAR(self->handle_obj);
  Py_CLEAR(self->shape);
  Py_CLEAR(self->dtype);
  Py_CLEAR(self->view_of);
  return 0;
}

static void base_dealloc(Base* self) {
  PyObject_GC_UnTrack(self);
  if (self->weakrefs != NULL) PyObject_ClearWeakRefs((PyObject*)self);
  if (self->h != NULL && capi.free != NULL) capi.free(self->h); /* cannot fail for a live one */
  self->h = NULL;
  base_clear(self);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

/* A new mx.nd.NDArray owning handle h (freed here if the object cannot be made). */
static PyObject* wrap(void* h, char writable) {
  Base* a = (Base*)nd_type->tp_alloc(nd_type, 0);
  if (a == NULL) {
    capi.free(h);
    return NULL;
  }
  a->h = h;
  a->writable = writable;
  return (PyObject*)a;
}

/* The pointer a Python value stands for: None, an int, or a ctypes pointer (its .value). */
static int pointer_of(PyObject* v, void** out) {
  if (v == Py_None) {
    *out = NULL;
    return 0;
  }
  PyObject* value;
  if (PyLong_Check(v)) {
    Py_INCREF(v);
    value = v;
  } else if (PyObject_TypeCheck(v, (PyTypeObject*)handle_type)) {
    value = PyObject_GetAttrString(v, "value");
    if (value == NULL) return -1;
  } else {
    PyErr_Format(PyExc_TypeError, "an NDArray's handle is an NDArrayHandle, an int or None, got %s",
                 Py_TYPE(v)->tp_name);
    return -1;
  }
  if (value == Py_None) {
    *out = NULL;
  } else {
    *out = PyLong_AsVoidPtr(value);
  }
  Py_DECREF(value);
  return PyErr_Occurred() ? -1 : 0;
}

static PyObject* base_get_handle(Base* self, void* closure) {
  (void)closure;
  if (self->h == NULL) Py_RETURN_NONE;
  if (self->handle_obj == NULL) {
    PyObject* addr = PyLong_FromVoidPtr(self->h);
    if (addr == NULL) return NULL;
    self->handle_obj = PyObject_CallOneArg(handle_type, addr);
    Py_DECREF(addr);
    if (self->handle_obj == NULL) return NULL;
  }
  Py_INCREF(self->handle_obj);
  return self->handle_obj;
}

/* Setting .handle hands the object another handle (or None, as free() does); the old one is
 * the setter's caller's to free, as with a plain attribute. */
static int base_set_handle(Base* self, PyObject* v, void* closure) {
  (void)closure;
  void* h;
  if (v == NULL) v = Py_None;
  if (pointer_of(v, &h) != 0) return -1;
  self->h = h;
  Py_CLEAR(self->handle_obj);
  if (h != NULL && PyObject_TypeCheck(v, (PyTypeObject*)handle_type)) {
    Py_INCREF(v);
    self->handle_obj = v;
  }
  return 0;
}

static int base_init(Base* self, PyObject* args, PyObject* kwds) {
  static char* kwlist[] = {"handle", "writable", NULL};
  PyObject* handle = Py_None;
  int writable = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Op", kwlist, &handle, &writable)) return -1;
  if (base_set_handle(self, handle, NULL) != 0) return -1;
  self->writable = (char)writable;
  return 0;
}

/* Fetches h's shape. Returns the number of dims, -1 with an exception set on failure. */
static int shape_of(Base* a, const int64_t** dims) {
  int32_t ndim = 0;
  int32_t status = capi.shape(a->h, &ndim, dims);
  if (status != 0) {
    raise_status(status);
    return -1;
  }
  return ndim;
}

/* The numpy descr of h's element type (a new reference), NULL with an exception set. */
static PyArray_Descr* descr_of_array(Base* a) {
  int32_t code = 0;
  int32_t status = capi.dtype(a->h, &code);
  if (status != 0) return (PyArray_Descr*)raise_status(status);
  if (code < 0 || code >= 32) {
    PyErr_Format(PyExc_RuntimeError, "libmx reported dtype code %d", (int)code);
    return NULL;
  }
  if (descr_of[code] == NULL) {
    PyObject* t = PyObject_CallFunction(np_dtype, "i", (int)code);
    if (t == NULL) return NULL;
    PyArray_Descr* d = NULL;
    int ok = PyArray_DescrConverter(t, &d);
    Py_DECREF(t);
    if (!ok) return NULL;
    descr_of[code] = d;
  }
  Py_INCREF(descr_of[code]);
  return descr_of[code];
}

static int copy_to_host(Base* a, void* data, size_t nbytes) {
  PyThreadState* saved = PyEval_SaveThread(); /* Py_BEGIN_ALLOW_THREADS */
  int32_t status = capi.copy_to_host(a->h, data, nbytes);
  PyEval_RestoreThread(saved);
  if (status != 0) {
    raise_status(status);
    return -1;
  }
  return 0;
}

static PyObject* call_fallback(int which, PyObject* a, PyObject* b) {
  return PyObject_CallFunctionObjArgs(fallback[which], a, b, NULL);
}

/* asnumpy(): the values as a new numpy array; blocks until they are computed. */
static PyObject* base_asnumpy(Base* self, PyObject* unused) {
  (void)unused;
  if (not_ready()) return NULL;
  if (self->h == NULL) return call_fallback(F_ASNUMPY, (PyObject*)self, NULL); /* its error */
  const int64_t* dims;
  int ndim = shape_of(self, &dims);
  if (ndim < 0) return NULL;
  if (ndim > NPY_MAXDIMS) {
    PyErr_Format(PyExc_ValueError, "asnumpy: %d dims is more than numpy takes", ndim);
    return NULL;
  }
  npy_intp np_dims[NPY_MAXDIMS];
  for (int i = 0; i < ndim; ++i) np_dims[i] = (npy_intp)dims[i];
  PyArray_Descr* descr = descr_of_array(self);
  if (descr == NULL) return NULL;
  PyObject* out = PyArray_Empty(ndim, np_dims, descr, 0); /* steals descr */
  if (out == NULL) return NULL;
  size_t nbytes = (size_t)PyArray_NBYTES((PyArrayObject*)out);
  if (copy_to_host(self, nbytes ? PyArray_DATA((PyArrayObject*)out) : NULL, nbytes) != 0) {
    Py_DECREF(out);
    return NULL;
  }
  return out;
}

/* asscalar(): the value of a one-element array as a numpy scalar. */
static PyObject* base_asscalar(Base* self, PyObject* unused) {
  (void)unused;
  if (not_ready()) return NULL;
  if (self->h == NULL) return call_fallback(F_ASSCALAR, (PyObject*)self, NULL);
  const int64_t* dims;
  int ndim = shape_of(self, &dims);
  if (ndim < 0) return NULL;
  int64_t size = 1;
  for (int i = 0; i < ndim; ++i) size *= dims[i];
  if (size != 1) return call_fallback(F_ASSCALAR, (PyObject*)self, NULL); /* its error */
  PyArray_Descr* descr = descr_of_array(self);
  if (descr == NULL) return NULL;
  _Alignas(16) char value[16];
  if ((size_t)descr->elsize > sizeof value) {
    Py_DECREF(descr);
    return call_fallback(F_ASSCALAR, (PyObject*)self, NULL);
  }
  PyObject* r = NULL;
  if (copy_to_host(self, value, (size_t)descr->elsize) == 0) r = PyArray_Scalar(value, descr, NULL);
  Py_DECREF(descr);
  return r;
}

/* ---- invoking an op ----------------------------------------------------------------------- */

/* One op call with everything already in C form. `out` NULL: new outputs (one NDArray, or a
 * list for several); else the op writes into out (a writable NDArray), which is returned. */
static PyObject* run_op(const char* name, int32_t n_in, void* const* in, int32_t n_params,
                        const char* const* keys, const char* const* vals, PyObject* out) {
  int32_t status;
  if (out != NULL) {
    void* h = ((Base*)out)->h;
    status = capi.invoke_into(name, n_in, in, n_params, keys, vals, 1, &h);
    if (status != 0) return raise_status(status);
    Py_INCREF(out);
    return out;
  }
  int32_t n_out = 0;
  void** outs = NULL;
  status = capi.invoke(name, n_in, in, n_params, keys, vals, &n_out, &outs);
  if (status != 0) return raise_status(status);
  if (n_out == 1) return wrap(outs[0], 1);
  /* The list is the library's until this thread's next invoke: take every handle first. */
  void* taken[MAX_ARGS];
  void** hs = n_out <= MAX_ARGS ? taken : PyMem_Malloc(sizeof(void*) * (size_t)n_out);
  if (hs == NULL) {
    for (int32_t i = 0; i < n_out; ++i) capi.free(outs[i]);
    return PyErr_NoMemory();
  }
  memcpy(hs, outs, sizeof(void*) * (size_t)n_out);
  PyObject* list = PyList_New(n_out);
  int32_t i = 0;
  for (; list != NULL && i < n_out; ++i) {
    PyObject* a = wrap(hs[i], 1); /* frees hs[i] when it fails */
    if (a == NULL) {
      Py_CLEAR(list);
    } else {
      PyList_SET_ITEM(list, i, a);
    }
  }
  for (; i < n_out; ++i) capi.free(hs[i]); /* not wrapped: a failure left them */
  if (hs != taken) PyMem_Free(hs);
  return list;
}

/* A writable NDArray given as `out`, or NULL when the fast path cannot take it. */
static int fast_out(PyObject* out, PyObject** result) {
  if (out == NULL || out == Py_None) {
    *result = NULL;
    return 1;
  }
  if (Py_TYPE(out) == nd_type && ((Base*)out)->writable && ((Base*)out)->h != NULL) {
    *result = out;
    return 1;
  }
  return 0;
}

/* The handles of a list/tuple of live NDArrays; 0 when it is anything else. */
static int fast_inputs(PyObject* seq, void** hs, Py_ssize_t* n) {
  if (!PyList_Check(seq) && !PyTuple_Check(seq)) return 0;
  Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
  if (len > MAX_ARGS) return 0;
  PyObject** items = PySequence_Fast_ITEMS(seq);
  for (Py_ssize_t i = 0; i < len; ++i) {
    if (!IS_BASE(items[i]) || ((Base*)items[i])->h == NULL) return 0;
    hs[i] = ((Base*)items[i])->h;
  }
  *n = len;
  return 1;
}

/* A dict of str -> str parameters as C arrays (borrowed UTF-8 of the dict's strings). */
static int fast_params(PyObject* params, const char** keys, const char** vals, Py_ssize_t* n) {
  *n = 0;
  if (params == NULL || params == Py_None) return 1;
  if (!PyDict_CheckExact(params) || PyDict_GET_SIZE(params) > MAX_ARGS) return 0;
  Py_ssize_t pos = 0;
  PyObject *k, *v;
  while (PyDict_Next(params, &pos, &k, &v)) {
    if (!PyUnicode_CheckExact(k) || !PyUnicode_CheckExact(v)) return 0;
    keys[*n] = PyUnicode_AsUTF8(k);
    vals[*n] = PyUnicode_AsUTF8(v);
    if (keys[*n] == NULL || vals[*n] == NULL) {
      PyErr_Clear(); /* e.g. a lone surrogate: the fallback reports it */
      return 0;
    }
    ++*n;
  }
  return 1;
}

/* invoke(op_name, inputs, params=None, out=None): mx.ndarray.invoke. */
static PyObject* fast_invoke(PyObject* module, PyObject* const* args, Py_ssize_t nargs,
                             PyObject* kwnames) {
  (void)module;
  if (not_ready()) return NULL;
  /* The four arguments, positional or by keyword (params=, out=). */
  PyObject* a[4] = {NULL, NULL, NULL, NULL};
  int plain = nargs >= 2 && nargs <= 4;
  for (Py_ssize_t i = 0; plain && i < nargs; ++i) a[i] = args[i];
  Py_ssize_t n_kw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t k = 0; plain && k < n_kw; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    int slot = PyUnicode_CompareWithASCIIString(key, "params") == 0 ? 2
               : PyUnicode_CompareWithASCIIString(key, "out") == 0  ? 3
                                                                    : -1;
    plain = slot >= 0 && a[slot] == NULL;
    if (plain) a[slot] = args[nargs + k];
  }
  if (plain && PyUnicode_CheckExact(a[0])) {
    void* in[MAX_ARGS];
    const char *keys[MAX_ARGS], *vals[MAX_ARGS];
    Py_ssize_t n_in, n_params;
    PyObject* out;
    const char* name = PyUnicode_AsUTF8(a[0]);
    if (name != NULL && fast_inputs(a[1], in, &n_in) && fast_params(a[2], keys, vals, &n_params) &&
        fast_out(a[3], &out)) {
      return run_op(name, (int32_t)n_in, in, (int32_t)n_params, keys, vals, out);
    }
    PyErr_Clear();
  }
  return PyObject_Vectorcall(invoke_slow, args, (size_t)nargs, kwnames);
}

/* ---- arithmetic --------------------------------------------------------------------------- */

struct binary_ops {
  const char* elem;    /* same shapes */
  const char* bcast;   /* broadcasting */
  const char* scalar;  /* array op number */
  const char* rscalar; /* number op array */
  int fallback, rfallback;
};

static const struct binary_ops ADD = {"elemwise_add", "broadcast_add", "_plus_scalar",
                                      "_plus_scalar", F_ADD,           F_ADD};
static const struct binary_ops SUB = {"elemwise_sub",   "broadcast_sub", "_minus_scalar",
                                      "_rminus_scalar", F_SUB,           F_RSUB};
static const struct binary_ops MUL = {"elemwise_mul", "broadcast_mul", "_mul_scalar",
                                      "_mul_scalar",  F_MUL,           F_MUL};
static const struct binary_ops DIV = {"elemwise_div", "broadcast_div", "_div_scalar",
                                      "_rdiv_scalar", F_DIV,           F_RDIV};

static int same_shape(Base* a, Base* b, int* same) {
  const int64_t *da, *db;
  int na = shape_of(a, &da);
  if (na < 0) return -1;
  int nb = shape_of(b, &db);
  if (nb < 0) return -1;
  *same = na == nb && memcmp(da, db, sizeof(int64_t) * (size_t)na) == 0;
  return 0;
}

/* array op number, with the number as repr(float(x)), as the Python path formats it. */
static PyObject* scalar_op(const char* op, Base* a, PyObject* x) {
  double v = PyFloat_Check(x) ? PyFloat_AS_DOUBLE(x) : PyLong_AsDouble(x);
  if (v == -1.0 && PyErr_Occurred()) return NULL; /* an int too large for a float */
  char* text = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
  if (text == NULL) return NULL;
  static const char* const key[1] = {"scalar"};
  const char* val[1] = {text};
  void* in[1] = {a->h};
  PyObject* r = run_op(op, 1, in, 1, key, val, NULL);
  PyMem_Free(text);
  return r;
}

static PyObject* binary(const struct binary_ops* ops, PyObject* x, PyObject* y) {
  if (not_ready()) return NULL;
  if (IS_BASE(x) && ((Base*)x)->h != NULL) {
    Base* a = (Base*)x;
    if (IS_BASE(y) && ((Base*)y)->h != NULL) {
      int same;
      if (same_shape(a, (Base*)y, &same) != 0) return NULL;
      void* in[2] = {a->h, ((Base*)y)->h};
      return run_op(same ? ops->elem : ops->bcast, 2, in, 0, NULL, NULL, NULL);
    }
    if (PyFloat_CheckExact(y) || PyLong_CheckExact(y)) return scalar_op(ops->scalar, a, y);
    return call_fallback(ops->fallback, x, y);
  }
  if (IS_BASE(x)) return call_fallback(ops->fallback, x, y); /* a freed array: its error */
  /* number op array: only y is ours (Python asks x first, then y's reflected slot) */
  if (((Base*)y)->h != NULL && (PyFloat_CheckExact(x) || PyLong_CheckExact(x)))
    return scalar_op(ops->rscalar, (Base*)y, x);
  return call_fallback(ops->rfallback, y, x);
}

static PyObject* base_add(PyObject* x, PyObject* y) { return binary(&ADD, x, y); }
static PyObject* base_sub(PyObject* x, PyObject* y) { return binary(&SUB, x, y); }
static PyObject* base_mul(PyObject* x, PyObject* y) { return binary(&MUL, x, y); }
static PyObject* base_div(PyObject* x, PyObject* y) { return binary(&DIV, x, y); }

/* ---- indexing ----------------------------------------------------------------------------- */

/* a[i] (a view of row i) and a[i:j] (a view of rows i..j); anything else to the fallback. */
static PyObject* base_getitem(Base* self, PyObject* key) {
  if (not_ready()) return NULL;
  if (self->h == NULL) return call_fallback(F_GETITEM, (PyObject*)self, key);
  if (PyLong_CheckExact(key) || PySlice_Check(key)) {
    const int64_t* dims;
    int ndim = shape_of(self, &dims);
    if (ndim < 0) return NULL;
    if (ndim == 0) return call_fallback(F_GETITEM, (PyObject*)self, key); /* its error */
    void* view = NULL;
    int32_t status;
    if (PyLong_CheckExact(key)) {
      long long i = PyLong_AsLongLong(key);
      if (i == -1 && PyErr_Occurred()) { /* beyond int64: the fallback's error */
        PyErr_Clear();
        return call_fallback(F_GETITEM, (PyObject*)self, key);
      }
      if (i < 0) i += dims[0];
      status = capi.at(self->h, (int64_t)i, &view);
      if (status != 0) return raise_status(status);
      return wrap(view, self->writable);
    }
    PySliceObject* s = (PySliceObject*)key;
    if (s->step != Py_None && !(PyLong_CheckExact(s->step) && PyLong_AsLong(s->step) == 1))
      return call_fallback(F_GETITEM, (PyObject*)self, key);
    if (s->start == Py_None && s->stop == Py_None) {
      Py_INCREF(self);
      return (PyObject*)self;
    }
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(key, &start, &stop, &step) != 0) return NULL;
    PySlice_AdjustIndices((Py_ssize_t)dims[0], &start, &stop, step);
    if (stop < start) stop = start;
    status = capi.slice(self->h, start, stop, &view);
    if (status != 0) return raise_status(status);
    PyObject* r = wrap(view, self->writable);
    if (r == NULL) return NULL;
    ((Base*)r)->view_of = Py_BuildValue("(Onn)", (PyObject*)self, start, stop);
    if (((Base*)r)->view_of == NULL) Py_CLEAR(r);
    return r;
  }
  return call_fallback(F_GETITEM, (PyObject*)self, key);
}

static PyMemberDef base_members[] = {{"_shape", T_OBJECT, offsetof(Base, shape), 0, NULL},
                                     {"_dtype", T_OBJECT, offsetof(Base, dtype), 0, NULL},
                                     {"_view_of", T_OBJECT, offsetof(Base, view_of), 0, NULL},
                                     {NULL}};

static PyObject* base_get_writable(Base* self, void* closure) {
  (void)closure;
  return PyBool_FromLong(self->writable);
}

static int base_set_writable(Base* self, PyObject* v, void* closure) {
  (void)closure;
  int truth = v == NULL ? 0 : PyObject_IsTrue(v);
  if (truth < 0) return -1;
  self->writable = (char)truth;
  return 0;
}

static PyGetSetDef base_getset[] = {
    {"writable", (getter)base_get_writable, (setter)base_set_writable,
     "whether ops may write into it", NULL},
    {"handle", (getter)base_get_handle, (setter)base_set_handle,
     "the library's handle (an NDArrayHandle; None once freed)", NULL},
    {NULL}};

static PyMethodDef base_methods[] = {
    {"asnumpy", (PyCFunction)base_asnumpy, METH_NOARGS,
     "The values as a new numpy array. Blocks until they are computed."},
    {"asscalar", (PyCFunction)base_asscalar, METH_NOARGS,
     "The value of a one-element array as a numpy scalar."},
    {NULL}};

static PyNumberMethods base_number = {
    .nb_add = base_add,
    .nb_subtract = base_sub,
    .nb_multiply = base_mul,
    .nb_true_divide = base_div,
};

static PyMappingMethods base_mapping = {
    .mp_subscript = (binaryfunc)base_getitem,
};

static PyTypeObject BaseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mx._fast.NDArrayBase",
    .tp_basicsize = sizeof(Base),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C half of mx.nd.NDArray: its handle and its hot paths.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)base_init,
    .tp_dealloc = (destructor)base_dealloc,
    .tp_traverse = (traverseproc)base_traverse,
    .tp_clear = (inquiry)base_clear,
    .tp_weaklistoffset = offsetof(Base, weakrefs),
    .tp_members = base_members,
    .tp_getset = base_getset,
    .tp_methods = base_methods,
    .tp_as_number = &base_number,
    .tp_as_mapping = &base_mapping,
};

/* ---- OpFunction: a generated mx.nd.<op> ---------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject* name; /* the op's name (str) */
  PyObject* variadic;           /* the count parameter of a variadic op (str), or NULL */
  PyObject* fallback;           /* the pure-Python function it stands for */
  PyObject* dict;               /* __name__, __doc__, ... */
  vectorcallfunc vectorcall;
  int has_ctx; /* takes a ctx parameter (used when there are no inputs) */
} OpFunction;

/* f(*arrays) or f(*arrays, out=array): everything else goes to the Python function. */
static PyObject* opfn_vectorcall(OpFunction* self, PyObject* const* args, size_t nargsf,
                                 PyObject* kwnames) {
  if (not_ready()) return NULL;
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* out = NULL;
  int fast = nargs <= MAX_ARGS && !(self->has_ctx && nargs == 0);
  if (fast && kwnames != NULL) {
    fast = PyTuple_GET_SIZE(kwnames) == 1 &&
           PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "out") == 0 &&
           fast_out(args[nargs], &out);
  }
  void* in[MAX_ARGS];
  for (Py_ssize_t i = 0; fast && i < nargs; ++i) {
    fast = IS_BASE(args[i]) && ((Base*)args[i])->h != NULL;
    if (fast) in[i] = ((Base*)args[i])->h;
  }
  if (!fast) return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
  const char* name = PyUnicode_AsUTF8(self->name);
  if (name == NULL) return NULL;
  if (self->variadic == NULL) return run_op(name, (int32_t)nargs, in, 0, NULL, NULL, out);
  char count[24];
  snprintf(count, sizeof count, "%zd", nargs);
  const char* key[1] = {PyUnicode_AsUTF8(self->variadic)};
  const char* val[1] = {count};
  if (key[0] == NULL) return NULL;
  return run_op(name, (int32_t)nargs, in, 1, key, val, out);
}

static PyObject* opfn_new(PyTypeObject* type, PyObject* args, PyObject* kwds) {
  static char* kwlist[] = {"name", "variadic", "has_ctx", "fallback", NULL};
  PyObject *name, *variadic, *fallback_fn;
  int has_ctx;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "UOpO", kwlist, &name, &variadic, &has_ctx,
                                   &fallback_fn))
    return NULL;
  OpFunction* self = (OpFunction*)type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  Py_INCREF(name);
  self->name = name;
  if (variadic != Py_None && !(PyUnicode_Check(variadic) && PyUnicode_GET_LENGTH(variadic) == 0)) {
    Py_INCREF(variadic);
    self->variadic = variadic;
  }
  Py_INCREF(fallback_fn);
  self->fallback = fallback_fn;
  self->has_ctx = has_ctx;
  self->vectorcall = (vectorcallfunc)opfn_vectorcall;
  return (PyObject*)self;
}

static int opfn_traverse(OpFunction* self, visitproc visit, void* arg) {
  Py_VISIT(self->name);
  Py_VISIT(self->variadic);
  Py_VISIT(self->fallback);
  Py_VISIT(self->dict);
  return 0;
}

static int opfn_clear(OpFunction* self) {
  Py_CLEAR(self->name);
  Py_CLEAR(self->variadic);
  Py_CLEAR(self->fallback);
  Py_CLEAR(self->dict);
  return 0;
}

static void opfn_dealloc(OpFunction* self) {
  PyObject_GC_UnTrack(self);
  opfn_clear(self);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* opfn_repr(OpFunction* self) {
  return PyUnicode_FromFormat("<mx op function %U>", self->name);
}

static PyGetSetDef opfn_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL}, {NULL}};

/* Pickled by reference, as a function is: __reduce__ returning a name makes pickle store
 * "module.name" (__module__ and __name__, set by mx.ndarray) and look it up again on loading. */
static PyObject* opfn_reduce(OpFunction* self, PyObject* unused) {
  (void)unused;
  PyObject* name = self->dict != NULL ? PyDict_GetItemString(self->dict, "__name__") : NULL;
  if (name == NULL) name = self->name;
  Py_INCREF(name);
  return name;
}

static PyMethodDef opfn_methods[] = {
    {"__reduce__", (PyCFunction)opfn_reduce, METH_NOARGS, "Pickles by reference (module.name)."},
    {NULL}};

static PyTypeObject OpFunctionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mx._fast.OpFunction",
    .tp_basicsize = sizeof(OpFunction),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "OpFunction(name, variadic, has_ctx, fallback): an operator as a function.",
    .tp_new = opfn_new,
    .tp_dealloc = (destructor)opfn_dealloc,
    .tp_traverse = (traverseproc)opfn_traverse,
    .tp_clear = (inquiry)opfn_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(OpFunction, vectorcall),
    .tp_dictoffset = offsetof(OpFunction, dict),
    .tp_getset = opfn_getset,
    .tp_methods = opfn_methods,
    .tp_repr = (reprfunc)opfn_repr,
};

/* ---- setup -------------------------------------------------------------------------------- */

static int address_of(PyObject* addresses, const char* name, void** out) {
  PyObject* v = PyDict_GetItemString(addresses, name); /* borrowed */
  if (v == NULL) {
    PyErr_Format(PyExc_KeyError, "mx._fast.setup: no address for %s", name);
    return -1;
  }
  *out = PyLong_AsVoidPtr(v);
  return PyErr_Occurred() ? -1 : 0;
}

static void keep(PyObject** slot, PyObject* v) {
  Py_INCREF(v);
  Py_XSETREF(*slot, v);
}

/* setup(addresses, handle_type, check_call, np_dtype): addresses maps C ABI function names to
 * their addresses in the loaded libmx. */
static PyObject* fast_setup(PyObject* module, PyObject* args) {
  (void)module;
  PyObject *addresses, *htype, *check, *npd;
  if (!PyArg_ParseTuple(args, "O!OOO", &PyDict_Type, &addresses, &htype, &check, &npd)) return NULL;
  if (!PyType_Check(htype)) return PyErr_Format(PyExc_TypeError, "handle_type must be a type");
  void* p[8];
  static const char* const names[8] = {
      "mx_op_invoke",  "mx_op_invoke_into",    "mx_ndarray_free",      "mx_ndarray_slice",
      "mx_ndarray_at", "mx_ndarray_get_shape", "mx_ndarray_get_dtype", "mx_ndarray_copy_to_host"};
  for (int i = 0; i < 8; ++i)
    if (address_of(addresses, names[i], &p[i]) != 0) return NULL;
  capi.invoke = (invoke_fn)p[0];
  capi.invoke_into = (invoke_into_fn)p[1];
  capi.free = (free_fn)p[2];
  capi.slice = (view_fn)p[3];
  capi.at = (at_fn)p[4];
  capi.shape = (shape_fn)p[5];
  capi.dtype = (dtype_fn)p[6];
  capi.copy_to_host = (copy_fn)p[7];
  keep(&handle_type, htype);
  keep(&check_call, check);
  keep(&np_dtype, npd);
  Py_RETURN_NONE;
}

/* set_class(ndarray_class, fallbacks, invoke): the NDArray class results are made of (a
 * subclass of NDArrayBase), the class whose methods the fast paths fall back to, and the
 * pure-Python invoke. */
static PyObject* fast_set_class(PyObject* module, PyObject* args) {
  (void)module;
  PyObject *cls, *slow, *slow_invoke;
  if (!PyArg_ParseTuple(args, "O!OO", &PyType_Type, &cls, &slow, &slow_invoke)) return NULL;
  if (!PyType_IsSubtype((PyTypeObject*)cls, &BaseType))
    return PyErr_Format(PyExc_TypeError, "set_class: %R does not derive from NDArrayBase", cls);
  PyObject* found[F_COUNT];
  for (int i = 0; i < F_COUNT; ++i) {
    found[i] = PyObject_GetAttrString(slow, fallback_names[i]);
    if (found[i] == NULL) {
      while (i--) Py_DECREF(found[i]);
      return NULL;
    }
  }
  for (int i = 0; i < F_COUNT; ++i) Py_XSETREF(fallback[i], found[i]);
  keep((PyObject**)&nd_type, cls);
  keep(&invoke_slow, slow_invoke);
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"setup", fast_setup, METH_VARARGS, "setup(addresses, handle_type, check_call, np_dtype)"},
    {"set_class", fast_set_class, METH_VARARGS, "set_class(ndarray_class, fallbacks, invoke)"},
    {"invoke", (PyCFunction)(void (*)(void))fast_invoke, METH_FASTCALL | METH_KEYWORDS,
     "invoke(op_name, inputs, params=None, out=None): mx.ndarray.invoke in C."},
    {NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fast",
    .m_doc = "libmx's Python binding: its hot paths in C.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__fast(void) {
  import_array();
  if (PyType_Ready(&BaseType) < 0 || PyType_Ready(&OpFunctionType) < 0) return NULL;
  PyObject* m = PyModule_Create(&module_def);
  if (m == NULL) return NULL;
  Py_INCREF(&BaseType);
  Py_INCREF(&OpFunctionType);
  if (PyModule_AddObject(m, "NDArrayBase", (PyObject*)&BaseType) < 0 ||
      PyModule_AddObject(m, "OpFunction", (PyObject*)&OpFunctionType) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
