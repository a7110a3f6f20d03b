/*
 * store.c — wordbench._wordbench._Store, the C half of wordbench.Store
 * (python/wordbench/store.py adds the gensim-style API on top).
 *
 * One object wraps one wb_store handle (store.h).  Life cycle: open in
 * __init__, close() marks the object closed; the handle itself is released
 * when nothing uses it any more: arrays over the mapping (vectors, norms)
 * and calls running without the GIL each hold a pin, so close() from one
 * thread never unmaps pages that another thread or a live numpy array still
 * reads.  LMDB look-ups share one read transaction per handle: they take
 * the object's lock (waiting without the GIL).  Gathers and neighbour
 * searches need no lock and run in parallel.
 *
 * Not here: anything gensim-like (store.py), writing stores.
 */
#include "wbpy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wordbench/similar.h"

typedef struct {
    PyObject_HEAD
    wb_store *st;             /* NULL before __init__ and once released */
    PyThread_type_lock lock;  /* one LMDB look-up at a time (store.h) */
    int closed;               /* close() was called */
    Py_ssize_t pins;          /* arrays over the mapping + calls without the GIL */
    PyObject *path;           /* the directory as given (str), or NULL */
} StoreObject;

#define LOOKUP_NOGIL 64 /* look up at least this many words without the GIL */

/* ---- life cycle ---------------------------------------------------------- */

static void release_if_unused(StoreObject *s) {
    if (s->closed && s->pins == 0 && s->st) {
        wb_store_close(s->st);
        s->st = NULL;
    }
}

wb_store *wbpy_store_pin(PyObject *o) {
    if (!PyObject_TypeCheck(o, &wbpy_StoreType)) {
        PyErr_Format(PyExc_TypeError, "expected a wordbench.Store, got %.100s", Py_TYPE(o)->tp_name);
        return NULL;
    }
    StoreObject *s = (StoreObject *)o;
    if (!s->st || s->closed) {
        wbpy_usage(s->st || s->closed ? "the store is closed" : "the store is not open");
        return NULL;
    }
    s->pins++;
    return s->st;
}

void wbpy_store_unpin(PyObject *o) {
    StoreObject *s = (StoreObject *)o;
    s->pins--;
    release_if_unused(s);
}

void wbpy_store_lock(PyObject *o) { wbpy_lock_wait(((StoreObject *)o)->lock); }

void wbpy_store_unlock(PyObject *o) { PyThread_release_lock(((StoreObject *)o)->lock); }

static PyObject *Store_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args, (void)kw;
    return wbpy_alloc_locked(type, offsetof(StoreObject, lock));
}

static int Store_init(StoreObject *s, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"path", NULL};
    PyObject *path = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&:Store", kwlist, PyUnicode_FSDecoder, &path)) return -1;
    if (s->st || s->closed) {
        Py_DECREF(path);
        wbpy_usage("the store is already open");
        return -1;
    }
    PyObject *bytes = PyUnicode_EncodeFSDefault(path);
    if (!bytes) {
        Py_DECREF(path);
        return -1;
    }
    wb_err e;
    wb_err_clear(&e);
    wb_store *st = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = wb_store_open(&st, PyBytes_AS_STRING(bytes), &e);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
    if (rc) {
        wb_store_close(st);
        Py_DECREF(path);
        wbpy_raise(rc, &e);
        return -1;
    }
    s->st = st;
    Py_XSETREF(s->path, path);
    return 0;
}

