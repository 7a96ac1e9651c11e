"""Which modules are compiled, and whether a build is out of date (no heavy imports here:
``setup.py`` reads ``COMPILED_MODULES`` from this file before anything is installed).

The modules listed are plain Python, compiled by Cython as they are (``setup.py``); a module
that was not built runs from its ``.py`` file with identical results, only slower. A build older
than its source would run the old code, so ``build_status`` reports it and the tests fail on it.
"""
from __future__ import annotations

import importlib
import os
from typing import Dict

# compiled from their .py source as they are; _matchcore is the typed core (a .pyx file)
COMPILED_MODULES = ("abbreviations", "checker", "claims", "coding", "context", "elements", "inputs", "layout", "matcher",
                    "result", "scoring", "sections", "sentences", "spangroups", "targets",
                    "tokenizer_cache")
CORE = "_matchcore"


def build_status() -> Dict[str, str]:
    """Module -> 'compiled', 'python' (not built) or 'stale' (built from an older source)."""
    status: Dict[str, str] = {}
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (CORE,) + COMPILED_MODULES:
        source = os.path.join(here, name + (".pyx" if name == CORE else ".py"))
        try:
            loaded = importlib.import_module(f"{__package__}.{name}").__file__ or ""
        except ImportError:
            status[name] = "python" if name != CORE else "missing"
            continue
        if loaded.endswith((".py", ".pyc")):
            status[name] = "python"
        elif os.path.exists(source) and os.path.getmtime(source) > os.path.getmtime(loaded):
            status[name] = "stale"
        else:
            status[name] = "compiled"
    return status
