"""A bounded load test of the review service, on the loopback interface only.

    python scripts/loadtest.py --spawn                          # start a server on a free port
    python scripts/loadtest.py --url http://127.0.0.1:8000 --requests 2000 --concurrency 32

Sends ``--requests`` POST /v1/check requests (the fixture notes, in turn) from ``--concurrency``
clients (asyncio + httpx.AsyncClient), then reports throughput, latency percentiles
(p50/p90/p99/max) and errors. Refuses any host that is not loopback (127.0.0.0/8, ::1,
localhost), and caps the number of requests, the concurrency and the run time. With a token
configured on the server, pass it in DOC_CHECKER_TOKEN (never on the command line).
Exit status: 0 no errors, 1 some requests failed, 2 usage error.

Modes (``--mode``):

- ``check`` (default): the load above.
- ``slow-client``: ``--stalled`` connections each send their headers and part of a body, then
  stop sending, while the load above runs. Every stalled upload must be answered 408 (or closed)
  within the server's body timeout plus 5 s (``--body-timeout``, the server's
  DOC_CHECKER_BODY_TIMEOUT; with ``--spawn`` it is set), and the checks must still succeed.
- ``oversized-422``: ``--requests`` tiny-but-huge batches from ``--concurrency`` clients: 300,000
  empty notes (0.9 MB, under the body limit; must be a 413 ``batch_too_large`` of under 1 KB) and
  a batch of 100 invalid notes (a 422 listing at most 20 errors, under 8 KB), alternating. Any
  other status, a larger answer, or one slower than 2 s is an error.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_NOTES = ROOT / "fixtures" / "notes"
MAX_REQUESTS = 100_000
MAX_CONCURRENCY = 256
DEFAULT_DEADLINE_S = 900.0


class UsageError(ValueError):
    pass


def ensure_loopback(url: str) -> str:
    """Return ``url`` without a trailing slash, or raise UsageError unless it is http(s) on a
    loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url must be http://HOST:PORT, got {url!r}")
    host = parts.hostname
    if host != "localhost":
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            raise UsageError(
                f"refusing {host!r}: only loopback hosts (127.0.0.1, ::1, localhost)"
            ) from None
        if not addr.is_loopback:
            raise UsageError(
                f"refusing {host}: not a loopback address; this load test only runs locally"
            )
    return url.rstrip("/")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def load_notes(
    directory: Path = FIXTURE_NOTES, limit: Optional[int] = None
) -> List[Dict[str, str]]:
    paths = sorted(directory.glob("*.txt"))[:limit]
    return [{"note_id": p.stem, "text": p.read_text(encoding="utf-8")} for p in paths]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


@dataclass
class Stats:
    requests: int = 0
    ok: int = 0
    errors: int = 0
    error_kinds: Dict[str, int] = field(default_factory=dict)
    latencies_ms: List[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> Dict[str, object]:
        lat = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
            "latency_ms": {
                "p50": round(percentile(lat, 50), 1),
                "p90": round(percentile(lat, 90), 1),
                "p99": round(percentile(lat, 99), 1),
                "max": round(lat[-1], 1) if lat else 0.0,
            },
        }


async def run_load(
    url: str,
    notes: Sequence[Dict[str, str]],
    requests: int = 2000,
    concurrency: int = 32,
    token: Optional[str] = None,
    timeout: float = 120.0,
    deadline_s: float = DEFAULT_DEADLINE_S,
) -> Stats:
    """POST ``requests`` notes to ``url``/v1/check from ``concurrency`` clients. Bounded: stops
    sending when ``deadline_s`` has passed (the unsent requests count as errors)."""
    base = ensure_loopback(url)
    if not 1 <= requests <= MAX_REQUESTS:
        raise UsageError(f"--requests must be 1..{MAX_REQUESTS}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be 1..{MAX_CONCURRENCY}")
    if not notes:
        raise UsageError("no notes to send")
    stats = Stats()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    counter = iter(range(requests))
    start = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for i in counter:
            if time.perf_counter() - start > deadline_s:
                stats.requests += 1
                stats.errors += 1
                stats.error_kinds["deadline"] = stats.error_kinds.get("deadline", 0) + 1
                continue
            note = notes[i % len(notes)]
            t0 = time.perf_counter()
            try:
                resp = await client.post(base + "/v1/check", json=note, headers=headers)
                kind = (
                    None
                    if resp.status_code == 200 and "verdict" in resp.json()
                    else f"http_{resp.status_code}"
                )
            except (httpx.HTTPError, ValueError) as exc:
                kind = type(exc).__name__
            stats.latencies_ms.append(1000 * (time.perf_counter() - t0))
            stats.requests += 1
            if kind is None:
                stats.ok += 1
            else:
                stats.errors += 1
                stats.error_kinds[kind] = stats.error_kinds.get(kind, 0) + 1

    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    stats.seconds = time.perf_counter() - start
    return stats


