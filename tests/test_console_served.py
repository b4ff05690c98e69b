"""The console against `langgraph dev` (`hef console --server URL`): the visitor's own token reaches the server,
which decides what each one sees; two reviewers on one pause: the server's 409 becomes 'already answered'."""

import json

import pytest
from starlette.testclient import TestClient

from hef_graph.auth.tokens import SignedTokens
from hef_graph.console.app import build_app
from hef_graph.console.gate import TOKEN_COOKIE, Gate
from hef_graph.console.served import ServedBackend
from hef_graph.console.settings import ConsoleSettings
from tests.dev_server import LANGGRAPH, TEST_SECRET, start_server

pytestmark = [pytest.mark.server, pytest.mark.real,
              pytest.mark.skipif(not LANGGRAPH.exists(), reason="langgraph-cli[inmem] not installed")]  # fmt: skip
TOKENS = SignedTokens(TEST_SECRET)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from start_server(tmp_path_factory, HEF_AUTH="", HEF_AUTH_SECRET=TEST_SECRET, HEF_LLM="smollm2")


def console(server: str, user: str, role: str = "person") -> TestClient:
    settings = ConsoleSettings(server=server, warm=False)
    client = TestClient(build_app(settings, Gate(TOKENS), ServedBackend(settings)))
    client.cookies.set(TOKEN_COOKIE, TOKENS.issue(user, role))
    return client


def turn(client: TestClient, text: str) -> list[tuple[str, dict]]:
    found, name = [], None
    with client.stream("POST", "/api/turns", json={"thread_id": None, "text": text, "version": ""}) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and name:
                found.append((name, json.loads(line.split(":", 1)[1])))
    return found


def test_a_served_turn_streams_and_only_its_owner_sees_the_thread(server):
    ana, bo = console(server, "ana"), console(server, "bo")
    events = turn(ana, "My dog died this morning.")
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "thread" and kinds[-1] == "done" and "token" in kinds, events
    thread = events[0][1]["thread_id"]
    page = ana.get(f"/threads/{thread}").text
    assert "SEM distribution (top-k marked)" in page and "My dog died this morning." in page
    assert f"/threads/{thread}" in ana.get("/").text and f"/threads/{thread}" not in bo.get("/").text
    assert bo.get(f"/api/threads/{thread}/status").status_code in (403, 404)


def test_two_reviewers_on_one_served_pause_one_answer_reaches_the_thread(server):
    ana = console(server, "ana")
    thread = turn(ana, "I want to end my life.")[0][1]["thread_id"]
    assert ana.get(f"/api/threads/{thread}/status").json()["waiting"] == "crisis"
    assert ana.get("/inbox").status_code == 403
    sam, kim = console(server, "sam", "reviewer"), console(server, "kim", "reviewer")
    assert "I want to end my life." in sam.get("/inbox").text
    import asyncio

    (pause,) = [p for p in asyncio.run(ServedBackend(ConsoleSettings(server=server)).inbox(
        Gate(TOKENS).visitor(TOKENS.issue("sam", "reviewer")))) if p.thread_id == thread]  # fmt: skip
    answer = {"thread_id": thread, "pause_id": pause.pause_id, "action": "edit", "reply": "Sam here, with you."}
    assert sam.post("/api/inbox/resume", json=answer).status_code == 200
    second = kim.post("/api/inbox/resume", json=answer | {"reply": "Kim here."})
    assert second.status_code == 409 and "already answered" in second.json()["error"]
    page = ana.get(f"/threads/{thread}").text
    assert "Sam here, with you." in page and "Kim here." not in page
