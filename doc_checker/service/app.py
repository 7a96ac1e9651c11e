"""The review service: an HTTP API and a browser page for checking notes as they are signed.

    doc-checker serve --host 127.0.0.1 --port 8000 [--workers N] [--profile P] [--patterns DIR]

Endpoints (JSON unless said otherwise; every error is ``{"error": {"code", "message"}}``):

- ``POST /v1/check``        one note ``{text, note_id?, codes?, meta?}`` ->
                            ``CheckResult.to_dict()``; a note the checker refuses (empty, binary)
                            -> 422
- ``POST /v1/check/batch``  ``{"notes": [note, ...]}`` -> ``{"results": [...]}`` in input order, an
                            error record (``ErrorRecord.to_dict()``) for each note that cannot be
                            checked
- ``POST /v1/report``       one note -> the HTML review report of that note (``text/html``)
- ``GET  /v1/ruleset``      ruleset version, profile name, elements with required / weight
- ``GET  /healthz``         the process is up; ``GET /readyz``: the pipeline is loaded (200) or not
                            (503)
- ``GET  /``                a self-contained page: paste a note, see the report (no external assets)
- ``GET  /docs``            OpenAPI docs (FastAPI's; loads Swagger UI from a CDN)

The pipeline is built once per worker process, in a background thread started at start-up, so
``/healthz`` answers at once and ``/readyz`` turns 200 when checking can begin. Checks run in a
worker thread, one at a time per process (the spaCy pipeline is not shared between threads);
``--workers N`` runs N processes.

Settings (environment): ``DOC_CHECKER_MAX_BODY_BYTES`` (default 2 MB), ``DOC_CHECKER_MAX_BATCH``
(100), ``DOC_CHECKER_MAX_NOTE_CHARS`` (1,000,000), ``DOC_CHECKER_BODY_TIMEOUT`` (30 s to
receive a request body, else 408), ``DOC_CHECKER_TOKEN`` or
``DOC_CHECKER_TOKEN_FILE`` (bearer token; when set every endpoint but ``/``, ``/healthz`` and
``/readyz`` needs ``Authorization: Bearer <token>``). ``DOC_CHECKER_PROFILE`` and
``DOC_CHECKER_PATTERNS`` carry ``--profile`` / ``--patterns`` to worker processes.

Privacy: no note text in any log line or error response. The access log has method, path (no
query string), status and duration, control characters escaped (a client that left before the
answer is logged as 499); validation errors name field locations and messages, never the
values sent.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import os
import re
import sys
import threading
import time
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..errors import InputError
from ..io._templates import asset_text, csp_hash, environment
from ..io.report import script_csp_hash, write_html
from ..io.text import printable

log = logging.getLogger("doc_checker.service.app")
access_log = logging.getLogger("doc_checker.access")

ENV_MAX_BODY = "DOC_CHECKER_MAX_BODY_BYTES"
ENV_MAX_BATCH = "DOC_CHECKER_MAX_BATCH"
ENV_MAX_NOTE = "DOC_CHECKER_MAX_NOTE_CHARS"
ENV_BODY_TIMEOUT = "DOC_CHECKER_BODY_TIMEOUT"
ENV_TOKEN = "DOC_CHECKER_TOKEN"
ENV_TOKEN_FILE = "DOC_CHECKER_TOKEN_FILE"
ENV_PROFILE = "DOC_CHECKER_PROFILE"
ENV_PATTERNS = "DOC_CHECKER_PATTERNS"

DEFAULT_MAX_BODY = 2 * 1024 * 1024
DEFAULT_MAX_BATCH = 100
DEFAULT_MAX_NOTE = 1_000_000
DEFAULT_BODY_TIMEOUT = 30  # seconds to receive a whole request body
MAX_ERROR_DETAILS = 20  # validation errors listed in one 422 (the count says how many in all)
STATUS_CLIENT_GONE = 499  # logged (never sent) when the client disconnects before the answer
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/"})  # no auth: no data behind them
NO_STORE = {"Cache-Control": "no-store"}


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


class SettingsError(ValueError):
    """A setting (environment variable) has an invalid value; the message names it."""


@dataclass(frozen=True)
class Settings:
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_batch: int = DEFAULT_MAX_BATCH
    max_note_chars: int = DEFAULT_MAX_NOTE
    body_timeout: int = DEFAULT_BODY_TIMEOUT
    token: Optional[str] = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        token = env.get(ENV_TOKEN) or None
        token_file = env.get(ENV_TOKEN_FILE)
        if token is None and token_file:
            try:
                with open(token_file, encoding="utf-8") as fh:
                    token = fh.read().strip() or None
            except OSError as exc:
                raise SettingsError(
                    f"{ENV_TOKEN_FILE}: cannot read {token_file}: {exc.strerror}"
                ) from None
            if token is None:
                raise SettingsError(f"{ENV_TOKEN_FILE}: {token_file} is empty")
        return cls(
            max_body_bytes=_positive_int(env, ENV_MAX_BODY, DEFAULT_MAX_BODY),
            max_batch=_positive_int(env, ENV_MAX_BATCH, DEFAULT_MAX_BATCH),
            max_note_chars=_positive_int(env, ENV_MAX_NOTE, DEFAULT_MAX_NOTE),
            body_timeout=_positive_int(env, ENV_BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT),
            token=token,
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


# ---------------------------------------------------------------------------------------------
# Request models
# ---------------------------------------------------------------------------------------------

Scalar = Union[str, int, float, bool, None]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: Any) -> Any:
    """A lone surrogate (a JSON "\\ud800" escape) is not text: the checker refuses it in a note,
    and in an id, a code or a carried value (key or value) it could not be encoded in the
    response. Refused as a validation error (422)."""
    if isinstance(value, dict):
        strings = [s for pair in value.items() for s in pair]
    else:
        strings = list(value) if isinstance(value, list) else [value]
    if any(isinstance(s, str) and _SURROGATE.search(s) for s in strings):
        raise ValueError("contains a lone surrogate code point: not valid Unicode text")
    return value


class NoteIn(BaseModel):
    """One note to check."""

    model_config = ConfigDict(extra="forbid")

    # the text is the checker's to refuse (422 alone, an error record in a batch)
    _unicode_only = field_validator("note_id", "codes", "meta", mode="after")(_no_surrogates)

    text: str = Field(description="the note text")
    note_id: Optional[str] = Field(default=None, description="echoed in the result")
    codes: Union[str, List[str], None] = Field(
        default=None,
        description='billed CPT codes, e.g. "20610;77002-26" or ["20610", "77002"]: '
        "adds billed_codes and claim_findings to the result",
    )
    meta: Optional[Dict[str, Scalar]] = Field(
        default=None, description="carried through to the result"
    )


# the running app's batch limit, for BatchIn (set per request by LimitsMiddleware)
_MAX_BATCH: ContextVar[int] = ContextVar("doc_checker_max_batch", default=DEFAULT_MAX_BATCH)


class BatchTooLarge(Exception):
    """More notes than the batch limit: raised before any note is validated (a ValueError would
    become one of pydantic's errors; this ends validation and is answered with 413)."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} notes")
        self.count, self.limit = count, limit


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: List[NoteIn]

    @field_validator("notes", mode="before")
    @classmethod
    def _limit_first(cls, value: Any) -> Any:
        """The batch limit applies before each note is validated: 300,000 empty notes must
        cost one 413, not 300,000 validation errors."""
        if isinstance(value, list) and len(value) > _MAX_BATCH.get():
            raise BatchTooLarge(len(value), _MAX_BATCH.get())
        return value


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def error_response(
    status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None, **extra: Any
) -> JSONResponse:
    body: Dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return JSONResponse(
        {"error": body}, status_code=status, headers={**NO_STORE, **(headers or {})}
    )


_SAFE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


def _safe_loc(loc) -> List[Union[str, int]]:
    """A validation error location without anything a client sent as data: field names and list
    indices stay, any other key (a dict key that could be note text) becomes ``"<key>"``."""
    out: List[Union[str, int]] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and _SAFE_KEY.match(part):
            out.append(part)
        else:
            out.append("<key>")
    return out


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's default handler echoes each offending value (``input``), which can be note text:
    # report where and what only.
    # A request can hold many errors: list the first MAX_ERROR_DETAILS and say how many.
    errors = exc.errors()
    details: List[Dict[str, Any]] = [
        {
            "loc": _safe_loc(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors[:MAX_ERROR_DETAILS]
    ]
    where = "; ".join(".".join(str(p) for p in d["loc"]) + ": " + d["msg"] for d in details[:5])
    more = f" (and {len(errors) - 5:,} more)" if len(errors) > 5 else ""
    return error_response(
        422,
        "invalid_request",
        f"the request does not match the API: {where}{more}",
        details=details,
        error_count=len(errors),
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    503: "not_ready",
}


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


# ---------------------------------------------------------------------------------------------
# ASGI middleware: access log, body limit, auth (outermost first)
# ---------------------------------------------------------------------------------------------


async def _send_json(send, status: int, code: str, message: str, headers=()) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ] + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class AccessLogMiddleware:
    """One line per request: method, path (no query string), status, duration. Never bodies.

    Also the last stop for an unexpected exception: it is answered with a 500 error and logged by
    type only. Nothing propagates to uvicorn or Starlette, whose handlers would log the traceback
    and the exception's message (which could quote a note)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = {"code": 500, "started": False}
        scope.setdefault("state", {})

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.error(
                "internal error on %s %s: %s",
                printable(scope.get("method", "-")),
                printable(scope.get("path", "-")),
                type(exc).__name__,
            )
            if not status["started"]:
                status["code"] = 500
                await _send_json(
                    send,
                    500,
                    "internal_error",
                    f"the service failed on this request ({type(exc).__name__})",
                )
        finally:
            gone = not status["started"] and scope["state"].get("doc_checker_client_gone")
            # every value escaped: a path "%0a2026-... ERROR ..." must not write a second line
            access_log.info(
                "%s %s %d %.1fms%s",
                printable(scope.get("method", "-")),
                printable(scope.get("path", "-")),
                STATUS_CLIENT_GONE if gone else status["code"],
                1000 * (time.perf_counter() - start),
                f" ({gone})" if gone else "",
            )


class AuthMiddleware:
    """Bearer-token auth for every path except OPEN_PATHS (compared in constant time)."""

    def __init__(self, app, token: Optional[str]) -> None:
        self.app = app
        self.token = token.encode("utf-8") if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.token is None or scope.get("path") in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = b""
        for k, v in scope.get("headers", ()):
            if k == b"authorization":
                given = v
                break
        scheme, _, credentials = given.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.token):
            return await self.app(scope, receive, send)
        if not given:
            msg, hdr = (
                "this endpoint needs Authorization: Bearer <token>",
                'Bearer realm="doc-checker"',
            )
        else:
            msg, hdr = (
                "the bearer token is not valid",
                'Bearer realm="doc-checker", error="invalid_token"',
            )
        await _send_json(send, 401, "unauthorized", msg, [("www-authenticate", hdr)])


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413: by Content-Length before reading, and by
    counting the bytes actually received (chunked bodies, a Content-Length that lies)."""

    def __init__(self, app, max_bytes: int, timeout: float = DEFAULT_BODY_TIMEOUT) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = (
            f"the request body is larger than the limit of {self.max_bytes:,} bytes "
            f"({ENV_MAX_BODY}); send fewer or shorter notes per request"
        )
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    return await _send_json(
                        send, 400, "bad_request", "the Content-Length header is not a number"
                    )
                if declared > self.max_bytes:
                    return await _send_json(
                        send, 413, "body_too_large", too_large, [("connection", "close")]
                    )
        # Read the body here, counting, within the time limit, and replay it to the app.
        chunks: List[bytes] = []
        size = 0
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                # a stalled or trickling upload must not hold the connection (and its memory)
                return await _send_json(
                    send,
                    408,
                    "request_timeout",
                    f"the request body did not arrive within {self.timeout:g} s "
                    f"({ENV_BODY_TIMEOUT})",
                    [("connection", "close")],
                )
            if message["type"] == "http.disconnect":
                scope.setdefault("state", {})["doc_checker_client_gone"] = (
                    "client disconnected while sending the body"
                )
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await _send_json(
                    send, 413, "body_too_large", too_large, [("connection", "close")]
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            message = await receive()  # after the body: wait for the disconnect
            if message.get("type") == "http.disconnect":
                scope.setdefault("state", {})["doc_checker_client_gone"] = (
                    "client disconnected before the answer"
                )
            return message

        return await self.app(scope, replay, send)


class LimitsMiddleware:
    """Makes the app's batch limit visible to request validation (BatchIn), per request."""

    def __init__(self, app, max_batch: int) -> None:
        self.app = app
        self.max_batch = max_batch

    async def __call__(self, scope, receive, send):
        token = _MAX_BATCH.set(self.max_batch)
        try:
            return await self.app(scope, receive, send)
        finally:
            _MAX_BATCH.reset(token)


# ---------------------------------------------------------------------------------------------
# The pipeline holder
# ---------------------------------------------------------------------------------------------


class _State:
    """The worker's Checker, built once (in a background thread at start-up unless given)."""

    def __init__(self, checker=None, profile=None, patterns=None) -> None:
        self.checker = checker
        self.profile = profile
        self.patterns = patterns
        self.load_error: Optional[str] = None
        self.loaded = threading.Event()
        self.limiter: Optional[anyio.CapacityLimiter] = None  # made in the event loop
        if checker is not None:
            self.loaded.set()

    def load(self) -> None:
        if self.loaded.is_set():
            return
        started = time.perf_counter()
        try:
            from ..checker import Checker

            self.checker = Checker(profile=self.profile, patterns=self.patterns)
            log.info(
                "pipeline loaded in %.1fs (ruleset %s, profile %s)",
                time.perf_counter() - started,
                self.checker.ruleset_version,
                self.checker.profile.name,
            )
        except Exception as exc:  # noqa: BLE001 - reported by /readyz, logged
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("pipeline failed to load: %s", printable(self.load_error))
        finally:
            self.loaded.set()

    @property
    def ready(self) -> bool:
        return self.loaded.is_set() and self.checker is not None


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _batch_message(count: int, limit: int) -> str:
    return (
        f"the batch has {count:,} notes; the limit is {limit} ({ENV_MAX_BATCH}); "
        "split it into several requests"
    )


# ---------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------


def create_app(
    checker=None, *, profile=None, patterns=None, settings: Optional[Settings] = None
) -> FastAPI:
    """The FastAPI app. ``checker``: a built Checker to use (else one is built from ``profile`` /
    ``patterns`` in a background thread at start-up). ``settings``: limits and token (default:
    from the environment)."""
    settings = settings if settings is not None else Settings.from_env()
    state = _State(checker, profile, patterns)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.limiter = anyio.CapacityLimiter(1)
        if not state.loaded.is_set():
            threading.Thread(target=state.load, name="doc-checker-load", daemon=True).start()
        yield

    app = FastAPI(
        title="doc-checker review service",
        version=__version__,
        lifespan=lifespan,
        description="Checks procedure notes for the documentation that supports CPT +77002. "
        'Errors are {"error": {"code", "message"}}; no note text is logged.',
    )
    app.state.doc_checker = state
    app.state.settings = settings
    app.exception_handler(RequestValidationError)(_validation_handler)
    app.exception_handler(StarletteHTTPException)(_http_handler)
    # add_middleware wraps: the last added runs first. Order: access log -> auth -> body limit.
    app.add_middleware(LimitsMiddleware, max_batch=settings.max_batch)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout
    )
    app.add_middleware(AuthMiddleware, token=settings.token)
    app.add_middleware(AccessLogMiddleware)

    def _checker_or_refuse():
        if not state.ready:
            if state.load_error:
                raise _Refused(503, "not_ready", "the pipeline failed to load; see the service log")
            raise _Refused(
                503, "not_ready", "the pipeline is still loading; retry shortly (GET /readyz)"
            )
        return state.checker

    def _too_long(text: str) -> Optional[str]:
        if len(text) > settings.max_note_chars:
            return (
                f"the note has {len(text):,} characters; the limit is {settings.max_note_chars:,} "
                f"({ENV_MAX_NOTE})"
            )
        return None

    async def _run(fn, *args):
        limiter = state.limiter if state.limiter is not None else anyio.CapacityLimiter(1)
        state.limiter = limiter
        return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)

    def _check_one(note: NoteIn, keep_text: bool = False):
        checker = _checker_or_refuse()
        problem = _too_long(note.text)
        if problem:
            raise _Refused(413, "note_too_long", problem)
        try:
            return checker.check(
                note.text,
                note_id=note.note_id,
                meta=note.meta,
                codes=note.codes,
                keep_text=keep_text,
            )
        except InputError as exc:
            raise _Refused(422, exc.code, exc.message) from None

    @app.exception_handler(BatchTooLarge)
    async def _batch_handler(request: Request, exc: BatchTooLarge) -> JSONResponse:
        return error_response(413, "batch_too_large", _batch_message(exc.count, exc.limit))

    @app.exception_handler(_Refused)
    async def _refused_handler(request: Request, exc: _Refused) -> JSONResponse:
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return error_response(exc.status, exc.code, exc.message, headers=headers)

    @app.get("/healthz", tags=["health"], summary="the process is up")
    async def healthz():
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], summary="the pipeline is loaded (200) or not (503)")
    async def readyz():
        if state.ready:
            return {
                "status": "ready",
                "ruleset_version": state.checker.ruleset_version,
                "profile": state.checker.profile.name,
            }
        if state.load_error:
            return error_response(
                503, "load_failed", "the pipeline failed to load; see the service log"
            )
        return error_response(
            503, "not_ready", "the pipeline is still loading", headers={"Retry-After": "2"}
        )

    @app.get("/v1/ruleset", tags=["check"], summary="ruleset version, profile, elements")
    async def ruleset():
        checker = _checker_or_refuse()
        prof = checker.profile
        return {
            "ruleset_version": checker.ruleset_version,
            "profile": prof.name,
            "elements": {
                name: {"required": p.required, "weight": p.weight}
                for name, p in prof.elements.items()
            },
            "limits": {
                "max_body_bytes": settings.max_body_bytes,
                "max_batch": settings.max_batch,
                "max_note_chars": settings.max_note_chars,
            },
        }

    @app.post(
        "/v1/check",
        tags=["check"],
        summary="check one note",
        responses={
            413: {"description": "body or note too large"},
            422: {"description": "invalid request, or a note the checker refuses (empty, binary)"},
        },
    )
    async def check(note: NoteIn):
        result = await _run(_check_one, note)
        return JSONResponse(result.to_dict(), headers=NO_STORE)

    @app.post(
        "/v1/check/batch",
        tags=["check"],
        summary="check up to DOC_CHECKER_MAX_BATCH notes",
        responses={413: {"description": "body too large, or more notes than the batch limit"}},
    )
    async def check_batch(batch: BatchIn):
        if len(batch.notes) > settings.max_batch:
            raise _Refused(
                413, "batch_too_large", _batch_message(len(batch.notes), settings.max_batch)
            )

        def work():
            checker = _checker_or_refuse()
            items = []
            for note in batch.notes:
                problem = _too_long(note.text)
                text: Any = InputError("note_too_long", problem) if problem else note.text
                items.append(
                    {"note_id": note.note_id, "text": text, "meta": note.meta, "codes": note.codes}
                )
            return [outcome.to_dict() for outcome in checker.check_many(items, batch_size=16)]

        return JSONResponse({"results": await _run(work)}, headers=NO_STORE)

    @app.post(
        "/v1/report",
        tags=["check"],
        response_class=HTMLResponse,
        summary="check one note and return its HTML review report (what the / page shows)",
    )
    async def report(note: NoteIn):
        result = await _run(_check_one, note, True)
        page = await _run(_render_report, result, note.text)
        headers = {
            **NO_STORE,
            "X-Content-Type-Options": "nosniff",
            "X-Doc-Checker-Verdict": result.verdict,
            "X-Doc-Checker-Score": f"{result.score:g}",
            "X-Doc-Checker-Suggested-Code": result.suggested_code or "none",
            "X-Doc-Checker-Missing": ",".join(result.missing) or "none",
        }
        return HTMLResponse(page, headers=headers)

    @app.get("/", include_in_schema=False)
    async def index():
        page, csp = _page()
        return HTMLResponse(
            page,
            headers={
                "Content-Security-Policy": csp,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY",
            },
        )

    return app


