# `cpack -G DEB` in a build directory configured with -DCMAKE_INSTALL_PREFIX=/usr: one Debian package
# with the static library, headers, wordbench.pc, the CLI and (when built) the Python module.
# Depends: dpkg-shlibdeps computes the libraries from the CLI and the module (needs dpkg-dev and file);
# the Python module adds the interpreter it was built for and numpy's ABI.  tools/test.sh --package
# builds it, installs it with apt-get, uses it and removes it (CI does this on every run).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME wordbench)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "memory-mapped workbench for large word embeddings and CNN text classifiers")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "wordbench converts GloVe, word2vec and fastText vectors into memory-mapped stores (NPY matrix + LMDB\n"
  "index), queries them (look-ups, neighbours), and trains Keras-style CNN text classifiers that pull only\n"
  "each minibatch's rows.  This package holds the wordbench command, the C library (static) with its\n"
  "headers and pkg-config file, and the Python module (wordbench.Store, wordbench.Model,\n"
  "wordbench.torch.StoreEmbedding).")
set(CPACK_PACKAGE_CONTACT "wordbench developers <wordbench@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)          # wordbench_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(WB_DEB_DEPENDS)
if(WB_PYTHON_FOUND)
  list(APPEND WB_DEB_DEPENDS
    "python3 (>= ${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR})"
    "python3 (<< ${Python3_VERSION_MAJOR}.${WB_PYTHON_NEXT_MINOR})"
    "python3-numpy (>= 1:${Python3_NumPy_VERSION})" "python3-numpy-abi9")
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-torch, python3-gensim")
endif()
list(JOIN WB_DEB_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
include(CPack)
