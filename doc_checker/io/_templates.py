"""Package data of the HTML outputs: Jinja2 templates (a package's ``templates/``) and static
assets (its ``static/``: CSS, JavaScript), read with ``importlib.resources`` so they work from a
wheel or a zip; and the Content-Security-Policy hash of an inline asset.

Templates are autoescaped: every value they render may be note text or a coder's comment.
``template`` serves the evaluation and diff pages; ``environment`` the review report
(``doc_checker.io.report``) and the service's page (``doc_checker.service``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from html import escape
from importlib import resources
from importlib.abc import Traversable
from typing import Any, Callable, Dict, Iterator, Optional

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup

__all__ = ["asset_text", "csp_hash", "environment", "template"]


def _resource(package: str, folder: str, name: str) -> Traversable:
    path = resources.files(package).joinpath(folder)
    for part in name.split("/"):
        path = path.joinpath(part)
    return path


@lru_cache(maxsize=None)
def template(name: str) -> jinja2.Template:
    """The named template of ``doc_checker/io/templates``."""
    source = _resource("doc_checker.io", "templates", name).read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(source)


@lru_cache(maxsize=None)
def asset_text(name: str, package: str = "doc_checker.io") -> str:
    """The text of ``static/<name>`` in ``package`` (read once per process)."""
    return _resource(package, "static", name).read_text("utf-8")


def csp_hash(text: str) -> str:
    """The CSP source (``'sha256-...'``) that allows an inline ``<script>`` or ``<style>`` whose
    content is exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}`` of an ``environment`` goes through here before autoescape: text is
    escaped as ``html.escape(quote=True)`` does (quotes as ``&quot;`` and ``&#x27;``, where
    MarkupSafe writes ``&#34;`` and ``&#39;``), as the report always has; ``None`` prints as
    nothing; ``Markup`` (trusted markup: our own CSS and JS, rendered parts) is left alone.
    Autoescape then leaves the result alone. (A constant written in a template, ``{{ "x" }}``, is
    escaped by Jinja when it compiles the template, MarkupSafe's way: write text as text.)"""
    if type(value) is str:  # the common case first
        return _markup(Markup, escape(value))
    if value is None:
        return _EMPTY
    if hasattr(value, "__html__"):
        return value
    return _markup(Markup, escape(str(value)))


_EMPTY = Markup("")
_markup = str.__new__  # a Markup of text already escaped, without Markup.__new__'s checks

# A line break right after a tag (or at the start of a run of template text: right after a
# {{ }}, {% %} or {# #}), with the indentation of the next line.
_CONTINUATION = re.compile(r"(?:^|(?<=>))\n[ \t]+")


class JoinIndentedLines(Extension):
    """Templates may be indented like the markup they make without the indentation reaching the
    output: a line break right after a tag or a template tag, when the next line is indented, is
    dropped with that indentation. A line at the left margin starts a new output line.

    Only template text is touched (never a value, so never note text), and line numbers in
    template errors stay right. Text that needs a space where it wraps stays on one line."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        for token in stream:
            if token.type == "data":
                token = Token(token.lineno, "data", _CONTINUATION.sub("", token.value))
            yield token


def environment(
    package: str,
    *,
    join_indented_lines: bool = False,
    filters: Optional[Dict[str, Callable[..., Any]]] = None,
) -> jinja2.Environment:
    """A Jinja2 environment over ``templates/`` in ``package`` (names may have folders:
    ``report/page.html.j2``): autoescape on (see ``_finalize``), an undefined name an error, a
    template's final newline kept; with ``join_indented_lines``, see ``JoinIndentedLines``."""

    def load(name: str) -> str:
        return _resource(package, "templates", name).read_text("utf-8")

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        extensions=[JoinIndentedLines] if join_indented_lines else [],
    )
    env.filters.update(filters or {})
    return env
