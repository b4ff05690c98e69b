"""One worker of tests/test_postgres_workers.py: the graph on a shared Postgres, taking turns the parent sends.

Usage, from the repository root: ``python -m tests.postgres_worker POSTGRES_URL``. The graph runs the real
shipped models (the LLM that ``$HEF_LLM`` names, the SEM, the cause tagger, MiniLM for memory). Each stdin line
is one turn as JSON (``user``, ``thread``, ``text``); each answer is one stdout line of JSON: the turn's thread,
the threads of the memories it recalled, the thread of the memory it recorded (or None), and this process's id.
"""

from __future__ import annotations

import json
import os
import sys

from hef_graph import Context, build_graph
from hef_graph.memory import postgres_store
from hef_graph.persistence import checkpointer_from_url

REPLY_TOKENS = 16
"""A short reply cap: the test checks what is saved and shared, not the reply, and the LLM's time is most of a turn."""


def answer(graph, turn: dict) -> dict:
    """Run one turn and report what the parent checks."""
    config = {"configurable": {"thread_id": turn["thread"]}}
    context = Context(user_id=turn["user"], max_new_tokens=REPLY_TOKENS)
    out = graph.invoke({"messages": [("user", turn["text"])]}, config, context=context)
    remembered = out.get("remembered")
    return {
        "thread": turn["thread"],
        "recalled": [memory["thread_id"] for memory in out.get("recalled_memories", [])],
        "remembered": remembered["thread_id"] if remembered else None,
        "pid": os.getpid(),
    }


def main(url: str) -> None:
    graph = build_graph(checkpointer=checkpointer_from_url(url), store=postgres_store(url))
    for line in sys.stdin:
        sys.stdout.write(json.dumps(answer(graph, json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
