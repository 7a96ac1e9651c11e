"""Optional compiled speed-ups; everything else about the package is in pyproject.toml.

``doc_checker/nlp/_matchcore.pyx`` is the matcher's typed core. It is compiled when a C compiler
is there; without one the install still succeeds and the matcher runs its pure-Python path (same
results, slower). The plain modules listed in ``doc_checker/_build.py`` run as Python unless
``DOC_CHECKER_COMPILE=all`` is set at build time, which compiles them as they are with Cython
(about a fifth faster; debuggers and coverage then cannot trace them). ``make bench`` measures
both. A build older than its source is reported by ``doc_checker._build.build_status()`` and
fails the tests.
"""

import os
import runpy
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = runpy.run_path(os.path.join(HERE, "doc_checker", "_build.py"))


class optional_build_ext(build_ext):
    """Build what can be built; a missing compiler leaves the pure-Python modules in place."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers: setuptools raises several kinds
            print(
                f"doc-checker: compiled speed-ups not built ({exc}); running as pure Python",
                file=sys.stderr,
            )

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(
                f"doc-checker: {ext.name} not compiled ({exc}); its Python version is used",
                file=sys.stderr,
            )


def extensions():
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("doc-checker: Cython not available; running as pure Python", file=sys.stderr)
        return []
    exts = [
        Extension(
            "doc_checker.nlp._matchcore",
            ["doc_checker/nlp/_matchcore.pyx"],
            extra_compile_args=["-O3"],
        )
    ]
    if os.environ.get("DOC_CHECKER_COMPILE") == "all":
        exts += [
            Extension(f"doc_checker.{name}", [f"doc_checker/{name.replace('.', '/')}.py"])
            for name in BUILD["COMPILED_MODULES"]
        ]
    return cythonize(
        exts, compiler_directives={"language_level": "3"}, quiet=True, nthreads=os.cpu_count() or 1
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": optional_build_ext})
