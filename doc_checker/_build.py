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
COMPILED_MODULES = (
    "nlp.abbreviations",
    "checker",
    "decide.claims",
    "decide.coding",
    "nlp.context",
    "decide.elements",
    "io.text",
    "nlp.tokenizer",
    "nlp._layout",
    "nlp.matcher",
    "result",
    "decide.scoring",
    "nlp.sections",
    "nlp.sentences",
    "nlp._spangroups",
    "nlp.targets",
    "nlp._tokenizer_cache",
)
CORE = "nlp._matchcore"


def build_status() -> Dict[str, str]:
    """Module -> 'compiled', 'python' (not built) or 'stale' (built from an older source)."""
    status: Dict[str, str] = {}
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (CORE,) + COMPILED_MODULES:
        source = os.path.join(here, *name.split(".")) + (".pyx" if name == CORE else ".py")
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
