/*
 * wbpy.h — what the C files of the extension wordbench._wordbench share:
 * numpy's C API set-up, error conversion (errors.c), argument conversion
 * (args.c) and the types (store.c, vocab.c, model.c).
 *
 * The binding is thin (docs/python.md): it converts arguments, calls the
 * library's public API, converts results and errors.  The GIL is released
 * around every call that may take long (look-ups of many words, gathers,
 * neighbour searches, verify, predict); objects that such a call uses are
 * pinned first so that another thread cannot close them meanwhile.
 */
#ifndef WBPY_H
#define WBPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL wbpy_ARRAY_API
#ifndef WBPY_IMPORT_ARRAY /* only module.c calls import_array() */
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <pythread.h>
#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/store.h"
#include "wordbench/vocab.h"

/* ---- errors.c ----------------------------------------------------------- */

/* Create wordbench.Error and its subclasses and add them to module m.
 * Returns 0 or -1 (exception set). */
int wbpy_errors_init(PyObject *m);

/* Raise the exception of library code `code` (negative WB_E*, or a positive
 * errno) with the message of e (may be NULL or empty: wb_strerror(code) is
 * used).  Always returns NULL. */
PyObject *wbpy_raise(int code, const wb_err *e);

/* Raise wordbench.UsageError with a printf-style message; returns NULL. */
PyObject *wbpy_usage(const char *fmt, ...);

/* ---- args.c ------------------------------------------------------------- */

/* UTF-8 bytes of n texts (str or bytes).  A str with lone surrogates (a
 * word that is not valid UTF-8, decoded with 'surrogateescape') is encoded
 * back the same way, so such words round-trip.  ptr[i] stays valid while
 * the holder lives (it keeps every object whose buffer is used). */
typedef struct wbpy_texts {
    size_t n;            /* number of texts */
    const char **ptr;    /* (n) UTF-8 bytes, not NUL-terminated */
    size_t *len;         /* (n) byte lengths */
    PyObject *keep;      /* list of the objects ptr points into */
} wbpy_texts;

/* Fill t from one str/bytes (`one` = 1) or from an iterable of them.
 * Returns 0, or -1 with TypeError / MemoryError set (t is then freed). */
int wbpy_texts_get(PyObject *o, int one, wbpy_texts *t);
void wbpy_texts_free(wbpy_texts *t);

/* A str from n bytes of UTF-8 (invalid bytes become lone surrogates). */
PyObject *wbpy_str(const char *p, size_t n);

/* An int64 C-contiguous array from any array-like of integers (a list,
 * a numpy array of any integer dtype, a torch tensor).  Floats and other
 * kinds are a TypeError; an empty sequence is allowed. */
PyArrayObject *wbpy_int64_array(PyObject *o, const char *what);

/* Check 0 <= rows[i] < nrows for all i and copy them into a new malloc'd
 * uint32 buffer (*out, free() it).  Returns 0, or -1 with IndexError (the
 * message names the first bad row) or MemoryError set. */
int wbpy_rows_u32(const int64_t *rows, size_t n, uint64_t nrows, uint32_t **out);

/* ---- lock.c ------------------------------------------------------------- */

/* tp_alloc an object of `type` and allocate the PyThread lock its struct
 * holds at lock_offset (offsetof).  NULL with MemoryError on failure. */
PyObject *wbpy_alloc_locked(PyTypeObject *type, size_t lock_offset);

/* Acquire l; when another thread holds it, wait without the GIL. */
void wbpy_lock_wait(PyThread_type_lock l);

/* ---- store.c ------------------------------------------------------------ */

extern PyTypeObject wbpy_StoreType;

/* The handle of a Store object, pinned (so a close() from another thread
 * waits for wbpy_store_unpin), or NULL with an exception set (not a Store,
 * or closed).  Call with the GIL held. */
wb_store *wbpy_store_pin(PyObject *store);
void wbpy_store_unpin(PyObject *store);

/* Serialise LMDB look-ups on a pinned store (one read transaction per
 * handle, store.h): lock waits without holding the GIL. */
void wbpy_store_lock(PyObject *store);
void wbpy_store_unlock(PyObject *store);

/* ---- vocab.c ------------------------------------------------------------ */

extern PyTypeObject wbpy_VocabType;

/* A Vocab object that owns v (destroyed with it, also when this fails). */
PyObject *wbpy_vocab_new(wb_vocab *v);

/* ---- model.c ------------------------------------------------------------ */

extern PyTypeObject wbpy_ModelType;

#endif /* WBPY_H */
