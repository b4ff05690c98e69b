"""`langgraph dev` serves the graph from langgraph.json; a two-turn thread runs through langgraph-sdk."""

import re

import pytest

from tests.dev_server import LANGGRAPH, start_server
from tests.test_refused_turns import MALFORMED

SERVER_MALFORMED = {  # what a client can send as JSON (tests/test_refused_turns.py has the in-process kinds)
    kind: case for kind, case in MALFORMED.items() if kind not in ("not a dict", "a Command's unreadable update")
}
pytestmark = [pytest.mark.real, pytest.mark.skipif(not LANGGRAPH.exists(), reason="langgraph-cli[inmem] not installed")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One `langgraph dev` for this module's tests (memory off, authentication explicitly off: one local person)."""
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


def test_a_refused_turn_leaves_no_trace_in_the_servers_thread(server):
    """Each malformed turn is refused as InvalidInput, and the thread (state and history) reads as before."""
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=server)
    thread = client.threads.create()["thread_id"]
    first = {"role": "user", "content": "My sister got the job she wanted."}
    client.runs.wait(thread, "hef", input={"messages": [first]})
    before, history = client.threads.get_state(thread), client.threads.get_history(thread, limit=100)
    for kind, (payload, message) in SERVER_MALFORMED.items():
        with pytest.raises(Exception, match=f"^InvalidInput: {re.escape(message)}"):
            client.runs.wait(thread, "hef", input=payload)
        assert client.threads.get_state(thread) == before, kind
        assert client.threads.get_history(thread, limit=100) == history, kind
    later = {"role": "user", "content": "We are going out to celebrate tonight."}
    values = client.runs.wait(thread, "hef", input={"messages": [later]})
    assert [(m["type"], m["content"]) for m in values["messages"]][::2] == [("human", first["content"]),
                                                                          ("human", later["content"])]  # fmt: skip
    assert [m["type"] for m in values["messages"]] == ["human", "ai", "human", "ai"] and values["reply"]
