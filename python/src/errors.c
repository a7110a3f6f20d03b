/*
 * errors.c — the exception classes and the mapping from library error
 * codes (err.h) to them.  One class per kind of library error:
 *
 *   wordbench.Error(Exception)              every library error; .code,
 *                                           .file, .line, .offset
 *   NotFoundError(Error, KeyError)          WB_ENOTFOUND
 *   CorruptError(Error)                     WB_ECORRUPT
 *   VersionError(Error)                     WB_EVERSION
 *   UsageError(Error, ValueError)           WB_EUSAGE (and a closed object)
 *   FormatError(Error, ValueError)          WB_EFORMAT
 *   FileError(Error, OSError)               a positive errno (.errno set)
 *   Error itself                            WB_ELMDB, WB_EIO, WB_EEXIST, ...
 *   MemoryError (Python's)                  WB_ENOMEM
 *
 * The message is the library's, formatted as the CLI prints it
 * ("file:line: msg").  Not here: deciding what is an error.
 */
#include "wbpy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static PyObject *Error, *NotFoundError, *CorruptError, *VersionError, *UsageError, *FormatError, *FileError;

static PyObject *new_class(PyObject *m, const char *name, PyObject *bases, const char *doc) {
    char full[64];
    snprintf(full, sizeof full, "wordbench.%s", name);
    PyObject *c = PyErr_NewExceptionWithDoc(full, doc, bases, NULL);
    Py_XDECREF(bases);
    if (!c) return NULL;
    if (PyModule_AddObjectRef(m, name, c) < 0) {
        Py_DECREF(c);
        return NULL;
    }
    return c;
}

int wbpy_errors_init(PyObject *m) {
    Error = new_class(m, "Error", NULL,
                      "An error reported by libwordbench.  Attributes: code (the library's error code, "
                      "negative, or a positive errno), file, line, offset (where in the data, when known).");
    if (!Error) return -1;
    NotFoundError = new_class(m, "NotFoundError", PyTuple_Pack(2, Error, PyExc_KeyError),
                              "A word or row is not in the store (also a KeyError).");
    CorruptError = new_class(m, "CorruptError", PyTuple_Pack(1, Error),
                             "A store or model file is damaged or truncated.");
    VersionError = new_class(m, "VersionError", PyTuple_Pack(1, Error),
                             "A file has a format version this build cannot read.");
    UsageError = new_class(m, "UsageError", PyTuple_Pack(2, Error, PyExc_ValueError),
                           "An argument is out of range, or the object is closed (also a ValueError).");
    FormatError = new_class(m, "FormatError", PyTuple_Pack(2, Error, PyExc_ValueError),
                            "Input data is malformed (also a ValueError).");
    FileError = new_class(m, "FileError", PyTuple_Pack(2, Error, PyExc_OSError),
                          "A system call failed (also an OSError: .errno, .strerror, .filename).");
    return NotFoundError && CorruptError && VersionError && UsageError && FormatError && FileError ? 0 : -1;
}

static PyObject *class_of(int code) {
    switch (code) {
    case WB_ENOTFOUND: return NotFoundError;
    case WB_ECORRUPT: return CorruptError;
    case WB_EVERSION: return VersionError;
    case WB_EUSAGE: return UsageError;
    case WB_EFORMAT: return FormatError;
    default: return code > 0 ? FileError : Error;
    }
}

static int set_attr(PyObject *o, const char *name, PyObject *v) {
    if (!v) return -1;
    int rc = PyObject_SetAttrString(o, name, v);
    Py_DECREF(v);
    return rc;
}

PyObject *wbpy_raise(int code, const wb_err *e) {
    if (code == WB_ENOMEM) return PyErr_NoMemory();
    int have = e && e->msg[0];
    char buf[2048];
    PyObject *cls = class_of(code), *inst = NULL, *msg;
    if (code > 0) {
        /* OSError's constructor: (errno, strerror[, filename]) */
        const char *text = have ? e->msg : strerror(code);
        msg = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "backslashreplace");
        if (msg && e && e->file[0]) {
            PyObject *fn = PyUnicode_DecodeFSDefault(e->file);
            if (fn) inst = PyObject_CallFunction(cls, "iOO", code, msg, fn);
            Py_XDECREF(fn);
        } else if (msg) {
            inst = PyObject_CallFunction(cls, "iO", code, msg);
        }
    } else {
        if (have) wb_err_format(e, buf, sizeof buf);
        else snprintf(buf, sizeof buf, "%s", wb_strerror(code));
        msg = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)strlen(buf), "backslashreplace");
        if (msg) inst = PyObject_CallFunctionObjArgs(cls, msg, NULL);
    }
    Py_XDECREF(msg);
    if (!inst) return NULL;
    if (set_attr(inst, "code", PyLong_FromLong(code)) < 0 ||
        set_attr(inst, "file", have && e->file[0] ? PyUnicode_DecodeFSDefault(e->file) : Py_NewRef(Py_None)) < 0 ||
        set_attr(inst, "line", have && e->line > 0 ? PyLong_FromLongLong(e->line) : Py_NewRef(Py_None)) < 0 ||
        set_attr(inst, "offset", have && e->offset >= 0 ? PyLong_FromLongLong(e->offset) : Py_NewRef(Py_None)) < 0) {
        Py_DECREF(inst);
        return NULL;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(inst), inst);
    Py_DECREF(inst);
    return NULL;
}

PyObject *wbpy_usage(const char *fmt, ...) {
    wb_err e;
    wb_err_clear(&e);
    e.code = WB_EUSAGE;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return wbpy_raise(WB_EUSAGE, &e);
}