async def run_slow_clients(
    url: str,
    notes: Sequence[Dict[str, str]],
    stalled: int = 50,
    body_timeout: float = 30.0,
    requests: int = 200,
    concurrency: int = 8,
    token: Optional[str] = None,
) -> Stats:
    """``stalled`` uploads that stop sending, held open while ``requests`` checks run. The
    stalled ones count as errors unless the server answers 408 or closes them within
    ``body_timeout`` + 5 s; the checks as in run_load."""
    base = ensure_loopback(url)
    if not 1 <= stalled <= MAX_CONCURRENCY:
        raise UsageError(f"--stalled must be 1..{MAX_CONCURRENCY}")
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    body = json.dumps({"text": notes[0]["text"]}).encode()
    stats = Stats()

    async def stall() -> None:
        t0 = time.perf_counter()
        kind: Optional[str] = "held_too_long"
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(
                (
                    f"POST /v1/check HTTP/1.1\r\nHost: {host}\r\n{auth}"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                + body[: len(body) // 2]
            )
            await writer.drain()  # and then nothing more
            try:
                status_line = await asyncio.wait_for(reader.readline(), body_timeout + 5)
                kind = None if (not status_line or b" 408 " in status_line) else "not_408"
            except asyncio.TimeoutError:
                kind = "held_too_long"
            writer.close()
        except OSError as exc:
            kind = type(exc).__name__
        stats.latencies_ms.append(1000 * (time.perf_counter() - t0))
        stats.requests += 1
        if kind is None:
            stats.ok += 1
        else:
            stats.errors += 1
            stats.error_kinds[kind] = stats.error_kinds.get(kind, 0) + 1

    start = time.perf_counter()
    stalls = [asyncio.create_task(stall()) for _ in range(stalled)]
    await asyncio.sleep(0.5)  # the uploads are open (and stalled) before the checks start
    checks = await run_load(url, notes, requests, concurrency, token)
    await asyncio.gather(*stalls)
    stats.seconds = time.perf_counter() - start
    stats.requests += checks.requests
    stats.ok += checks.ok
    stats.errors += checks.errors
    for kind, n in checks.error_kinds.items():
        stats.error_kinds["check_" + kind] = n
    return stats


async def run_oversized(
    url: str, requests: int = 20, concurrency: int = 4, token: Optional[str] = None
) -> Stats:
    """Batches that are small on the wire but huge to validate: each must get a small, quick
    413 (over the batch limit) or a capped 422 (invalid notes within the limit)."""
    base = ensure_loopback(url)
    if not 1 <= requests <= MAX_REQUESTS:
        raise UsageError(f"--requests must be 1..{MAX_REQUESTS}")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    huge = ('{"notes": [' + ",".join(["{}"] * 300_000) + "]}").encode()
    invalid = ('{"notes": [' + ",".join(['{"text": 1}'] * 100) + "]}").encode()
    cases = [(huge, 413, 1024), (invalid, 422, 8192)]
    stats = Stats()
    counter = iter(range(requests))
    start = time.perf_counter()

    async def client_loop(client: httpx.AsyncClient) -> None:
        for i in counter:
            body, status, max_size = cases[i % 2]
            t0 = time.perf_counter()
            try:
                resp = await client.post(base + "/v1/check/batch", content=body, headers=headers)
                took = time.perf_counter() - t0
                kind = (
                    f"http_{resp.status_code}"
                    if resp.status_code != status
                    else f"answer_{len(resp.content)}_bytes"
                    if len(resp.content) > max_size
                    else f"slow_{status}"
                    if took > 2.0
                    else None
                )
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
            stats.latencies_ms.append(1000 * (time.perf_counter() - t0))
            stats.requests += 1
            if kind is None:
                stats.ok += 1
            else:
                stats.errors += 1
                stats.error_kinds[kind] = stats.error_kinds.get(kind, 0) + 1

    async with httpx.AsyncClient(timeout=60.0, trust_env=False) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    stats.seconds = time.perf_counter() - start
    return stats


def wait_ready(url: str, timeout: float = 120.0, proc: Optional[subprocess.Popen] = None) -> None:
    """Poll ``url``/readyz until 200; raise RuntimeError on timeout or if ``proc`` exits."""
    base = ensure_loopback(url)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with status {proc.returncode} before it was ready"
                )
            try:
                if client.get(base + "/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
    raise RuntimeError(f"the server at {base} was not ready after {timeout:.0f}s")


@contextmanager
def spawn_server(
    port: Optional[int] = None,
    workers: int = 1,
    env: Optional[Dict[str, str]] = None,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 180.0,
    stderr=None,
) -> Iterator[str]:
    """Start ``python -m doc_checker.cli serve`` on 127.0.0.1:``port`` (a free one by default),
    wait for /readyz, yield its URL, then stop it (SIGTERM, then SIGKILL after 15 s)."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "doc_checker.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *extra_args,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=str(ROOT),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, ready_timeout, proc)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--url", default="http://127.0.0.1:8000", help="a running service (loopback only)"
    )
    p.add_argument(
        "--spawn", action="store_true", help="start a server on a free loopback port for the run"
    )
    p.add_argument("--workers", type=int, default=1, help="--spawn: server worker processes")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_S,
        help="stop sending after this many seconds",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--mode", choices=("check", "slow-client", "oversized-422"), default="check")
    p.add_argument("--stalled", type=int, default=50, help="slow-client: stalled uploads")
    p.add_argument(
        "--body-timeout",
        type=float,
        default=5.0,
        help="slow-client: the server's DOC_CHECKER_BODY_TIMEOUT (set so with --spawn)",
    )
    args = p.parse_args(argv)
    token = os.environ.get("DOC_CHECKER_TOKEN") or None
    try:
        if not args.spawn:
            ensure_loopback(args.url)
        notes = load_notes()

        def run(url: str) -> Stats:
            if args.mode == "slow-client":
                return asyncio.run(
                    run_slow_clients(
                        url,
                        notes,
                        args.stalled,
                        args.body_timeout,
                        args.requests,
                        args.concurrency,
                        token,
                    )
                )
            if args.mode == "oversized-422":
                return asyncio.run(run_oversized(url, args.requests, args.concurrency, token))
            return asyncio.run(
                run_load(
                    url, notes, args.requests, args.concurrency, token, deadline_s=args.deadline
                )
            )

        if args.spawn:
            env = {"DOC_CHECKER_BODY_TIMEOUT": f"{max(1, int(args.body_timeout))}"}
            with spawn_server(workers=args.workers, env=env) as url:
                stats = run(url)
        else:
            stats = run(args.url)
    except UsageError as exc:
        print(f"loadtest: error: {exc}", file=sys.stderr)
        return 2
    s = stats.summary()
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        lat = s["latency_ms"]
        print(
            f"{args.mode}: {s['requests']} requests, {args.concurrency} concurrent, "
            f"{s['seconds']} s: "
            f"{s['throughput_rps']} req/s; latency ms p50 {lat['p50']} p90 {lat['p90']} "
            f"p99 {lat['p99']} max {lat['max']}; errors {s['errors']} {s['error_kinds'] or ''}"
        )
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
