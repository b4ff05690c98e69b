"""Served emotional data stays with its owner (issue 36): `langgraph dev` with tokens, memory on, real models.

Every cross-person attempt goes into one ledger; the test fails if any of them got through, or if fewer than
twelve distinct attempts were made. The owner's own calls, a reviewer's resume, and memory across the owner's
threads all work on the same server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from hef_graph.auth.tokens import SignedTokens
from tests.dev_server import LANGGRAPH, TEST_SECRET, start_server

pytestmark = [
    pytest.mark.real,
    pytest.mark.server,
    pytest.mark.skipif(not LANGGRAPH.exists(), reason="langgraph-cli[inmem] not installed"),
]
TOKENS = SignedTokens(TEST_SECRET)
RUN = uuid.uuid4().hex[:8]  # the dev server keeps its store in .langgraph_api across test runs
ALICE, BOB, SAM, KIM = (f"{name}-{RUN}" for name in ("alice", "bob", "sam", "kim"))


def client(url: str, token: str | None = None, **headers: str) -> Any:
    from langgraph_sdk import get_sync_client

    auth = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return get_sync_client(url=url, headers={**auth, **headers})


def turn(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}]}


@dataclass
class Ledger:
    """Attempts on someone else's data: each either refused (HTTP 401/403/404/409) or, for a listing, empty."""

    outcomes: dict[str, str] = field(default_factory=dict)

    def refused(self, name: str, call: Callable[[], Any]) -> None:
        try:
            result = call()
        except httpx.HTTPStatusError as error:
            self.outcomes[name] = f"refused {error.response.status_code}"
            return
        self.outcomes[name] = f"SUCCEEDED: {str(result)[:200]}"

    def hidden(self, name: str, listing: Callable[[], Any], leaked: Callable[[Any], bool]) -> None:
        try:
            result = listing()
        except httpx.HTTPStatusError as error:
            self.outcomes[name] = f"refused {error.response.status_code}"
            return
        self.outcomes[name] = f"LEAKED: {str(result)[:200]}" if leaked(result) else "nothing of theirs"

    def got_through(self) -> dict[str, str]:
        return {
            name: outcome for name, outcome in self.outcomes.items() if not outcome.startswith(("refused", "nothing"))
        }


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    yield from start_server(tmp_path_factory, HEF_MEMORY="1", HEF_AUTH="", HEF_AUTH_SECRET=TEST_SECRET)


@pytest.fixture(scope="module")
def alice_world(url):
    """Alice's two threads (the later recalls the earlier) and her stored memories."""
    alice = client(url, TOKENS.issue(ALICE))
    earlier, later = alice.threads.create()["thread_id"], alice.threads.create()["thread_id"]
    alice.runs.wait(earlier, "hef", input=turn("My dog Biscuit died this morning and the house feels empty."))
    alice.runs.wait(later, "hef", input=turn("I still set out Biscuit's bowl, then remember my dog is gone."))
    items = alice.store.search_items(["hef_memory"])["items"]
    run = alice.runs.list(earlier)[0]
    return {"earlier": earlier, "later": later, "items": items, "run": run["run_id"]}


def test_the_owners_memory_follows_them_across_their_threads(url, alice_world):
    alice = client(url, TOKENS.issue(ALICE))
    values = alice.threads.get_state(alice_world["later"])["values"]
    assert [memory["thread_id"] for memory in values["recalled_memories"]] == [alice_world["earlier"]]
    stored = alice_world["items"]
    assert sorted(item["value"]["thread_id"] for item in stored) == sorted(
        [alice_world["earlier"], alice_world["later"]]
    )
    assert all(item["namespace"] == ["hef_memory", ALICE] and "text" not in item["value"] for item in stored)


def test_requests_without_a_valid_token_are_refused_with_the_reason(url):
    expired = TOKENS.issue(ALICE, now=datetime.now(timezone.utc) - timedelta(days=3))
    forged = SignedTokens("someone-elses-secret-" + "y" * 32).issue(ALICE)
    cases = {
        "no token": (None, "no token"),
        "garbage": ("garbage", "not valid"),
        "expired": (expired, "expired"),
        "forged": (forged, "signature"),
    }
    for name, (token, reason) in cases.items():
        with pytest.raises(httpx.HTTPStatusError) as refusal:
            client(url, token).threads.search()
        assert refusal.value.response.status_code == 401, name
        assert reason in refusal.value.response.json()["detail"], name
    with pytest.raises(httpx.HTTPStatusError) as studio:  # Studio's scheme is no way around the token
        client(url, None, **{"x-auth-scheme": "langsmith"}).threads.search()
    assert studio.value.response.status_code == 401


