"""The layers a newcomer sees in the tree hold in the code: no import cycle, the core never
imports a front end, the front ends never import each other, and the pure layers import no spaCy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "doc_checker"
FRONT_ENDS = {"doc_checker.cli", "doc_checker.spark", "doc_checker.service"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> Set[str]:
    """Every module of the package this file imports (at any depth: lazy imports count too)."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("doc_checker"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("doc_checker"):
                continue
            found.add(module)
            for alias in node.names:  # "from . import _matchcore" imports a module
                if (
                    (PACKAGE.parent / (module.replace(".", "/") + "/" + alias.name))
                    .with_suffix(".py")
                    .exists()
                ):
                    found.add(f"{module}.{alias.name}")
    found.discard(name)
    return found


def _graph() -> Dict[str, Set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        # an import of a package runs its __init__: an edge to it; a parent package's edge is
        # implied
        graph[name] = {m for m in _imports(path, name) if m in modules}
    return graph


def _front_end(module: str) -> str:
    for fe in FRONT_ENDS:
        if module == fe or module.startswith(fe + "."):
            return fe
    return ""


def test_no_import_cycles() -> None:
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle of layers: drop those edges
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: Dict[str, int] = {}
    stack: list = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                cycle = stack[stack.index(d) :] + [d]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if not state.get(d):
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if not state.get(m):
            visit(m)


def test_the_core_never_imports_a_front_end_and_front_ends_never_import_each_other() -> None:
    for module, deps in _graph().items():
        mine = _front_end(module)
        for dep in deps:
            theirs = _front_end(dep)
            if not theirs or theirs == mine:
                continue
            # the command line dispatches to the service and Spark subcommands (one way, lazily)
            if mine == "doc_checker.cli":
                continue
            pytest.fail(f"{module} imports the front end {dep}")


@pytest.mark.parametrize(
    "package",
    [
        "doc_checker.decide.scoring",
        "doc_checker.decide.claims",
        "doc_checker.rules",
        "doc_checker.io.readers",
        "doc_checker.io.writers",
        "doc_checker.io.report",
        "doc_checker.result",
    ],
)
def test_pure_layers_import_no_spacy(package: str) -> None:
    """Scoring, claim edits, rule loading and the readers/writers work without the NLP stack."""
    code = (
        f"import sys, {package}; "
        "heavy = sorted(m for m in ('spacy', 'medspacy', 'thinc') if m in sys.modules);"
        "print(','.join(heavy)); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"{package} imports {proc.stdout.strip()} {proc.stderr[-500:]}"


def test_spark_module_runs_as_a_script() -> None:
    """spark-submit runs doc_checker/spark.py as a file: its own options, exit 2 on usage errors."""
    script = PACKAGE / "spark.py"
    help_run = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True
    )
    assert help_run.returncode == 0 and "--text-column" in help_run.stdout
    bad = subprocess.run(
        [sys.executable, str(script), "/nonexistent/in.parquet", "/tmp/out-never"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_the_readme_layout_table_names_every_module_and_only_real_paths() -> None:
    """A newcomer reads the tree from the README's Layout table: it must match the tree."""
    import re

    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`((?:doc_checker|patterns|tests)[^`]*?)`", table))
    for path in named:
        assert (PACKAGE.parent / path.rstrip("/")).exists(), f"README names {path}, not in the tree"
    dirs = {p.rstrip("/") for p in named if p.endswith("/")}
    for module in PACKAGE.rglob("*.py*"):
        rel = module.relative_to(PACKAGE.parent).as_posix()
        if "__pycache__" in rel or module.name == "__init__.py" and rel.count("/") > 1:
            continue
        if module.suffix not in (".py", ".pyx", ".pyi"):
            continue
        inside_named_dir = any(rel.startswith(d + "/") for d in dirs)
        assert rel in named or inside_named_dir, f"{rel} is not in the README's Layout table"
