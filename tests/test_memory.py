"""Emotional memory across threads: recorded after a turn, recalled by cause in later threads, per user only.

Graph logic with fakes (the SEM, tagger, LLM and a word-hashing phrase encoder); the same tests run on every
store: InMemoryStore with its index, InMemoryStore without one (ranked in Python, as on Postgres), SqliteStore
with sqlite-vec, and PostgresStore where HEF_TEST_POSTGRES_URL names a server.
"""

import os
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from typer.testing import CliRunner

from hef_graph import Context, build_graph
from hef_graph.cli import app
from hef_graph.errors import MissingUserId
from hef_graph.memory import (
    RecallSettings,
    all_items,
    forget_user,
    in_memory_store,
    memory_note,
    new_item,
    recall,
    record,
    sqlite_store,
    user_namespace,
)
from tests.conftest import FlakyChatModel, ScriptedSEM, ScriptedTagger, WordEncoder, run_script

POSTGRES = os.environ.get("HEF_TEST_POSTGRES_URL")
ENCODER = WordEncoder()


def make_store(kind: str, tmp_path: Path):
    if kind == "memory":
        return in_memory_store(ENCODER)
    if kind == "memory-no-index":
        return InMemoryStore()
    if kind == "sqlite":
        return sqlite_store(tmp_path / "memory.sqlite", ENCODER)
    if not POSTGRES:
        pytest.skip("no Postgres server: set HEF_TEST_POSTGRES_URL (.ci/run starts one on loopback)")
    from hef_graph.memory import postgres_store

    return postgres_store(POSTGRES)