static void Store_dealloc(StoreObject *s) {
    /* pins are held by objects that keep a reference to s: none is left */
    if (s->st) wb_store_close(s->st);
    if (s->lock) PyThread_free_lock(s->lock);
    Py_XDECREF(s->path);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *Store_close(StoreObject *s, PyObject *unused) {
    (void)unused;
    s->closed = 1;
    release_if_unused(s);
    Py_RETURN_NONE;
}

static PyObject *Store_enter(StoreObject *s, PyObject *unused) {
    (void)unused;
    if (!wbpy_store_pin((PyObject *)s)) return NULL;
    wbpy_store_unpin((PyObject *)s);
    return Py_NewRef(s);
}

static PyObject *Store_exit(StoreObject *s, PyObject *args) {
    (void)args;
    return Store_close(s, NULL);
}

/* The open handle (not pinned) for calls that keep the GIL, or NULL. */
static wb_store *open_handle(StoreObject *s) {
    if (!wbpy_store_pin((PyObject *)s)) return NULL;
    s->pins--;
    return s->st;
}

/* ---- description --------------------------------------------------------- */

static PyObject *Store_get_closed(StoreObject *s, void *unused) {
    (void)unused;
    return PyBool_FromLong(s->closed || !s->st);
}

static PyObject *Store_get_path(StoreObject *s, void *unused) {
    (void)unused;
    return Py_NewRef(s->path ? s->path : Py_None);
}

/* The fields of `wordbench info --json`, with the same names and forms. */
static PyObject *Store_get_info(StoreObject *s, void *unused) {
    (void)unused;
    wb_store *st = open_handle(s);
    if (!st) return NULL;
    const wb_store_info *in = wb_store_info_get(st);
    char created[64], fp[32];
    time_t t = (time_t)in->created;
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)in->fingerprint);
    PyObject *source = wbpy_str(in->source, strlen(in->source));
    if (!source) return NULL;
    return Py_BuildValue("{sOsIsKsIsssOsNsKsOsssKsKsKsKsssssKsKsKsK}", "store", s->path, "format_version",
                         (unsigned)in->format_version, "rows", (unsigned long long)in->rows, "dim", (unsigned)in->dim,
                         "dtype", wb_dtype_name(in->dtype), "normalized", in->normalized ? Py_True : Py_False,
                         "source", source, "source_bytes", (unsigned long long)in->source_bytes, "source_gzip",
                         in->source_gzip ? Py_True : Py_False, "source_format", in->source_format, "duplicates",
                         (unsigned long long)in->duplicates, "skipped", (unsigned long long)in->skipped,
                         "invalid_utf8", (unsigned long long)in->invalid_utf8, "long_words",
                         (unsigned long long)in->long_words, "created", created, "fingerprint", fp, "blocks",
                         (unsigned long long)in->nblocks, "vectors_bytes", (unsigned long long)in->vectors_bytes,
                         "norms_bytes", (unsigned long long)in->norms_bytes, "index_bytes",
                         (unsigned long long)in->index_bytes);
}

static Py_ssize_t Store_len(StoreObject *s) {
    wb_store *st = open_handle(s);
    if (!st) return -1;
    return (Py_ssize_t)wb_store_info_get(st)->rows;
}

/* ---- look-ups ------------------------------------------------------------ */

/* _lookup(word) -> row, or -1 when the word is missing. */
static PyObject *Store_lookup(StoreObject *s, PyObject *word) {
    wbpy_texts t;
    if (wbpy_texts_get(word, 1, &t) < 0) return NULL;
    wb_store *st = wbpy_store_pin((PyObject *)s);
    if (!st) {
        wbpy_texts_free(&t);
        return NULL;
    }
    uint32_t row = 0;
    wbpy_store_lock((PyObject *)s);
    int rc = wb_store_lookup(st, t.ptr[0], t.len[0], &row);
    wbpy_store_unlock((PyObject *)s);
    wbpy_store_unpin((PyObject *)s);
    wbpy_texts_free(&t);
    if (rc == WB_ENOTFOUND) return PyLong_FromLong(-1);
    if (rc) return wbpy_raise(rc, NULL);
    return PyLong_FromUnsignedLong(row);
}

/* rows(words) -> int64 array, -1 where a word is missing. */
static PyObject *Store_rows(StoreObject *s, PyObject *words) {
    wbpy_texts t;
    if (wbpy_texts_get(words, 0, &t) < 0) return NULL;
    npy_intp n = (npy_intp)t.n;
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_INT64);
    wb_store *st = out ? wbpy_store_pin((PyObject *)s) : NULL;
    if (!st) {
        Py_XDECREF(out);
        wbpy_texts_free(&t);
        return NULL;
    }
    int64_t *rows = PyArray_DATA(out);
    int rc;
    wbpy_store_lock((PyObject *)s);
    if (t.n >= LOOKUP_NOGIL) {
        Py_BEGIN_ALLOW_THREADS
        rc = wb_store_lookup_many(st, t.n, t.ptr, t.len, rows, NULL);
        Py_END_ALLOW_THREADS
    } else {
        rc = wb_store_lookup_many(st, t.n, t.ptr, t.len, rows, NULL);
    }
    wbpy_store_unlock((PyObject *)s);
    wbpy_store_unpin((PyObject *)s);
    wbpy_texts_free(&t);
    if (rc) {
        Py_DECREF(out);
        return wbpy_raise(rc, NULL);
    }
    return (PyObject *)out;
}

