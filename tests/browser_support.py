"""Headless Chromium for the browser tests (survey links, dashboard): Debian's `chromium` driven by
Playwright through its `executable_path` (no browser download). Tests are skipped where there is no
Chromium or no Playwright; screenshots are kept under `build/test-artefacts/` (HUIFANG_TEST_ARTEFACTS)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 740}  # the survey page must work on a 360-px-wide screen


def chromium_path() -> str | None:
    return os.environ.get("HUIFANG_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def artefacts() -> Path:
    d = Path(os.environ.get("HUIFANG_TEST_ARTEFACTS")
             or Path(__file__).resolve().parent.parent / "build" / "test-artefacts")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A launched browser for the module (a new context/page per test: `chromium.new_page(...)`)."""
    path = chromium_path()
    if not path:
        pytest.skip("no chromium (scripts/setup installs Debian's package as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