def _render_report(result, text: str) -> str:
    buf = io.StringIO()
    write_html([(result, text)], buf, title=f"doc-checker: {result.note_id or 'note'}")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# The browser page (self-contained: inline CSS and JS, nothing loaded from elsewhere);
# templates/page.html.j2, static/page.css, static/page.js
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _page() -> Tuple[str, str]:
    """The page and its Content-Security-Policy, built once from the package data."""
    css = asset_text("page.css", __package__)
    script = asset_text("page.js", __package__)
    page = (
        environment(__package__)
        .get_template("page.html.j2")
        .render(css=Markup(css), script=Markup(script))
    )
    # The report in the srcdoc iframe inherits this policy: its script hash is allowed too, and
    # style-src is 'unsafe-inline' (not a hash) because the report's stylesheet differs per report
    # (the report's own meta CSP still pins it by hash).
    csp = (
        f"default-src 'none'; script-src {csp_hash(script)} {script_csp_hash()}; "
        "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-src 'self' about:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page, csp


# ---------------------------------------------------------------------------------------------
# Running it
# ---------------------------------------------------------------------------------------------


def app_from_env() -> FastAPI:
    """The app factory uvicorn's workers call (``--workers N``): settings, profile and patterns
    come from the environment (run_server sets DOC_CHECKER_PROFILE / DOC_CHECKER_PATTERNS)."""
    return create_app(
        profile=os.environ.get(ENV_PROFILE) or None, patterns=os.environ.get(ENV_PATTERNS) or None
    )


class OneLineFormatter(logging.Formatter):
    """Every record on one line, control characters escaped, whatever logged it (uvicorn's own
    messages included): a value from a request can never forge a log line or a terminal code."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.msg, record.args = printable(record.getMessage()), None
        record.exc_info = record.exc_text = None  # tracebacks can quote values: type only
        return super().format(record)


def log_config() -> Dict[str, Any]:
    """uvicorn's logging config with its access log off (it logs the request line) and ours on."""
    from uvicorn.config import LOGGING_CONFIG

    cfg = json.loads(json.dumps(LOGGING_CONFIG))
    cfg["formatters"]["plain"] = {
        "()": "doc_checker.service.app.OneLineFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    cfg["handlers"]["plain"] = {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "stream": "ext://sys.stderr",
    }
    cfg["loggers"]["doc_checker"] = {"handlers": ["plain"], "level": "INFO", "propagate": False}
    cfg["loggers"]["uvicorn.access"] = {"handlers": [], "level": "WARNING", "propagate": False}
    return cfg


def run_server(args) -> int:
    """``doc-checker serve``: validate settings and rule files up front (exit 2 on a bad one),
    then run uvicorn with N workers, each building its pipeline once."""
    from pathlib import Path

    import uvicorn

    from ..errors import DocCheckerError
    from ..rules import load_profile, load_ruleset

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise DocCheckerError(str(exc)) from None
    profile = getattr(args, "profile", None)
    patterns = getattr(args, "patterns", None)
    load_ruleset(patterns)  # raises RulesError naming the file and rule
    load_profile(profile, Path(patterns) if patterns else None)
    workers = max(1, int(getattr(args, "workers", 1) or 1))
    host, port = args.host, int(args.port)
    print(
        f"doc-checker: serving on http://{'[' + host + ']' if ':' in host else host}:{port}/ "
        f"({workers} worker{'s' if workers > 1 else ''}; auth {'on' if settings.token else 'off'})",
        file=sys.stderr,
        flush=True,
    )
    common = dict(
        host=host,
        port=port,
        log_config=log_config(),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    if workers > 1:
        if profile:
            os.environ[ENV_PROFILE] = str(Path(profile).resolve())
        if patterns:
            os.environ[ENV_PATTERNS] = str(Path(patterns).resolve())
        uvicorn.run("doc_checker.service.app:app_from_env", factory=True, workers=workers, **common)
    else:
        uvicorn.run(create_app(profile=profile, patterns=patterns, settings=settings), **common)
    return 0