/* words(rows) -> list of str (the word of each row). */
static PyObject *Store_words(StoreObject *s, PyObject *arg) {
    PyArrayObject *a = wbpy_int64_array(arg, "rows");
    if (!a) return NULL;
    wb_store *st = wbpy_store_pin((PyObject *)s);
    if (!st) {
        Py_DECREF(a);
        return NULL;
    }
    size_t n = (size_t)PyArray_SIZE(a);
    const int64_t *rows = PyArray_DATA(a);
    uint32_t *u = NULL;
    PyObject *list = NULL;
    if (wbpy_rows_u32(rows, n, wb_store_info_get(st)->rows, &u) == 0 && (list = PyList_New((Py_ssize_t)n))) {
        wbpy_store_lock((PyObject *)s);
        for (size_t i = 0; i < n; i++) {
            const char *w;
            size_t len;
            int rc = wb_store_word(st, u[i], &w, &len);
            PyObject *str = rc ? wbpy_raise(rc, NULL) : wbpy_str(w, len);
            if (!str) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, str);
        }
        wbpy_store_unlock((PyObject *)s);
    }
    free(u);
    wbpy_store_unpin((PyObject *)s);
    Py_DECREF(a);
    return list;
}

/* ---- rows and the mapped matrix ------------------------------------------ */

/* gather(rows, out=None) -> float32 array rows.shape + (dim,). */
static PyObject *Store_gather(StoreObject *s, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"rows", "out", NULL};
    PyObject *rows_o, *out_o = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:gather", kwlist, &rows_o, &out_o)) return NULL;
    PyArrayObject *a = wbpy_int64_array(rows_o, "rows");
    if (!a) return NULL;
    wb_store *st = wbpy_store_pin((PyObject *)s);
    if (!st) {
        Py_DECREF(a);
        return NULL;
    }
    const size_t E = wb_store_info_get(st)->dim;
    int nd = PyArray_NDIM(a);
    npy_intp dims[NPY_MAXDIMS];
    PyArrayObject *out = NULL;
    uint32_t *u = NULL;
    size_t n = (size_t)PyArray_SIZE(a);
    if (nd >= NPY_MAXDIMS) {
        wbpy_usage("rows has too many dimensions");
        goto done;
    }
    memcpy(dims, PyArray_DIMS(a), (size_t)nd * sizeof *dims);
    dims[nd] = (npy_intp)E;
    if (out_o == Py_None) {
        out = (PyArrayObject *)PyArray_SimpleNew(nd + 1, dims, NPY_FLOAT32);
        if (!out) goto done;
    } else {
        if (!PyArray_Check(out_o) || PyArray_TYPE((PyArrayObject *)out_o) != NPY_FLOAT32 ||
            !PyArray_ISCARRAY((PyArrayObject *)out_o) || (size_t)PyArray_SIZE((PyArrayObject *)out_o) != n * E) {
            wbpy_usage("out must be a writable, aligned, C-contiguous float32 array of %zu x %zu values", n, E);
            goto done;
        }
        out = (PyArrayObject *)Py_NewRef(out_o);
    }
    if (wbpy_rows_u32(PyArray_DATA(a), n, wb_store_info_get(st)->rows, &u) < 0) {
        Py_CLEAR(out);
        goto done;
    }
    float *dst = PyArray_DATA(out);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = wb_store_gather(st, n, u, dst);
    Py_END_ALLOW_THREADS
    if (rc) {
        Py_CLEAR(out);
        wbpy_raise(rc, NULL);
    }
done:
    free(u);
    wbpy_store_unpin((PyObject *)s);
    Py_DECREF(a);
    return (PyObject *)out;
}

static void capsule_unpin(PyObject *cap) {
    PyObject *s = PyCapsule_GetPointer(cap, "wordbench.store.pin");
    wbpy_store_unpin(s);
    Py_DECREF(s);
}

