/*
 * vocab.c — wordbench.Vocab: a vocabulary written by wordbench (vocab.h),
 * read from a model file (its VOCB section) or a saved vocabulary file.
 * Ids as vocab.h: 0 padding, 1 out-of-vocabulary, 2.. words by training
 * count.  Used to give StoreEmbedding the ids of a wordbench model.
 *
 * Not here: building vocabularies from text (the library's dataset does).
 */
#include "wbpy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/model.h"

typedef struct {
    PyObject_HEAD
    wb_vocab *v;      /* finished vocabulary (owned); NULL before __init__ */
} VocabObject;

PyObject *wbpy_vocab_new(wb_vocab *v) {
    VocabObject *o = PyObject_New(VocabObject, &wbpy_VocabType);
    if (!o) {
        wb_vocab_destroy(v);
        return NULL;
    }
    o->v = v;
    return (PyObject *)o;
}

static PyObject *Vocab_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args, (void)kw;
    return type->tp_alloc(type, 0);
}

/* Read a whole file into a malloc'd buffer.  Returns 0 or errno. */
static int slurp(const char *path, char **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    int rc = b ? 0 : ENOMEM;
    while (!rc) {
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                rc = ENOMEM;
                break;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) rc = EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b, *len = n;
    return 0;
}

static int Vocab_init(VocabObject *o, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"path", NULL};
    PyObject *path = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&:Vocab", kwlist, PyUnicode_FSConverter, &path)) return -1;
    if (o->v) {
        Py_DECREF(path);
        wbpy_usage("the vocabulary is already loaded");
        return -1;
    }
    const char *p = PyBytes_AS_STRING(path);
    wb_err e;
    wb_err_clear(&e);
    wb_vocab *v = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    char magic[8] = {0};
    FILE *f = fopen(p, "rb");
    rc = f ? 0 : errno;
    if (f) {
        if (fread(magic, 1, sizeof magic, f) < sizeof magic && ferror(f)) rc = EIO;
        fclose(f);
    }
    if (!rc && !memcmp(magic, "WBMODEL", 8)) {
        /* a model file: its vocabulary section */
        wb_model *m = NULL;
        wb_model_file mf;
        void *blob = NULL;
        rc = wb_model_load(&m, p, 1, &mf, &blob, &e);
        if (!rc) rc = wb_vocab_load_buf(&v, mf.vocab, mf.vocab_len, &e);
        wb_model_destroy(m);
        free(blob);
    } else if (!rc && !(rc = slurp(p, &buf, &len))) {
        rc = wb_vocab_load_buf(&v, buf, len, &e);
        if (rc && !e.file[0]) {
            char msg[sizeof e.msg];
            snprintf(msg, sizeof msg, "%s", e.msg);
            wb_err_at(&e, rc, p, 0, e.offset, "%s", msg);
        }
    }
    if (rc > 0 && !e.msg[0]) wb_err_at(&e, rc, p, 0, -1, "%s", strerror(rc));
    Py_END_ALLOW_THREADS
    free(buf);
    Py_DECREF(path);
    if (rc) {
        wbpy_raise(rc, &e);
        return -1;
    }
    o->v = v;
    return 0;
}

static void Vocab_dealloc(VocabObject *o) {
    wb_vocab_destroy(o->v);
    Py_TYPE(o)->tp_free((PyObject *)o);
}

static const wb_vocab *get(VocabObject *o) {
    if (!o->v) wbpy_usage("the vocabulary is not loaded");
    return o->v;
}

static Py_ssize_t Vocab_len(VocabObject *o) {
    const wb_vocab *v = get(o);
    return v ? (Py_ssize_t)wb_vocab_size(v) : -1;
}

/* vocab[id] -> word ('' for ids 0 and 1). */
static PyObject *Vocab_item(VocabObject *o, Py_ssize_t id) {
    const wb_vocab *v = get(o);
    if (!v) return NULL;
    if (id < 0 || (size_t)id >= wb_vocab_size(v)) {
        PyErr_Format(PyExc_IndexError, "id %zd out of range: the vocabulary has %zu ids", id, wb_vocab_size(v));
        return NULL;
    }
    size_t len;
    const char *w = wb_vocab_word(v, (int32_t)id, &len, NULL);
    return wbpy_str(w, len);
}

