"""Finding headless Chromium for the browser tests (shared by the report and service tests)."""

import os
import shutil

import pytest

BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome-headless-shell",
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
