"""A real Clameur server (`clameur serve --demo` on a fresh SQLite database) and a real browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def _chromium() -> str | None:
    explicit = os.environ.get("CLAMEUR_E2E_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo, as `make demo` serves it, streaming posts quickly."""
    data = tmp_path_factory.mktemp("e2e-data")
    env = {
        **os.environ,
        "CLAMEUR_DATA_DIR": str(data),
        "CLAMEUR_DEMO__POSTS_PER_MINUTE": "240",
        "CLAMEUR_PIPELINE__POLL_SECONDS": "0.3",
        "CLAMEUR_RADAR__UPDATE_SECONDS": "2",
    }
    env.pop("CLAMEUR_DATABASE__URL", None)
    clameur = [sys.executable, "-m", "clameur.cli.main"]
    subprocess.run([*clameur, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*clameur, "demo", "load", "--history", "400"], env=env, check=True, capture_output=True
    )
    port = _free_port()
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [*clameur, "serve", "--demo", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the server did not start: " + Path(log.name).read_text())
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium driven by Playwright (the system's Chromium, nothing downloaded)."""
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium), browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    """A fresh browser tab with its own cookies."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()
