"""The same thread through Postgres on loopback (.ci/run starts a throwaway server from Debian's package)."""

import os
import uuid

import pytest

from hef_graph import build_graph
from hef_graph.persistence import checkpointer_from_url
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

URL = os.environ.get("HEF_TEST_POSTGRES_URL")


@pytest.mark.postgres
@pytest.mark.skipif(not URL, reason="no Postgres server: set HEF_TEST_POSTGRES_URL (.ci/run starts one on loopback)")
def test_thread_accumulates_in_postgres():
    config = {"configurable": {"thread_id": f"pg-{uuid.uuid4().hex}"}}
    first = build_graph(
        checkpointer=checkpointer_from_url(URL),
        llm=fake_llm("sad", "I'm sorry."),
        sem=ScriptedSEM(),
        cause_tagger=ScriptedTagger(),
    )
    first.invoke({"messages": [("user", "I lost my job")]}, config)
    # a second graph object, as after a restart, continues the thread
    second = build_graph(
        checkpointer=checkpointer_from_url(URL),
        llm=fake_llm("sad", "That is hard."),
        sem=ScriptedSEM(),
        cause_tagger=ScriptedTagger(),
    )
    out = second.invoke({"messages": [("user", "and my rent is due")]}, config)
    assert [m.content for m in out["messages"]] == [
        "I lost my job",
        "I'm sorry.",
        "and my rent is due",
        "That is hard.",
    ]


def test_sqlite_is_chosen_for_paths(tmp_path):
    saver = checkpointer_from_url(str(tmp_path / "x.sqlite"))
    assert type(saver).__name__ == "SqliteSaver"
    assert (tmp_path / "x.sqlite").is_file()
