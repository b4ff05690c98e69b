"""Threads encrypted at rest: with an AES key set, no row of the thread store holds the conversation's text.

The raw rows are read with the databases' own drivers (sqlite3, psycopg), as someone holding a copy of the
database would; the same test without a key finds the text, so it can tell the two apart.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from hef_graph import build_graph
from hef_graph.encryption import aes_key
from hef_graph.errors import EncryptionKeyError
from hef_graph.persistence import checkpointer_from_url
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

POSTGRES_URL = os.environ.get("HEF_TEST_POSTGRES_URL", "")
NO_POSTGRES = "no Postgres server: set HEF_TEST_POSTGRES_URL (.ci/run starts one on loopback)"
ON_POSTGRES = [pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)]
KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
MESSAGE = "My axolotl Bartholomew stopped eating his bloodworms"
REPLY = "I hope Bartholomew the axolotl is nibbling again soon"
SECOND_MESSAGE = "The vet said his gills look pale and feathery"


@dataclass
class Backend:
    """A thread store by URL, and every raw row it holds for one thread."""

    url: str
    raw_rows: Callable[[str], list[tuple[object, ...]]]


def sqlite_backend(path: Path) -> Backend:
    def raw_rows(thread_id: str) -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(path)) as connection:
            query = "SELECT * FROM {} WHERE thread_id = ?"
            return [
                row
                for table in ("checkpoints", "writes")
                for row in connection.execute(query.format(table), (thread_id,))
            ]

    return Backend(str(path), raw_rows)


def postgres_backend(url: str) -> Backend:
    import psycopg

    def raw_rows(thread_id: str) -> list[tuple[object, ...]]:
        tables = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        with psycopg.connect(url) as connection:
            query = "SELECT * FROM {} WHERE thread_id = %s"
            return [row for table in tables for row in connection.execute(query.format(table), (thread_id,))]

    return Backend(url, raw_rows)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("HEF_AES_KEY", "LANGGRAPH_AES_KEY"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=ON_POSTGRES)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield sqlite_backend(tmp_path / "threads.sqlite") if request.param == "sqlite" else postgres_backend(POSTGRES_URL)


def holds(rows: list[tuple[object, ...]], text: str) -> bool:
    """Whether any column of any row contains ``text`` as readable UTF-8/ASCII."""
    for row in rows:
        for value in row:
            readable = bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value)
            if text in readable:
                return True
    return False


def graph_on(backend: Backend, *answers: str):
    return build_graph(checkpointer=checkpointer_from_url(backend.url), llm=fake_llm(*answers), sem=ScriptedSEM(),
                       cause_tagger=ScriptedTagger())  # fmt: skip


def new_thread() -> dict:
    return {"configurable": {"thread_id": f"enc-{uuid.uuid4().hex}"}}


def say(backend: Backend, config: dict, message: str, reply: str) -> dict:
    return graph_on(backend, "sad", reply).invoke({"messages": [("user", message)]}, config)


def contents(backend: Backend, config: dict) -> list[str]:
    return [message.content for message in graph_on(backend).get_state(config).values["messages"]]


@pytest.mark.parametrize("key", [None, KEY], ids=["no key", "key"])
def test_rows_hold_the_conversation_only_without_a_key(backend, key, monkeypatch):
    if key:
        monkeypatch.setenv("HEF_AES_KEY", key)
    config = new_thread()
    say(backend, config, MESSAGE, REPLY)
    rows = backend.raw_rows(config["configurable"]["thread_id"])
    assert rows, "the thread wrote no rows"
    # the reply is also a plain string channel, which PostgresSaver keeps in its JSON column unless boxed
    assert holds(rows, MESSAGE) is (key is None)
    assert holds(rows, REPLY) is (key is None)
    assert holds(rows, "Bartholomew") is (key is None)


def test_the_right_key_reads_the_thread_back_and_continues_it(backend, monkeypatch):
    monkeypatch.setenv("HEF_AES_KEY", KEY)
    config = new_thread()
    say(backend, config, MESSAGE, REPLY)
    say(backend, config, SECOND_MESSAGE, "That sounds worrying.")
    assert contents(backend, config) == [MESSAGE, REPLY, SECOND_MESSAGE, "That sounds worrying."]
    state = graph_on(backend).get_state(config).values
    assert (state["reply"], state["emotion"]) == ("That sounds worrying.", "sad")


@pytest.mark.parametrize("reader_key", [None, OTHER_KEY], ids=["without the key", "with another key"])
def test_an_encrypted_thread_is_refused_without_its_key(backend, reader_key, monkeypatch):
    monkeypatch.setenv("HEF_AES_KEY", KEY)
    config = new_thread()
    say(backend, config, MESSAGE, REPLY)
    if reader_key:
        monkeypatch.setenv("HEF_AES_KEY", reader_key)
    else:
        monkeypatch.delenv("HEF_AES_KEY")
    with pytest.raises(EncryptionKeyError, match="HEF_AES_KEY") as error:
        graph_on(backend).get_state(config)
    assert ("no AES key is set" in str(error.value)) is (reader_key is None)
    with pytest.raises(EncryptionKeyError):  # a new turn too: never answered over an unreadable history
        say(backend, config, SECOND_MESSAGE, "Sorry.")


def history(backend: Backend, config: dict) -> list[tuple[int, str | None, str | None]]:
    """Every checkpoint of the thread, newest first: how many messages, the reply and the emotion."""
    snapshots = graph_on(backend).get_state_history(config)
    return [(len(s.values.get("messages", [])), s.values.get("reply"), s.values.get("emotion")) for s in snapshots]


def test_a_thread_from_before_the_key_stays_readable_and_new_turns_are_sealed(backend, monkeypatch):
    before, plain = new_thread(), new_thread()
    say(backend, before, MESSAGE, REPLY)
    say(backend, plain, MESSAGE, REPLY)
    say(backend, plain, SECOND_MESSAGE, "That sounds worrying.")
    monkeypatch.setenv("HEF_AES_KEY", KEY)
    say(backend, before, SECOND_MESSAGE, "That sounds worrying.")
    assert contents(backend, before) == [MESSAGE, REPLY, SECOND_MESSAGE, "That sounds worrying."]
    # every checkpoint reads as in a thread that never had a key; in Postgres that needs the first turn's
    # reply, kept only in its plain JSON, sealed again when the second turn's first checkpoint refers to it
    assert history(backend, before) == history(backend, plain)
    rows = backend.raw_rows(before["configurable"]["thread_id"])
    assert holds(rows, MESSAGE), "rows written before the key are not rewritten"
    assert not holds(rows, SECOND_MESSAGE)


def test_hef_key_wins_over_langgraph_key(backend, monkeypatch, caplog):
    monkeypatch.setenv("HEF_AES_KEY", KEY)
    monkeypatch.setenv("LANGGRAPH_AES_KEY", OTHER_KEY)
    config = new_thread()
    with caplog.at_level(logging.WARNING, logger="hef_graph.encryption"):
        say(backend, config, MESSAGE, REPLY)
    assert "HEF_AES_KEY and LANGGRAPH_AES_KEY differ" in caplog.text
    monkeypatch.delenv("HEF_AES_KEY")  # LANGGRAPH_AES_KEY alone is the other key
    with pytest.raises(EncryptionKeyError, match="LANGGRAPH_AES_KEY"):
        graph_on(backend).get_state(config)
    monkeypatch.setenv("LANGGRAPH_AES_KEY", KEY)  # LangGraph's variable alone works when it holds the key
    assert contents(backend, config) == [MESSAGE, REPLY]


@pytest.mark.parametrize("variable", ["HEF_AES_KEY", "LANGGRAPH_AES_KEY"])
@pytest.mark.parametrize("length", [8, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused_with_the_fix(variable, length, monkeypatch, tmp_path):
    monkeypatch.setenv(variable, "k" * length)
    with pytest.raises(EncryptionKeyError, match=f"{variable} must be 16, 24 or 32 bytes long.*not {length}"):
        checkpointer_from_url(str(tmp_path / "threads.sqlite"))


def test_an_empty_variable_is_no_key(monkeypatch):
    monkeypatch.setenv("HEF_AES_KEY", "")
    monkeypatch.setenv("LANGGRAPH_AES_KEY", KEY)
    key = aes_key()
    assert key is not None and key.variable == "LANGGRAPH_AES_KEY"
    monkeypatch.setenv("LANGGRAPH_AES_KEY", "")
    assert aes_key() is None


@pytest.mark.parametrize("length", [16, 24, 32])
def test_aes_128_192_and_256_keys_are_accepted(length, monkeypatch):
    monkeypatch.setenv("LANGGRAPH_AES_KEY", "é" * (length // 2))  # the key is the variable's UTF-8 bytes
    key = aes_key()
    assert key is not None and (key.variable, len(key.secret)) == ("LANGGRAPH_AES_KEY", length)
    assert repr(key.secret) not in repr(key)  # the secret stays out of logs and tracebacks
