"""`langgraph dev` serves the graph from langgraph.json; a two-turn thread runs through langgraph-sdk."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
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


def start_server(tmp_path_factory, **env_vars: str):
    """Start `langgraph dev` on a free loopback port; yield its URL, then stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("langgraph-dev") / "server.log").open("w")
    command = [str(LANGGRAPH), "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload",
               "--config", "langgraph.json"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LANGGRAPH_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false",
           **env_vars}  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One `langgraph dev` for this module's tests (memory off, as langgraph.json serves it by default)."""
    yield from start_server(tmp_path_factory)


def test_two_turn_thread_through_the_dev_server(server):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=server)
    thread = client.threads.create()
    for text in ("My dog died this morning.", "I keep expecting him at the door."):
        client.runs.wait(thread["thread_id"], "hef", input={"messages": [{"role": "user", "content": text}]})
    values = client.threads.get_state(thread["thread_id"])["values"]
    assert [m["type"] for m in values["messages"]] == ["human", "ai", "human", "ai"]
    assert values["emotion"] and values["emotion_stage"] in {"primary", "fallback", "sem"}
    assert len(values["dialogue"]) == 3


def test_a_hand_off_pauses_and_resumes_through_the_dev_server(server):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=server)
    thread = client.threads.create()["thread_id"]
    context = {"handoff": True, "reviewer": "Sam"}
    message = {"role": "user", "content": "I want to end my life."}
    client.runs.wait(thread, "hef", input={"messages": [message]}, context=context)
    state = client.threads.get_state(thread)
    (pause,) = [pause for task in state["tasks"] for pause in task["interrupts"]]
    assert pause["value"]["reason"] == "crisis" and pause["value"]["reviewer"] == "Sam"
    assert [m["type"] for m in state["values"]["messages"]] == ["human"]  # nothing sent while paused
    client.runs.wait(thread, "hef", command={"resume": {"action": "edit", "reply": "Sam here. I'm with you."}},
                     context=context)  # fmt: skip
    values = client.threads.get_state(thread)["values"]
    assert [(m["type"], m["content"]) for m in values["messages"]][1:] == [("ai", "Sam here. I'm with you.")]
    assert values["handoff"]["action"] == "edit" and not values["handoff_pending"]


def test_memory_through_the_dev_server_and_its_store(tmp_path_factory):
    from langgraph_sdk import get_sync_client

    for url in start_server(tmp_path_factory, HEF_MEMORY="1"):
        client = get_sync_client(url=url)
        earlier, later = client.threads.create()["thread_id"], client.threads.create()["thread_id"]
        user = f"alice-{uuid.uuid4().hex[:8]}"  # the dev server keeps its store in .langgraph_api across runs
        context = {"user_id": user}
        for thread, text in ((earlier, "I have a job interview on Monday and I can't sleep."),
                             (later, "The interview is tomorrow and my hands are shaking.")):  # fmt: skip
            client.runs.wait(thread, "hef", input={"messages": [{"role": "user", "content": text}]}, context=context)
        values = client.threads.get_state(later)["values"]
        assert [memory["thread_id"] for memory in values["recalled_memories"]] == [earlier]
        stored = client.store.search_items(["hef_memory", user])["items"]
        assert sorted(item["value"]["thread_id"] for item in stored) == sorted([earlier, later])
        assert all("text" not in item["value"] for item in stored)
