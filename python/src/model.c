/*
 * model.c — wordbench._wordbench._Model, the C half of wordbench.Model
 * (python/wordbench/model.py adds predict with labels): a trained model
 * file loaded with its preprocessing (bundle.h), run on raw texts with the
 * CLI's code path — wb_bundle_encode then wb_model_predict, in batches —
 * so probabilities are those of `wordbench predict`.
 *
 * One model runs one batch at a time: predict takes the object's lock
 * (waiting without the GIL) and runs without the GIL; close() waits for it.
 *
 * Not here: training, eval on labelled files, explain (issue 10).
 */
#include "wbpy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/bundle.h"
#include "wordbench/dataset.h"
#include "wordbench/eval.h"
#include "wordbench/model.h"

typedef struct {
    PyObject_HEAD
    wb_bundle *b;             /* NULL before __init__ and after close() */
    PyThread_type_lock lock;  /* one batch at a time */
    size_t batch;             /* texts per forward pass (the bundle's max batch) */
} ModelObject;

static void lock_model(ModelObject *o) { wbpy_lock_wait(o->lock); }

static PyObject *Model_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args, (void)kw;
    return wbpy_alloc_locked(type, offsetof(ModelObject, lock));
}

static int Model_init(ModelObject *o, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"path", "store", "batch_size", NULL};
    PyObject *path = NULL, *store = NULL;
    Py_ssize_t batch = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|O&n:Model", kwlist, PyUnicode_FSConverter, &path,
                                     PyUnicode_FSConverter, &store, &batch))
        return -1;
    int rc = 0;
    if (batch < 1 || batch > 65536) {
        wbpy_usage("batch_size must be in [1, 65536], got %zd", batch);
        rc = -1;
    } else if (o->b) {
        wbpy_usage("the model is already loaded");
        rc = -1;
    }
    if (rc) {
        Py_DECREF(path);
        Py_XDECREF(store);
        return -1;
    }
    wb_err e;
    wb_err_clear(&e);
    wb_bundle *b = NULL;
    const char *p = PyBytes_AS_STRING(path), *sp = store ? PyBytes_AS_STRING(store) : NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = wb_bundle_load(&b, p, (size_t)batch, &e);
    if (!rc) rc = wb_bundle_attach_store(b, sp, &e);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    Py_XDECREF(store);
    if (rc) {
        wb_bundle_destroy(b);
        wbpy_raise(rc, &e);
        return -1;
    }
    o->b = b;
    o->batch = (size_t)batch;
    return 0;
}

static void Model_dealloc(ModelObject *o) {
    wb_bundle_destroy(o->b);
    if (o->lock) PyThread_free_lock(o->lock);
    Py_TYPE(o)->tp_free((PyObject *)o);
}

static wb_bundle *get(ModelObject *o) {
    if (!o->b) wbpy_usage("the model is closed");
    return o->b;
}

static PyObject *Model_close(ModelObject *o, PyObject *unused) {
    (void)unused;
    lock_model(o);
    wb_bundle_destroy(o->b);
    o->b = NULL;
    PyThread_release_lock(o->lock);
    Py_RETURN_NONE;
}

static PyObject *Model_enter(ModelObject *o, PyObject *unused) {
    (void)unused;
    if (!get(o)) return NULL;
    return Py_NewRef(o);
}

static PyObject *Model_exit(ModelObject *o, PyObject *args) {
    (void)args;
    return Model_close(o, NULL);
}

/* ---- description --------------------------------------------------------- */

static PyObject *Model_get_closed(ModelObject *o, void *unused) {
    (void)unused;
    return PyBool_FromLong(o->b == NULL);
}

static PyObject *Model_get_labels(ModelObject *o, void *unused) {
    (void)unused;
    wb_bundle *b = get(o);
    if (!b) return NULL;
    PyObject *list = PyList_New(b->nlabels);
    for (uint32_t i = 0; list && i < b->nlabels; i++) {
        PyObject *s = wbpy_str(b->labels[i], b->label_len[i]);
        if (!s) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, s);
    }
    return list;
}