def test_nobody_reaches_another_persons_threads_memories_or_identity(url, alice_world):
    bob, alice = client(url, TOKENS.issue(BOB)), client(url, TOKENS.issue(ALICE))
    thread, run, item = alice_world["earlier"], alice_world["run"], alice_world["items"][0]
    before = alice.threads.get_state(thread)["values"]
    ledger = Ledger()
    ledger.refused("get her thread", lambda: bob.threads.get(thread))
    ledger.refused("read her thread's state", lambda: bob.threads.get_state(thread))
    ledger.refused("read her thread's history", lambda: bob.threads.get_history(thread))
    ledger.hidden(
        "search all threads",
        lambda: bob.threads.search(limit=100),
        lambda found: thread in {t["thread_id"] for t in found},
    )
    ledger.hidden("search threads by her owner id", lambda: bob.threads.search(metadata={"owner": ALICE}), bool)
    ledger.refused("take her thread over", lambda: bob.threads.update(thread, metadata={"owner": BOB}))
    ledger.refused("rewrite her thread's state", lambda: bob.threads.update_state(thread, {"emotion": "joyful"}))
    ledger.refused("delete her thread", lambda: bob.threads.delete(thread))
    ledger.refused("copy her thread", lambda: bob.threads.copy(thread))
    ledger.refused("run a turn on her thread", lambda: bob.runs.wait(thread, "hef", input=turn("Hello?")))
    ledger.refused("resume her thread", lambda: bob.runs.wait(thread, "hef", command={"resume": {"action": "send"}}))
    ledger.hidden("list her runs", lambda: bob.runs.list(thread), bool)
    ledger.refused("read her run", lambda: bob.runs.get(thread, run))
    ledger.refused("join her run", lambda: bob.runs.join(thread, run))
    ledger.refused(
        "schedule a cron on her thread",
        lambda: bob.crons.create_for_thread(thread, "hef", schedule="0 0 * * *", input=turn("Hi")),
    )
    ledger.refused("get her memory item", lambda: bob.store.get_item(item["namespace"], item["key"]))
    ledger.refused("search her memory namespace", lambda: bob.store.search_items(item["namespace"]))
    ledger.hidden(
        "search every memory",
        lambda: bob.store.search_items(["hef_memory"], query="dog died")["items"],
        lambda found: any(ALICE in entry["namespace"] for entry in found),
    )
    ledger.hidden(
        "list memory namespaces",
        lambda: bob.store.list_namespaces(),
        lambda found: any(ALICE in namespace for namespace in found["namespaces"]),
    )
    ledger.refused(
        "write into her memory",
        lambda: bob.store.put_item(item["namespace"], "planted", {"cause": "x", "emotion": "sad"}),
    )
    ledger.refused("delete her memory item", lambda: bob.store.delete_item(item["namespace"], item["key"]))
    ledger.refused(
        "run as her (context.user_id)",
        lambda: bob.runs.wait(None, "hef", input=turn("My dog died."), context={"user_id": ALICE}),
    )
    ledger.refused(
        "run as her (configurable.user_id)",
        lambda: bob.runs.wait(None, "hef", input=turn("My dog died."), config={"configurable": {"user_id": ALICE}}),
    )
    ledger.refused("an assistant that runs as her", lambda: bob.assistants.create("hef", context={"user_id": ALICE}))
    planted = bob.threads.create(metadata={"owner": ALICE})["thread_id"]
    ledger.hidden(
        "plant a thread in her list",
        lambda: alice.threads.search(limit=100),
        lambda found: planted in {t["thread_id"] for t in found},
    )
    own_turn = bob.runs.wait(None, "hef", input=turn("My dog died last week and I miss him."))
    ledger.hidden("recall her memories in his own run", lambda: own_turn["recalled_memories"], bool)

    assert len(ledger.outcomes) >= 12
    assert ledger.got_through() == {}, ledger.outcomes
    assert alice.threads.get_state(thread)["values"] == before
    assert len(alice.store.search_items(["hef_memory"])["items"]) == len(alice_world["items"])


