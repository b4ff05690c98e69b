"""`langgraph dev` serves the graph from langgraph.json; a two-turn thread runs through langgraph-sdk."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
pytestmark = [pytest.mark.real, pytest.mark.skipif(not LANGGRAPH.exists(), reason="langgraph-cli[inmem] not installed")]


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


def test_two_turn_thread_through_the_dev_server(tmp_path):
    from langgraph_sdk import get_sync_client

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    command = [str(LANGGRAPH), "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload",
               "--config", "langgraph.json"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LANGGRAPH_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false"}
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(url, process)
        client = get_sync_client(url=url)
        thread = client.threads.create()
        for text in ("My dog died this morning.", "I keep expecting him at the door."):
            client.runs.wait(thread["thread_id"], "hef", input={"messages": [{"role": "user", "content": text}]})
        values = client.threads.get_state(thread["thread_id"])["values"]
        assert [m["type"] for m in values["messages"]] == ["human", "ai", "human", "ai"]
        assert values["emotion"] and values["emotion_stage"] in {"primary", "fallback", "sem"}
        assert len(values["dialogue"]) == 3
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