/* The configuration, with the names `wordbench summary` uses. */
static PyObject *Model_get_config(ModelObject *o, void *unused) {
    (void)unused;
    wb_bundle *b = get(o);
    if (!b) return NULL;
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    PyObject *widths = PyTuple_New((Py_ssize_t)c->nwidths);
    for (size_t i = 0; widths && i < c->nwidths; i++) {
        PyObject *w = PyLong_FromSize_t(c->widths[i]);
        if (!w) Py_CLEAR(widths);
        else PyTuple_SET_ITEM(widths, (Py_ssize_t)i, w);
    }
    if (!widths) return NULL;
    return Py_BuildValue("{sssssssssnsnsnsnsNsnsdsnsdsK}", "model", wb_model_kind_name(c->kind), "embeddings",
                         wb_emb_mode_name(c->emb), "oov", wb_oov_mode_name(c->oov), "task",
                         wb_task_name(c->task), "vocab_size", (Py_ssize_t)c->V, "emb_dim",
                         (Py_ssize_t)c->E, "maxlen", (Py_ssize_t)c->T, "filters", (Py_ssize_t)c->F, "widths", widths,
                         "hidden", (Py_ssize_t)c->H, "dropout", (double)c->dropout, "outputs", (Py_ssize_t)c->C,
                         "maxnorm", (double)c->maxnorm, "seed", (unsigned long long)c->seed);
}

static PyObject *Model_get_store(ModelObject *o, void *unused) {
    (void)unused;
    wb_bundle *b = get(o);
    if (!b) return NULL;
    if (!b->store_path) Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(b->store_path);
}

/* A copy of the model's vocabulary (a Vocab outlives the model). */
static PyObject *Model_get_vocab(ModelObject *o, void *unused) {
    (void)unused;
    wb_bundle *b = get(o);
    if (!b) return NULL;
    wb_err e;
    wb_err_clear(&e);
    void *buf = NULL;
    size_t len = 0;
    wb_vocab *v = NULL;
    int rc = wb_vocab_save_buf(b->vocab, &buf, &len, &e);
    if (!rc) rc = wb_vocab_load_buf(&v, buf, len, &e);
    free(buf);
    if (rc) return wbpy_raise(rc, &e);
    return wbpy_vocab_new(v);
}

/* ---- encode and predict -------------------------------------------------- */

/* encode(text) -> int32 (maxlen,): the padded ids the model reads. */
static PyObject *Model_encode(ModelObject *o, PyObject *text) {
    wb_bundle *b = get(o);
    wbpy_texts t;
    if (!b || wbpy_texts_get(text, 1, &t) < 0) return NULL;
    npy_intp T = (npy_intp)b->maxlen;
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, &T, NPY_INT32);
    if (!out) {
        wbpy_texts_free(&t);
        return NULL;
    }
    wb_err e;
    wb_err_clear(&e);
    lock_model(o);
    int rc = o->b ? wb_bundle_encode(o->b, t.ptr[0], t.len[0], PyArray_DATA(out), NULL, &e) : -1;
    PyThread_release_lock(o->lock);
    wbpy_texts_free(&t);
    if (rc) {
        Py_DECREF(out);
        return rc == -1 ? wbpy_usage("the model is closed") : wbpy_raise(rc, &e);
    }
    return (PyObject *)out;
}

/* Encode and run n texts in batches of o->batch into prob (n, C), the
 * token count of each text into ntok (n).  Runs without the GIL.  On an
 * encoding error *bad gets the text's index. */
static int predict_all(ModelObject *o, const wbpy_texts *t, int32_t *X, float *prob, int64_t *ntok, size_t *bad,
                       wb_err *e) {
    wb_bundle *b = o->b;
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    for (size_t i = 0; i < t->n; i += o->batch) {
        size_t nb = t->n - i < o->batch ? t->n - i : o->batch;
        for (size_t j = 0; j < nb; j++) {
            size_t n = 0;
            int rc = wb_bundle_encode(b, t->ptr[i + j], t->len[i + j], X + j * c->T, &n, e);
            ntok[i + j] = (int64_t)n;
            if (rc) {
                *bad = i + j;
                return rc;
            }
        }
        int rc = wb_model_predict(b->model, X, nb, NULL, NULL, NULL, prob + i * c->C, NULL, e);
        if (rc) return rc;
    }
    return 0;
}

/* _predict(texts) -> (float32 (n, C), int64 (n,)): the model's outputs (C =
 * 1 sigmoid for a binary model; softmax or one sigmoid per label otherwise)
 * and the number of tokens of each text (0: the model saw only padding). */
