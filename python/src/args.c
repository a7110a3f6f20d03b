/*
 * args.c — argument conversion shared by the types: texts (str or bytes)
 * to UTF-8 pointer/length arrays, bytes to str, array-likes of integers to
 * int64 arrays, store rows to a checked uint32 buffer.
 *
 * Words are byte strings in the library.  A str is passed as its UTF-8
 * bytes; a word that is not valid UTF-8 comes back as a str with lone
 * surrogates ('surrogateescape'), and is encoded back the same way, so
 * every stored word round-trips.  Not here: any policy on what a word is.
 */
#include "wbpy.h"

#include <stdlib.h>

/* Bytes of one str/bytes object; *keep gets the object that owns them
 * (a new reference). */
static int one_text(PyObject *o, const char **p, size_t *n, PyObject **keep) {
    Py_ssize_t len;
    if (PyUnicode_Check(o)) {
        const char *s = PyUnicode_AsUTF8AndSize(o, &len);
        if (s) {
            *p = s, *n = (size_t)len, *keep = Py_NewRef(o);
            return 0;
        }
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear();
        PyObject *b = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
        if (!b) return -1;
        o = b;
    } else if (PyBytes_Check(o)) {
        Py_INCREF(o);
    } else {
        PyErr_Format(PyExc_TypeError, "expected str or bytes, got %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    char *s;
    if (PyBytes_AsStringAndSize(o, &s, &len) < 0) {
        Py_DECREF(o);
        return -1;
    }
    *p = s, *n = (size_t)len, *keep = o;
    return 0;
}

void wbpy_texts_free(wbpy_texts *t) {
    free(t->ptr);
    free(t->len);
    Py_CLEAR(t->keep);
    t->ptr = NULL, t->len = NULL, t->n = 0;
}

int wbpy_texts_get(PyObject *o, int one, wbpy_texts *t) {
    t->n = 0, t->ptr = NULL, t->len = NULL, t->keep = NULL;
    PyObject *seq = NULL;
    if (one) {
        seq = PyTuple_Pack(1, o);
    } else {
        if (PyUnicode_Check(o) || PyBytes_Check(o)) {
            PyErr_SetString(PyExc_TypeError, "expected a sequence of str, got a single string");
            return -1;
        }
        seq = PySequence_Fast(o, "expected a sequence of str or bytes");
    }
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    t->ptr = malloc((size_t)(n ? n : 1) * sizeof *t->ptr);
    t->len = malloc((size_t)(n ? n : 1) * sizeof *t->len);
    t->keep = PyList_New(n);
    if (!t->ptr || !t->len || !t->keep) {
        Py_DECREF(seq);
        wbpy_texts_free(t);
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *keep;
        if (one_text(items[i], &t->ptr[i], &t->len[i], &keep) < 0) {
            Py_DECREF(seq);
            wbpy_texts_free(t);
            return -1;
        }
        PyList_SET_ITEM(t->keep, i, keep);
    }
    Py_DECREF(seq);
    t->n = (size_t)n;
    return 0;
}

PyObject *wbpy_str(const char *p, size_t n) {
    return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "surrogateescape");
}

PyArrayObject *wbpy_int64_array(PyObject *o, const char *what) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(o);
    if (!a) return NULL;
    if (PyArray_SIZE(a) > 0 && !PyArray_ISINTEGER(a)) {
        PyErr_Format(PyExc_TypeError, "%s must be integers, got an array of %.50s", what,
                     PyArray_DESCR(a)->typeobj->tp_name);
        Py_DECREF(a);
        return NULL;
    }
    PyArrayObject *r = (PyArrayObject *)PyArray_FROM_OTF((PyObject *)a, NPY_INT64,
                                                          NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    Py_DECREF(a);
    return r;
}

int wbpy_rows_u32(const int64_t *rows, size_t n, uint64_t nrows, uint32_t **out) {
    for (size_t i = 0; i < n; i++)
        if (rows[i] < 0 || (uint64_t)rows[i] >= nrows) {
            PyErr_Format(PyExc_IndexError, "row %lld out of range: the store has %llu rows",
                         (long long)rows[i], (unsigned long long)nrows);
            return -1;
        }
    uint32_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < n; i++) u[i] = (uint32_t)rows[i];
    *out = u;
    return 0;
}