STORES = [
    "memory",
    "memory-no-index",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


class RecordingLLM(FlakyChatModel):
    """A fake chat model that keeps the prompts it was sent."""

    prompts: list = []

    def _call(self, messages, *args, **kwargs):  # type: ignore[override]
        self.prompts.append(messages)
        return super()._call(messages, *args, **kwargs)


def graph(store, *, checkpointer=None):
    llm = RecordingLLM(responses=["sad", "I'm sorry."], prompts=[])
    hef = build_graph(checkpointer=checkpointer or InMemorySaver(), store=store, llm=llm, sem=ScriptedSEM(),
                      cause_tagger=ScriptedTagger(), memory_encoder=ENCODER)  # fmt: skip
    return hef, llm


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"  # Postgres keeps items across runs: every test has its own people


def turn(hef, text: str, user_id: str, thread: str | None = None, **settings):
    config = {"configurable": {"thread_id": thread or uuid.uuid4().hex}}
    return hef.invoke({"messages": [("user", text)]}, config, context=Context(user_id=user_id, **settings))


@pytest.mark.parametrize("kind", STORES)
def test_a_later_thread_recalls_the_earlier_one_and_its_reply_prompt_gets_one_note(kind, tmp_path):
    store, alice = make_store(kind, tmp_path), user()
    hef, llm = graph(store)
    first = turn(hef, "My driving examination tomorrow frightens everybody", alice)
    assert first["recalled_memories"] == []
    assert first["remembered"]["emotion"] == "sad" and first["remembered"]["valence"] == "negative"
    second = turn(hef, "The driving examination frightens me", alice)
    (memory,) = second["recalled_memories"]
    assert memory["cause"] == first["remembered"]["cause"] and memory["thread_id"] == first["remembered"]["thread_id"]
    assert memory["similarity"] >= Context().memory_threshold
    reply_prompt = llm.prompts[-1][-1].content
    note = memory_note(second["recalled_memories"])
    assert note in reply_prompt and "\n" not in note and note not in llm.prompts[1][-1].content


@pytest.mark.parametrize("kind", STORES)
def test_other_users_and_unrelated_memories_are_never_recalled(kind, tmp_path):
    store, alice, bob = make_store(kind, tmp_path), user(), user()
    hef, _ = graph(store)
    turn(hef, "The driving examination frightens me", bob)  # another person, the same cause
    turn(hef, "My grandmother's funeral yesterday", alice)  # the same person, another cause
    out = turn(hef, "The driving examination frightens me", alice)
    assert out["recalled_memories"] == []


@pytest.mark.parametrize("kind", STORES)
def test_the_same_thread_does_not_recall_its_own_turns(kind, tmp_path):
    store, alice = make_store(kind, tmp_path), user()
    hef, _ = graph(store)
    turn(hef, "The driving examination frightens me", alice, thread="t")
    assert turn(hef, "The driving examination frightens me", alice, thread="t")["recalled_memories"] == []


@pytest.mark.parametrize("kind", STORES)
def test_no_message_text_is_stored_unless_asked(kind, tmp_path):
    store, alice = make_store(kind, tmp_path), user()
    hef, _ = graph(store)
    turn(hef, "The driving examination frightens me", alice)
    (item,) = all_items(store, user_namespace(alice))
    assert set(item.value) - {"vector"} == {"time", "emotion", "valence", "cause", "thread_id", "expires_at"}
    turn(hef, "Another examination scares me", alice, remember_text=True)
    texts = [item.value.get("text") for item in all_items(store, user_namespace(alice))]
    assert sorted(texts, key=str) == ["Another examination scares me", None]


@pytest.mark.parametrize("kind", STORES)
def test_forget_user_deletes_every_item_of_that_user_only(kind, tmp_path):
    store, alice, bob = make_store(kind, tmp_path), user(), user()
    hef, _ = graph(store)
    for text in ("The driving examination frightens me", "My grandmother's funeral yesterday"):
        turn(hef, text, alice)
    turn(hef, "The driving examination frightens me", bob)
    assert forget_user(store, alice) == 2
    assert all_items(store, user_namespace(alice)) == [] and len(all_items(store, user_namespace(bob))) == 1
    assert turn(hef, "The driving examination frightens me", alice)["recalled_memories"] == []


def test_hef_forget_leaves_nothing_of_the_user_in_the_sqlite_file(tmp_path):
    path = tmp_path / "memory.sqlite"
    hef, _ = graph(sqlite_store(path, ENCODER))
    for text in ("The driving examination frightens me", "My grandmother's funeral yesterday"):
        turn(hef, text, "alice.smith@example.org")
    turn(hef, "The driving examination frightens me", "bob")
    result = CliRunner().invoke(app, ["forget", "--user", "alice.smith@example.org", "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "forgot 2 memories" in result.output
    raw = sqlite3.connect(path)
    prefix = ".".join(user_namespace("alice.smith@example.org"))
    for table in ("store", "store_vectors"):
        assert raw.execute(f"SELECT count(*) FROM {table} WHERE prefix = ?", (prefix,)).fetchone() == (0,)  # noqa: S608
        assert raw.execute(f"SELECT count(*) FROM {table} WHERE prefix != ?", (prefix,)).fetchone()[0] >= 1  # noqa: S608


def test_hef_forget_needs_a_user():
    result = CliRunner().invoke(app, ["forget", "--user", " "])
    assert result.exit_code == 2 and "user_id" in result.output and "Traceback" not in result.output


def test_memory_on_without_a_user_id_fails_before_any_model_runs():
    hef, llm = graph(in_memory_store(ENCODER))
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(MissingUserId, match=r"Context\(user_id='...'\)"):
        hef.invoke({"messages": [("user", "The driving examination frightens me")]}, config)
    assert llm.prompts == []
    out = hef.invoke(None, config, context=Context(user_id="alice"))  # the turn is kept and can be retried
    assert out["reply"] == "I'm sorry." and len(out["messages"]) == 2


def test_without_a_store_no_memory_node_runs_and_no_user_is_needed():
    hef = build_graph(llm=RecordingLLM(responses=["sad", "Sorry."], prompts=[]), sem=ScriptedSEM(),
                      cause_tagger=ScriptedTagger())  # fmt: skip
    visited = [next(iter(step)) for step in hef.stream({"messages": [("user", "I failed")]})]
    assert "recall_memories" not in visited and "remember_turn" not in visited


def test_the_memory_nodes_sit_around_the_reply():
    hef, _ = graph(in_memory_store(ENCODER))
    visited = [next(iter(step)) for step in hef.stream({"messages": [("user", "I failed")]},
                                                       {"configurable": {"thread_id": "t"}},
                                                       context=Context(user_id="a"))]  # fmt: skip
    assert visited[-3:] == ["recall_memories", "draft_response", "remember_turn"]


def test_the_index_and_the_python_ranking_give_the_same_memories(tmp_path):
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    phrases = ["driving examination tomorrow", "driving lesson cancelled", "examination results", "funeral grandmother",
               "new puppy", "driving examination failed"]  # fmt: skip
    results = []
    for store in (in_memory_store(ENCODER), InMemoryStore(), sqlite_store(tmp_path / "m.sqlite", ENCODER)):
        for age, phrase in enumerate(phrases):
            record(store, "alice", new_item("anxious", phrase, f"t{age}", now - timedelta(days=age), None, None),
                   ENCODER)  # fmt: skip
        found = recall(store, "alice", "driving examination", ENCODER, RecallSettings(0.3, 5), now=now)
        results.append([(m["cause"], round(m["similarity"], 4)) for m in found])
    assert results[0] == results[1] == results[2]
    # similarity first (2 of 3 words shared, then 1 of 2, then 1 of 3), recency between the two equal ones
    assert [cause for cause, _ in results[0]] == ["driving examination tomorrow", "driving examination failed",
                                                  "examination results", "driving lesson cancelled"]  # fmt: skip


def test_recency_orders_equal_matches_and_expired_memories_are_never_recalled():
    store, now = in_memory_store(ENCODER), datetime(2026, 12, 1, tzinfo=timezone.utc)
    record(store, "alice", new_item("anxious", "driving examination", "old", now - timedelta(days=90), None, None))
    record(store, "alice", new_item("anxious", "driving examination", "new", now - timedelta(days=2), None, None))
    record(store, "alice", new_item("anxious", "driving examination", "gone", now - timedelta(days=1), 0.5, None))
    found = recall(store, "alice", "driving examination", None, RecallSettings(0.45, 5), now=now)
    assert [memory["thread_id"] for memory in found] == ["new", "old"]


def test_a_store_with_ttl_support_is_given_the_ttl(tmp_path):
    store, now = sqlite_store(tmp_path / "m.sqlite", ENCODER), datetime.now(timezone.utc)
    record(store, "alice", new_item("anxious", "driving examination", "t", now, 2.0, None))
    raw = sqlite3.connect(tmp_path / "m.sqlite")
    assert raw.execute("SELECT ttl_minutes FROM store").fetchone() == (2.0 * 24 * 60,)


def test_user_ids_that_look_alike_never_share_memories():
    store = in_memory_store(ENCODER)
    hef, _ = graph(store)
    for name in ("alice", "alice.smith", "alice2"):
        turn(hef, "The driving examination frightens me", name)
    assert len({user_namespace(name) for name in ("alice", "alice.smith", "alice2")}) == 3
    for name in ("alice", "alice.smith", "alice2"):
        assert len(all_items(store, user_namespace(name))) == 1


def test_memory_note_is_one_line_or_none():
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    assert memory_note([]) is None
    item = {"key": "k", "time": (now - timedelta(days=7)).isoformat(), "emotion": "anxious", "valence": "negative",
            "cause": "job interview", "thread_id": "t", "similarity": 0.8, "score": 0.85}  # fmt: skip
    note = memory_note([item, {**item, "time": (now - timedelta(hours=2)).isoformat(), "emotion": "hopeful"}], now)
    assert note == ("From earlier conversations with this person (mention only if it fits): 7 days ago they felt "
                    "anxious about job interview; earlier today they felt hopeful about job interview.")  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"user_id": " "}, "user_id must be a non-empty string"),
        ({"memory_threshold": 1.5}, "memory_threshold must be between 0 and 1"),
        ({"memory_limit": -1}, "memory_limit must be between 0 and 10"),
        ({"memory_ttl_days": 0}, "memory_ttl_days must be > 0"),
        ({"memory_encoder": "minilm"}, "memory_encoder must have embed"),
    ],
)
def test_bad_memory_settings_are_refused(settings, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Context(**settings)


def test_the_note_reaches_the_prompt_among_the_notes_before_the_task():
    store, alice = in_memory_store(ENCODER), user()
    hef, llm = graph(store)
    turn(hef, "The driving examination frightens me", alice)
    turn(hef, "The driving examination frightens me", alice)
    prompt = llm.prompts[-1][-1]
    assert isinstance(prompt, HumanMessage)
    lines = prompt.content.splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("- From earlier conversations"))
    assert lines[note + 1].startswith("Write your next reply")


