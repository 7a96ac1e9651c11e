"""Jinja2 templates shipped as package data (``doc_checker/io/templates``), autoescaped: every
value they render may be note text or a coder's comment."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2


@lru_cache(maxsize=None)
def template(name: str) -> jinja2.Template:
    """The named template, read with importlib.resources (works from a wheel or a zip)."""
    source = (
        resources.files("doc_checker.io").joinpath("templates").joinpath(name).read_text("utf-8")
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(source)