static PyObject *Vocab_lookup(VocabObject *o, PyObject *word) {
    const wb_vocab *v = get(o);
    wbpy_texts t;
    if (!v || wbpy_texts_get(word, 1, &t) < 0) return NULL;
    int32_t id = wb_vocab_lookup(v, t.ptr[0], t.len[0]);
    wbpy_texts_free(&t);
    return PyLong_FromLong(id);
}

static PyObject *Vocab_count(VocabObject *o, PyObject *arg) {
    const wb_vocab *v = get(o);
    Py_ssize_t id = v ? PyNumber_AsSsize_t(arg, PyExc_IndexError) : -1;
    if (id == -1 && PyErr_Occurred()) return NULL;
    PyObject *w = Vocab_item(o, id);
    if (!w) return NULL;
    Py_DECREF(w);
    uint64_t count;
    size_t len;
    wb_vocab_word(v, (int32_t)id, &len, &count);
    return PyLong_FromUnsignedLongLong(count);
}

static PyObject *Vocab_words(VocabObject *o, PyObject *unused) {
    (void)unused;
    const wb_vocab *v = get(o);
    if (!v) return NULL;
    size_t n = wb_vocab_size(v);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        size_t len;
        const char *w = wb_vocab_word(v, (int32_t)i, &len, NULL);
        PyObject *s = wbpy_str(w, len);
        if (!s) Py_CLEAR(list);
        else PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

/* rows(store) -> int64 (len,): the store row of every id, -1 when the store
 * lacks the word (always for ids 0 and 1). */
static PyObject *Vocab_rows(VocabObject *o, PyObject *store) {
    const wb_vocab *v = get(o);
    if (!v) return NULL;
    npy_intp n = (npy_intp)wb_vocab_size(v);
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_INT64);
    wb_store *st = out ? wbpy_store_pin(store) : NULL;
    if (!st) {
        Py_XDECREF(out);
        return NULL;
    }
    wb_err e;
    wb_err_clear(&e);
    int64_t *rows = PyArray_DATA(out);
    int rc;
    wbpy_store_lock(store);
    Py_BEGIN_ALLOW_THREADS
    rc = wb_vocab_rows(v, st, rows, NULL, &e);
    Py_END_ALLOW_THREADS
    wbpy_store_unlock(store);
    wbpy_store_unpin(store);
    if (rc) {
        Py_DECREF(out);
        return wbpy_raise(rc, &e);
    }
    return (PyObject *)out;
}

static PyMethodDef Vocab_methods[] = {
    {"lookup", (PyCFunction)Vocab_lookup, METH_O, "lookup(word) -> id (1 when the word is not in the vocabulary)"},
    {"count", (PyCFunction)Vocab_count, METH_O, "count(id) -> the word's count in the training split"},
    {"words", (PyCFunction)Vocab_words, METH_NOARGS, "words() -> list of str, index = id ('' for ids 0 and 1)"},
    {"rows", (PyCFunction)Vocab_rows, METH_O,
     "rows(store) -> int64 array: the store row of every id, -1 where the store lacks the word"},
    {NULL, NULL, 0, NULL}};

static PySequenceMethods Vocab_as_sequence = {.sq_length = (lenfunc)Vocab_len, .sq_item = (ssizeargfunc)Vocab_item};

PyTypeObject wbpy_VocabType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wordbench.Vocab",
    .tp_basicsize = sizeof(VocabObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Vocab(path)\n\nA vocabulary written by wordbench: the one inside a model file (.wbm) or a saved "
              "vocabulary.  Ids: 0 padding, 1 out-of-vocabulary, 2.. words by training count; vocab[id] is the "
              "word ('' for 0 and 1), len(vocab) the number of ids.",
    .tp_new = Vocab_new,
    .tp_init = (initproc)Vocab_init,
    .tp_dealloc = (destructor)Vocab_dealloc,
    .tp_methods = Vocab_methods,
    .tp_as_sequence = &Vocab_as_sequence,
};