STEP = """
import sys
from hef_graph import Context, build_graph
from hef_graph.memory import sqlite_store
from tests.conftest import ScriptedSEM, ScriptedTagger, WordEncoder, fake_llm
encoder = WordEncoder()
graph = build_graph(store=sqlite_store(sys.argv[1], encoder), llm=fake_llm("sad", "Sorry."), sem=ScriptedSEM(),
                    cause_tagger=ScriptedTagger(), memory_encoder=encoder)
out = graph.invoke({"messages": [("user", sys.argv[2])]}, {"configurable": {"thread_id": sys.argv[3]}},
                   context=Context(user_id="alice"))
print("|".join(m["thread_id"] for m in out["recalled_memories"]))
"""


def run_step(*args: str) -> str:
    return run_script(STEP, *args)


@pytest.mark.subprocess
def test_memory_survives_a_process_restart_with_sqlite(tmp_path):
    db = str(tmp_path / "memory.sqlite")
    assert run_step(db, "The driving examination frightens me", "monday") == ""
    assert run_step(db, "The driving examination frightens me", "friday") == "monday"


def test_the_sqlite_store_searches_with_sqlite_vec_where_sqlite_can_load_it(tmp_path):
    from hef_graph.memory import _sqlite_with_extensions, has_index

    if _sqlite_with_extensions() is None:
        pytest.skip("this Python's sqlite3 cannot load extensions and pysqlite3 is not installed (the memory extra)")
    store = sqlite_store(tmp_path / "m.sqlite", ENCODER)
    assert has_index(store)
    record(store, "alice", new_item("anxious", "driving examination", "t", datetime.now(timezone.utc), None, None))
    raw = sqlite3.connect(tmp_path / "m.sqlite")
    assert raw.execute("SELECT count(*) FROM store_vectors").fetchone() == (1,)


def test_the_trace_page_shows_what_was_recalled_and_remembered():
    from hef_graph.trace import render_html, traced_invoke

    store, alice = in_memory_store(ENCODER), user()
    hef, _ = graph(store)
    turn(hef, "The driving examination frightens me", alice)
    config = {"configurable": {"thread_id": "traced"}}
    traced = traced_invoke(hef, {"messages": [("user", "The driving examination frightens me")]}, config,
                           context=Context(user_id=alice))  # fmt: skip
    page = render_html([traced])
    assert "Memory across threads" in page and page.count("class='recalled'") == 1
    assert page.count("class='remembered'") == 1 and "examination frightens" in page