def test_the_owners_own_calls_all_work(url, alice_world):
    alice = client(url, TOKENS.issue(ALICE))
    thread = alice_world["later"]
    assert alice.threads.get(thread)["metadata"]["owner"] == ALICE
    assert [m["type"] for m in alice.threads.get_state(thread)["values"]["messages"]] == ["human", "ai"]
    assert alice.threads.get_history(thread)
    assert thread in {t["thread_id"] for t in alice.threads.search(limit=100)}
    assert alice.threads.update(thread, metadata={"topic": "Biscuit"})["metadata"]["topic"] == "Biscuit"
    assert alice.runs.list(thread)
    item = alice_world["items"][0]
    assert alice.store.get_item(item["namespace"], item["key"])["value"]["cause"] == item["value"]["cause"]
    scratch = alice.threads.create()["thread_id"]
    alice.threads.delete(scratch)
    assert scratch not in {t["thread_id"] for t in alice.threads.search(limit=100)}


def test_a_reviewer_resumes_a_paused_hand_off_and_reads_nothing_else(url, alice_world):
    alice = client(url, TOKENS.issue(ALICE))
    sam, kim = client(url, TOKENS.issue(SAM, "reviewer")), client(url, TOKENS.issue(KIM, "reviewer"))
    paused = alice.threads.create()["thread_id"]
    alice.runs.wait(paused, "hef", input=turn("I want to end my life."), context={"handoff": True})
    inbox = {t["thread_id"]: t for t in sam.threads.search(status="interrupted", limit=100)}
    assert paused in inbox and alice_world["earlier"] not in inbox
    (pause,) = [p for group in inbox[paused]["interrupts"].values() for p in group]
    assert pause["value"]["reason"] == "crisis" and pause["value"]["draft"]

    ledger = Ledger()
    ledger.refused("read an idle thread", lambda: sam.threads.get_state(alice_world["earlier"]))
    ledger.refused("list every thread", lambda: sam.threads.search(limit=100))
    ledger.refused("search the store", lambda: sam.store.search_items(["hef_memory"]))
    ledger.refused("start a turn on the paused thread", lambda: sam.runs.wait(paused, "hef", input=turn("Hi")))
    ledger.refused("change the paused thread", lambda: sam.threads.update(paused, metadata={"owner": SAM}))
    ledger.refused("create a thread", lambda: sam.threads.create())
    assert ledger.got_through() == {}, ledger.outcomes

    assert sam.threads.get_state(paused)["tasks"][0]["interrupts"]  # the paused turn itself is readable
    sam.runs.wait(paused, "hef", command={"resume": {"action": "edit", "reply": "Sam here. I'm with you."}})
    with pytest.raises(httpx.HTTPStatusError) as second:  # another reviewer, same pause: told, nothing sent twice
        kim.runs.wait(paused, "hef", command={"resume": {"action": "edit", "reply": "Kim here."}})
    assert second.value.response.status_code == 409 and "not paused" in second.value.response.json()["detail"]
    values = alice.threads.get_state(paused)["values"]
    assert [(m["type"], m["content"]) for m in values["messages"]][1:] == [("ai", "Sam here. I'm with you.")]
    assert values["handoff"]["reviewer"] == SAM  # the authenticated reviewer, whatever the resume claimed


def test_the_owner_forgets_their_memories_and_threads_through_the_api(url, alice_world):
    from hef_graph.auth.client import forget_served

    carol_token = TOKENS.issue(f"carol-{RUN}")
    carol = client(url, carol_token)
    thread = carol.threads.create()["thread_id"]
    carol.runs.wait(thread, "hef", input=turn("My grandmother passed away yesterday."))
    assert carol.store.search_items(["hef_memory"])["items"]
    gone = forget_served(url, carol_token, threads=True)
    assert gone.memories >= 1 and gone.threads >= 1
    assert carol.store.search_items(["hef_memory"])["items"] == []
    assert carol.threads.search() == []
    alice = client(url, TOKENS.issue(ALICE))
    assert len(alice.store.search_items(["hef_memory"])["items"]) == len(alice_world["items"])  # hers untouched