/* A read-only array over mapped memory, pinning the store while it lives. */
static PyObject *mapped_array(StoreObject *s, int nd, npy_intp *dims, int type, const void *data) {
    if (!wbpy_store_pin((PyObject *)s)) return NULL;
    Py_INCREF(s);
    PyObject *cap = PyCapsule_New(s, "wordbench.store.pin", capsule_unpin);
    if (!cap) {
        wbpy_store_unpin((PyObject *)s);
        Py_DECREF(s);
        return NULL;
    }
    PyObject *arr = data ? PyArray_New(&PyArray_Type, nd, dims, type, NULL, (void *)data, 0, NPY_ARRAY_C_CONTIGUOUS, NULL)
                         : PyArray_SimpleNew(nd, dims, type);
    if (!arr) {
        Py_DECREF(cap);
        return NULL;
    }
    PyArray_CLEARFLAGS((PyArrayObject *)arr, NPY_ARRAY_WRITEABLE);
    if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) { /* steals cap */
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* _vectors() -> the mapped matrix (rows, dim), read-only, no copy. */
static PyObject *Store_vectors(StoreObject *s, PyObject *unused) {
    (void)unused;
    wb_store *st = open_handle(s);
    if (!st) return NULL;
    const wb_store_info *in = wb_store_info_get(st);
    npy_intp dims[2] = {(npy_intp)in->rows, (npy_intp)in->dim};
    return mapped_array(s, 2, dims, in->dtype == WB_DTYPE_F16 ? NPY_FLOAT16 : NPY_FLOAT32, wb_store_row(st, 0));
}

/* _norms() -> the mapped norms (rows,), read-only, no copy. */
static PyObject *Store_norms(StoreObject *s, PyObject *unused) {
    (void)unused;
    wb_store *st = open_handle(s);
    if (!st) return NULL;
    npy_intp dims[1] = {(npy_intp)wb_store_info_get(st)->rows};
    return mapped_array(s, 1, dims, NPY_FLOAT32, dims[0] ? wb_store_norms(st) : NULL);
}

/* ---- similarity ---------------------------------------------------------- */

/* _query(rows, signs) -> float32 (dim,): sum of sign * row / |row|. */
static PyObject *Store_query(StoreObject *s, PyObject *args) {
    PyObject *rows_o, *signs_o;
    if (!PyArg_ParseTuple(args, "OO:_query", &rows_o, &signs_o)) return NULL;
    PyArrayObject *a = wbpy_int64_array(rows_o, "rows"), *g = a ? wbpy_int64_array(signs_o, "signs") : NULL;
    wb_store *st = g ? wbpy_store_pin((PyObject *)s) : NULL;
    if (!st) {
        Py_XDECREF(a), Py_XDECREF(g);
        return NULL;
    }
    size_t n = (size_t)PyArray_SIZE(a);
    npy_intp E = (npy_intp)wb_store_info_get(st)->dim;
    PyArrayObject *q = NULL;
    uint32_t *u = NULL;
    int *sg = NULL;
    if ((size_t)PyArray_SIZE(g) != n) {
        wbpy_usage("rows and signs differ in length");
    } else if (wbpy_rows_u32(PyArray_DATA(a), n, wb_store_info_get(st)->rows, &u) == 0) {
        sg = malloc((n ? n : 1) * sizeof *sg);
        q = sg ? (PyArrayObject *)PyArray_SimpleNew(1, &E, NPY_FLOAT32) : (PyArrayObject *)PyErr_NoMemory();
        if (q) {
            const int64_t *gs = PyArray_DATA(g);
            for (size_t i = 0; i < n; i++) sg[i] = gs[i] < 0 ? -1 : 1;
            int rc = wb_similar_query(st, n, u, sg, PyArray_DATA(q));
            if (rc) {
                Py_CLEAR(q);
                wbpy_raise(rc, NULL);
            }
        }
    }
    free(u);
    free(sg);
    wbpy_store_unpin((PyObject *)s);
    Py_DECREF(a), Py_DECREF(g);
    return (PyObject *)q;
}

/* _similar(query, k, exclude) -> (rows int64, scores float32), best first. */
static PyObject *Store_similar(StoreObject *s, PyObject *args) {
    PyObject *q_o, *ex_o;
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "OnO:_similar", &q_o, &k, &ex_o)) return NULL;
    if (k < 1) return wbpy_usage("topn must be at least 1, got %zd", k);
    PyArrayObject *q = (PyArrayObject *)PyArray_FROM_OTF(q_o, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    PyArrayObject *ex = q ? wbpy_int64_array(ex_o, "exclude") : NULL;
    wb_store *st = ex ? wbpy_store_pin((PyObject *)s) : NULL;
    if (!st) {
        Py_XDECREF(q), Py_XDECREF(ex);
        return NULL;
    }
    const wb_store_info *in = wb_store_info_get(st);
    PyObject *res = NULL;
    uint32_t *u = NULL;
    wb_neighbor *nb = NULL;
    size_t kk = (size_t)k < in->rows ? (size_t)k : (size_t)in->rows, nout = 0;
    if ((size_t)PyArray_SIZE(q) != in->dim) {
        wbpy_usage("the query vector has %zd values, the store's dim is %u", (Py_ssize_t)PyArray_SIZE(q), in->dim);
    } else if (wbpy_rows_u32(PyArray_DATA(ex), (size_t)PyArray_SIZE(ex), in->rows, &u) == 0) {
        nb = malloc((kk ? kk : 1) * sizeof *nb);
        if (!nb) {
            PyErr_NoMemory();
        } else {
            wb_err e;
            wb_err_clear(&e);
            const float *qv = PyArray_DATA(q);
            size_t nex = (size_t)PyArray_SIZE(ex);
            int rc = 0;
            if (kk) {
                Py_BEGIN_ALLOW_THREADS
                rc = wb_similar(st, qv, kk, u, nex, nb, &nout, &e);
                Py_END_ALLOW_THREADS
            }
            npy_intp dn = (npy_intp)nout;
            PyArrayObject *r = NULL, *sc = NULL;
            if (rc) {
                wbpy_raise(rc, &e);
            } else if ((r = (PyArrayObject *)PyArray_SimpleNew(1, &dn, NPY_INT64)) &&
                       (sc = (PyArrayObject *)PyArray_SimpleNew(1, &dn, NPY_FLOAT32))) {
                for (size_t i = 0; i < nout; i++) {
                    ((int64_t *)PyArray_DATA(r))[i] = nb[i].row;
                    ((float *)PyArray_DATA(sc))[i] = nb[i].score;
                }
                res = PyTuple_Pack(2, r, sc);
            }
            Py_XDECREF(r), Py_XDECREF(sc);
        }
    }
    free(nb);
    free(u);
    wbpy_store_unpin((PyObject *)s);
    Py_DECREF(q), Py_DECREF(ex);
    return res;
}

