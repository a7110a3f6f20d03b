/*
 * module.c — wordbench._wordbench: numpy's C API, the exception classes,
 * the types _Store, _Model and Vocab, and the version.  Everything a user
 * calls is re-exported by python/wordbench/__init__.py.
 */
#define WBPY_IMPORT_ARRAY
#include "wbpy.h"

PyObject *wbpy_topk(PyObject *self, PyObject *args); /* model.c */

static PyMethodDef module_methods[] = {
    {"_topk", wbpy_topk, METH_VARARGS, "_topk(prob, k) -> uint32 (n, k): best columns per row, ties lower first"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "wordbench._wordbench",
    .m_doc = "The C extension of wordbench: libwordbench's store, vocabulary and model API.",
    .m_size = -1, .m_methods = module_methods};

PyMODINIT_FUNC PyInit__wordbench(void) {
    import_array();
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (wbpy_errors_init(m) < 0 || PyModule_AddStringConstant(m, "__version__", WB_VERSION) < 0 ||
        PyType_Ready(&wbpy_StoreType) < 0 || PyModule_AddObjectRef(m, "_Store", (PyObject *)&wbpy_StoreType) < 0 ||
        PyType_Ready(&wbpy_ModelType) < 0 || PyModule_AddObjectRef(m, "_Model", (PyObject *)&wbpy_ModelType) < 0 ||
        PyType_Ready(&wbpy_VocabType) < 0 || PyModule_AddObjectRef(m, "Vocab", (PyObject *)&wbpy_VocabType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
