"""64 concurrent threads on one graph with the SQLite store, and a process killed mid-turn."""

import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from hef_graph import build_graph, sqlite_checkpointer
from tests.conftest import ScriptedSEM, ScriptedTagger

ROOT = Path(__file__).resolve().parents[1]


class EchoModel(FakeListChatModel):
    """Answers 'sad' to judgements and echoes the user's last words in replies, so cross-talk would show."""

    def _call(self, messages, *args, **kwargs):  # type: ignore[override]
        prompt = str(messages[-1].content)
        if "Which emotion" in prompt:
            return "sad"
        last_line = [line for line in prompt.splitlines() if line.startswith("Speaker:")][-1]
        return f"About {last_line.removeprefix('Speaker: ')}"


def test_64_concurrent_threads_keep_their_own_turns(tmp_path):
    graph = build_graph(checkpointer=sqlite_checkpointer(tmp_path / "t.sqlite"), llm=EchoModel(responses=["x"]),
                        sem=ScriptedSEM(), cause_tagger=ScriptedTagger())  # fmt: skip

    def conversation(index: int) -> list[str]:
        config = {"configurable": {"thread_id": f"user-{index}"}}
        for turn in range(2):
            graph.invoke({"messages": [("user", f"topic{index} turn{turn}")]}, config)
        return [m.content for m in graph.get_state(config).values["messages"]]

    with ThreadPoolExecutor(64) as pool:
        histories = list(pool.map(conversation, range(64)))
    for index, history in enumerate(histories):
        assert history == [f"topic{index} turn0", f"About topic{index} turn0",
                           f"topic{index} turn1", f"About topic{index} turn1"]  # fmt: skip


KILLED_TURN = """
import sys, time
from hef_graph import build_graph, sqlite_checkpointer
from tests.conftest import ScriptedSEM, ScriptedTagger
from langchain_core.language_models.fake_chat_models import FakeListChatModel

class Slow(FakeListChatModel):
    def _call(self, messages, *args, **kwargs):
        if "Which emotion" not in str(messages[-1].content):
            print("drafting", flush=True)
            time.sleep(60)
        return super()._call(messages, *args, **kwargs)

graph = build_graph(checkpointer=sqlite_checkpointer(sys.argv[1]), llm=Slow(responses=["sad"]), sem=ScriptedSEM(),
                    cause_tagger=ScriptedTagger())
graph.invoke({"messages": [("user", "My cat is sick")]}, {"configurable": {"thread_id": "k"}}, durability="sync")
"""


@pytest.mark.subprocess
def test_a_process_killed_mid_turn_leaves_the_thread_loadable_and_retryable(tmp_path):
    db = tmp_path / "t.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_TURN, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "drafting"  # killed inside draft_response
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    graph = build_graph(checkpointer=sqlite_checkpointer(db), llm=FakeListChatModel(responses=["Poor cat."]),
                        sem=ScriptedSEM(), cause_tagger=ScriptedTagger())  # fmt: skip
    config = {"configurable": {"thread_id": "k"}}
    state = graph.get_state(config)
    assert state.next == ("draft_response",) and state.values["emotion"] == "sad"
    out = graph.invoke(None, config)  # retry the interrupted turn from its last checkpoint
    assert [m.content for m in out["messages"]] == ["My cat is sick", "Poor cat."]
