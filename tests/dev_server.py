"""Start `langgraph dev` for a test module: a free loopback port, the project's langgraph.json, a log file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
TEST_SECRET = "hef-test-secret-" + "x" * 32
"""The HEF_AUTH_SECRET of the servers tests start with authentication on."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"langgraph dev exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"langgraph dev did not answer at {url} within {seconds} s")


def server_env(**env_vars: str) -> dict[str, str]:
    """The server's environment: offline, no analytics, and authentication off unless a test sets it up."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("HEF_AUTH")}
    return {**base, "HF_HUB_OFFLINE": "1", "LANGGRAPH_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false",
            "HEF_AUTH": "off", **env_vars}  # fmt: skip


def start_server(tmp_path_factory, **env_vars: str) -> Iterator[str]:
    """Start `langgraph dev` on a free loopback port; yield its URL, then stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("langgraph-dev") / "server.log").open("w")
    command = [str(LANGGRAPH), "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload",
               "--config", "langgraph.json"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=server_env(**env_vars))
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
