"""Headless Chromium for the browser tests (shared by the report and service tests): finding it,
and driving it over the Chrome DevTools Protocol (``--remote-debugging-pipe``: JSON messages on
file descriptors 3 and 4, no websocket library)."""

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome-headless-shell",
)

# How every browser test starts Chromium: headless, quiet, nothing fetched in the background.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
)


def chromium_or_skip() -> str:
    """The browser's path; skips with a visible reason when none is installed, but fails when
    DOC_CHECKER_REQUIRE_CHROMIUM=1 (CI installs Debian's chromium and must run these tests)."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    reason = (
        "headless Chromium not found (looked for: "
        + ", ".join(BROWSERS)
        + "); install the Debian package `chromium` to run the browser tests"
    )
    if os.environ.get("DOC_CHECKER_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason + " (DOC_CHECKER_REQUIRE_CHROMIUM=1)", pytrace=False)
    pytest.skip(reason)


class CDP:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, browser: str, tmp: Path) -> None:
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()

        def child_fds():  # the browser reads commands on fd 3 and writes replies on fd 4
            r, w = os.dup(to_browser_r), os.dup(from_browser_w)  # never clobber one with the other
            os.dup2(r, 3)
            os.dup2(w, 4)

        cmd = [
            browser,
            *HEADLESS,
            "--remote-debugging-pipe",
            "--window-size=1400,1100",
            # keep the sandboxed report frame in the page's process, so one session reaches it
            "--disable-features=IsolateSandboxedIframes,site-per-process",
            f"--user-data-dir={tmp / 'profile'}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            cmd,
            preexec_fn=child_fds,
            pass_fds=(3, 4),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, HOME=str(tmp)),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0
        self.events = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from the browser")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("the browser closed the pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params=None, session=None, timeout: float = 30.0) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - killed below anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._r)
        os.close(self._w)


class Page:
    """One tab: navigate to ``url`` and wait until ``ready`` (a JS expression) is true."""

    def __init__(self, cdp: CDP, url: str, ready: str = "true") -> None:
        self.cdp = cdp
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "DOM"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", {"url": url})
        self.wait_for(f"document.readyState === 'complete' && ({ready})")

    def call(self, method, params=None, timeout=30.0):
        return self.cdp.send(method, params, session=self.session, timeout=timeout)

    def eval(self, expression: str, context_id=None):
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        if context_id is not None:
            params["contextId"] = context_id
        res = self.call("Runtime.evaluate", params)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, context_id=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(expression, context_id)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for: {expression}")

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (scrolled into view first)."""
        box = self.eval(
            f"(function(){{var e=document.querySelector({json.dumps(selector)});"
            "e.scrollIntoView({block: 'center'});var r=e.getBoundingClientRect();"
            "return [r.x + r.width / 2, r.y + r.height / 2];})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )

    def type_into(self, selector: str, text: str) -> None:
        """Focus the field and insert the text as a paste would."""
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", {"text": text})

    def press(self, key: str) -> None:
        """One key pressed and released on the focused element, as a keyboard does ("Enter",
        " ", "ArrowDown", "Tab")."""
        codes = {"Enter": 13, " ": 32, "ArrowDown": 40, "ArrowUp": 38, "Tab": 9}
        code = codes[key]
        down = {"type": "keyDown", "key": key, "windowsVirtualKeyCode": code}
        if key in ("Enter", " "):
            down["text"] = "\r" if key == "Enter" else " "
        self.call("Input.dispatchKeyEvent", down)
        self.call(
            "Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "windowsVirtualKeyCode": code}
        )

    def set_files(self, selector: str, paths) -> None:
        """Choose files in an ``<input type="file">`` as the file dialog would (fires change)."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        self.call("DOM.setFileInputFiles", {"nodeId": node, "files": [str(p) for p in paths]})

    def reload(self, ready: str = "true") -> None:
        """Reload the page (the browser's storage is kept) and wait until ``ready``."""
        self.eval("document.documentElement.setAttribute('data-reloading', '1')")
        self.call("Page.reload")
        expression = (
            "!document.documentElement.hasAttribute('data-reloading') && "
            f"document.readyState === 'complete' && ({ready})"
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.eval(expression):
                    return
            except RuntimeError:  # the old document's context went away mid-evaluation
                pass
            time.sleep(0.1)
        raise TimeoutError("timed out waiting for the reloaded page")

    def frame_context(self) -> int:
        """An isolated JS world in the report iframe (sandboxed: the page's script cannot reach
        it)."""
        tree = self.call("Page.getFrameTree")["frameTree"]
        children = tree.get("childFrames") or []
        assert children, "the report frame is missing"
        frame_id = children[0]["frame"]["id"]
        return self.call("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": "test"})[
            "executionContextId"
        ]
