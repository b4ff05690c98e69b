"""Threads persist in SQLite: a conversation survives a process restart."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TURN = """
import sys
from hef_graph import build_graph, sqlite_checkpointer
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm
graph = build_graph(checkpointer=sqlite_checkpointer(sys.argv[1]), llm=fake_llm("sad", sys.argv[3]), sem=ScriptedSEM(),
                    cause_tagger=ScriptedTagger())
out = graph.invoke({"messages": [("user", sys.argv[2])]}, {"configurable": {"thread_id": "persisted"}})
print(len(out["messages"]), out["emotion"], "|".join(m.content for m in out["messages"]))
"""


def turn(db: Path, text: str, reply: str) -> str:
    result = subprocess.run([sys.executable, "-c", TURN, str(db), text, reply], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


@pytest.mark.subprocess
def test_conversation_survives_a_process_restart(tmp_path):
    db = tmp_path / "threads.sqlite"
    assert turn(db, "I lost my job today", "I'm sorry.") == "2 sad I lost my job today|I'm sorry."
    second = turn(db, "And my rent is due", "That is a lot at once.")
    assert second == "4 sad I lost my job today|I'm sorry.|And my rent is due|That is a lot at once."


def test_past_turns_stay_inspectable_in_history(tmp_path):
    from hef_graph import build_graph, sqlite_checkpointer
    from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

    llm = fake_llm("none", "nostalgic", "Old photos.", "sad", "Sorry.")
    graph = build_graph(
        checkpointer=sqlite_checkpointer(tmp_path / "t.sqlite"),
        llm=llm,
        sem=ScriptedSEM(),
        cause_tagger=ScriptedTagger(),
    )
    config = {"configurable": {"thread_id": "h"}}
    graph.invoke({"messages": [("user", "I found old photos")]}, config)
    graph.invoke({"messages": [("user", "My grandma is in them")]}, config)
    finished_turns = [s.values for s in graph.get_state_history(config) if not s.next and s.values.get("reply")]
    assert [(v["emotion"], v["emotion_stage"]) for v in finished_turns] == [
        ("sad", "primary"),
        ("nostalgic", "fallback"),
    ]
