"""Compiles the hot modules; everything else about the package is in pyproject.toml.

``doc_checker/_matchcore.pyx`` is the matcher's typed core. The modules listed in
``doc_checker/_build.py`` stay plain Python (read them, edit them, run them uncompiled) and are
compiled by Cython as they are, which makes the per-note work about a fifth faster. After
editing one, rebuild: ``make build`` (or ``python setup.py build_ext --inplace``); a build older
than its source is reported by ``doc_checker._build.build_status()`` and fails the tests.
"""
import os
import runpy

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = runpy.run_path(os.path.join(HERE, "doc_checker", "_build.py"))

extensions = [Extension("doc_checker._matchcore", ["doc_checker/_matchcore.pyx"], extra_compile_args=["-O3"])]
extensions += [Extension(f"doc_checker.{name}", [f"doc_checker/{name}.py"]) for name in BUILD["COMPILED_MODULES"]]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}, quiet=True,
                            nthreads=os.cpu_count() or 1))