static PyObject *Model_predict(ModelObject *o, PyObject *texts) {
    wb_bundle *b = get(o);
    wbpy_texts t;
    if (!b || wbpy_texts_get(texts, 0, &t) < 0) return NULL;
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    npy_intp dims[2] = {(npy_intp)t.n, (npy_intp)c->C};
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_FLOAT32);
    PyArrayObject *ntok = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT64);
    int32_t *X = malloc(o->batch * c->T * sizeof *X);
    if (!out || !ntok || !X) {
        Py_XDECREF(out);
        Py_XDECREF(ntok);
        free(X);
        wbpy_texts_free(&t);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    wb_err e;
    wb_err_clear(&e);
    size_t bad = SIZE_MAX;
    int rc;
    lock_model(o);
    if (!o->b) {
        rc = -1;
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = predict_all(o, &t, X, PyArray_DATA(out), PyArray_DATA(ntok), &bad, &e);
        Py_END_ALLOW_THREADS
    }
    PyThread_release_lock(o->lock);
    free(X);
    wbpy_texts_free(&t);
    if (!rc) {
        PyObject *res = PyTuple_Pack(2, out, ntok);
        Py_DECREF(out);
        Py_DECREF(ntok);
        return res;
    }
    Py_DECREF(out);
    Py_DECREF(ntok);
    if (rc == -1) return wbpy_usage("the model is closed");
    if (bad != SIZE_MAX) {
        char msg[sizeof e.msg];
        snprintf(msg, sizeof msg, "%s", e.msg);
        wb_err_set(&e, rc, "text %zu: %s", bad, msg);
    }
    return wbpy_raise(rc, &e);
}

/* _topk(prob (n, C) float32, k) -> uint32 (n, min(k, C)): the best k
 * columns of each row, in wb_topk's order (the CLI's, ties included). */
PyObject *wbpy_topk(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *p_o;
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "On:_topk", &p_o, &k)) return NULL;
    if (k < 1) return wbpy_usage("top_k must be at least 1, got %zd", k);
    PyArrayObject *p = (PyArrayObject *)PyArray_FROM_OTF(p_o, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY);
    if (!p) return NULL;
    if (PyArray_NDIM(p) != 2) {
        Py_DECREF(p);
        return wbpy_usage("expected a 2-d array of probabilities");
    }
    size_t n = (size_t)PyArray_DIM(p, 0), C = (size_t)PyArray_DIM(p, 1), kk = (size_t)k < C ? (size_t)k : C;
    npy_intp dims[2] = {(npy_intp)n, (npy_intp)kk};
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_UINT32);
    if (out && kk)
        for (size_t i = 0; i < n; i++)
            wb_topk((const float *)PyArray_DATA(p) + i * C, C, kk, (uint32_t *)PyArray_DATA(out) + i * kk);
    Py_DECREF(p);
    return (PyObject *)out;
}

static PyMethodDef Model_methods[] = {
    {"close", (PyCFunction)Model_close, METH_NOARGS, "close()\n\nRelease the model and its store."},
    {"__enter__", (PyCFunction)Model_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)Model_exit, METH_VARARGS, NULL},
    {"encode", (PyCFunction)Model_encode, METH_O,
     "encode(text) -> int32 array (maxlen,): the padded ids the model reads for this text"},
    {"_predict", (PyCFunction)Model_predict, METH_O, NULL},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Model_getset[] = {
    {"closed", (getter)Model_get_closed, NULL, "True once close() was called", NULL},
    {"labels", (getter)Model_get_labels, NULL, "the label names, in id order", NULL},
    {"config", (getter)Model_get_config, NULL, "dict: architecture, embeddings, sizes (as `wordbench summary`)", NULL},
    {"store", (getter)Model_get_store, NULL, "the store path recorded at training, or None", NULL},
    {"vocab", (getter)Model_get_vocab, NULL, "the model's vocabulary (a wordbench.Vocab copy)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject wbpy_ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wordbench._wordbench._Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of wordbench.Model (use that).",
    .tp_new = Model_new,
    .tp_init = (initproc)Model_init,
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_methods = Model_methods,
    .tp_getset = Model_getset,
};