/* ---- verify -------------------------------------------------------------- */

static PyObject *Store_verify(StoreObject *s, PyObject *unused) {
    (void)unused;
    wb_store *st = wbpy_store_pin((PyObject *)s);
    if (!st) return NULL;
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    int rc;
    wbpy_store_lock((PyObject *)s);
    Py_BEGIN_ALLOW_THREADS
    rc = wb_store_verify(st, &rep, NULL, NULL, &e);
    Py_END_ALLOW_THREADS
    wbpy_store_unlock((PyObject *)s);
    wbpy_store_unpin((PyObject *)s);
    if (rc) return wbpy_raise(rc, &e);
    return Py_BuildValue("{sKsOsO}", "blocks_checked", (unsigned long long)rep.blocks_checked, "norms_ok",
                         rep.norms_ok ? Py_True : Py_False, "index_ok", rep.index_ok ? Py_True : Py_False);
}

/* ---- the type ------------------------------------------------------------ */

static PyMethodDef Store_methods[] = {
    {"close", (PyCFunction)Store_close, METH_NOARGS,
     "close()\n\nClose the store.  Arrays obtained from it stay valid: the mapping goes when the last one does."},
    {"__enter__", (PyCFunction)Store_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)Store_exit, METH_VARARGS, NULL},
    {"_lookup", (PyCFunction)Store_lookup, METH_O, "_lookup(word) -> row, or -1 when missing"},
    {"rows", (PyCFunction)Store_rows, METH_O,
     "rows(words) -> numpy int64 array: the row of each word, -1 where the word is missing."},
    {"words", (PyCFunction)Store_words, METH_O, "words(rows) -> list of str: the word of each row."},
    {"gather", (PyCFunction)(void (*)(void))Store_gather, METH_VARARGS | METH_KEYWORDS,
     "gather(rows, out=None) -> float32 array of shape rows.shape + (dim,)\n\n"
     "Copy the given rows (any order, repeats allowed) out of the mapped matrix; float16 stores are "
     "widened.  out: a C-contiguous float32 array to write into.  IndexError for a row out of range."},
    {"_vectors", (PyCFunction)Store_vectors, METH_NOARGS, NULL},
    {"_norms", (PyCFunction)Store_norms, METH_NOARGS, NULL},
    {"_query", (PyCFunction)Store_query, METH_VARARGS, NULL},
    {"_similar", (PyCFunction)Store_similar, METH_VARARGS, NULL},
    {"verify", (PyCFunction)Store_verify, METH_NOARGS,
     "verify() -> dict\n\nRecompute the block hashes and the norms hash, check the index (streams the "
     "whole store).  Raises CorruptError naming the first bad block or row."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Store_getset[] = {
    {"closed", (getter)Store_get_closed, NULL, "True once close() was called", NULL},
    {"path", (getter)Store_get_path, NULL, "the store directory, as given", NULL},
    {"info", (getter)Store_get_info, NULL, "dict: the fields of `wordbench info --json`", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PySequenceMethods Store_as_sequence = {.sq_length = (lenfunc)Store_len};

PyTypeObject wbpy_StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wordbench._wordbench._Store",
    .tp_basicsize = sizeof(StoreObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of wordbench.Store (use that).",
    .tp_new = Store_new,
    .tp_init = (initproc)Store_init,
    .tp_dealloc = (destructor)Store_dealloc,
    .tp_methods = Store_methods,
    .tp_getset = Store_getset,
    .tp_as_sequence = &Store_as_sequence,
};
