/*
 * lock.c — the objects that run one call at a time (a store's LMDB
 * look-ups, a model's batches) hold a PyThread lock: allocated with the
 * object, acquired without holding the GIL while another thread has it.
 */
#include "wbpy.h"

PyObject *wbpy_alloc_locked(PyTypeObject *type, size_t lock_offset) {
    PyObject *o = type->tp_alloc(type, 0);
    if (!o) return NULL;
    PyThread_type_lock *l = (PyThread_type_lock *)((char *)o + lock_offset);
    *l = PyThread_allocate_lock();
    if (!*l) {
        Py_DECREF(o);
        return PyErr_NoMemory();
    }
    return o;
}

void wbpy_lock_wait(PyThread_type_lock l) {
    if (PyThread_acquire_lock(l, NOWAIT_LOCK)) return;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(l, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}
