"""Start `hef console` on a free loopback port and drive Debian's headless Chromium with Playwright (no download).

Used by the browser tests and by benchmarks/console_first_token.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_console(
    log_path: Path, *args: str, env: dict[str, str] | None = None, wait_s: float = 600
) -> Iterator[str]:
    """Run `hef console` with ``args``; yield its URL once its models are loaded; stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "hef_graph", "console", "--port", str(port), *args]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment)
        try:
            wait_until_ready(url, process, wait_s, log_path)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def wait_until_ready(url: str, process: subprocess.Popen, seconds: float, log_path: Path) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hef console exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if b'"ready":true' in response.read().replace(b" ", b""):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"hef console was not ready at {url} within {seconds} s")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's, not a Playwright download) with a fresh temporary profile; each
    ``browser.new_context()`` is one person, with cookies of their own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
