"""Emotional memory across conversations: a later thread recalls what an earlier one was about.

Run: python examples/memory.py   (HEF_LLM=smollm2 for the tiny LLM; a SQLite file keeps memory across runs:
hef_graph.memory.sqlite_store("memory.sqlite"))
"""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from hef_graph import Context, build_graph
from hef_graph.memory import forget_user, in_memory_store

EARLIER = "I have a job interview on Monday and I can't sleep."
LATER = "The interview is tomorrow and my hands are shaking."


def run(llm: str | None = None) -> dict:
    """Two threads of one person; return the later thread's state (its ``recalled_memories``, its reply)."""
    store = in_memory_store()  # embeds cause phrases with the shipped MiniLM
    graph = build_graph(checkpointer=InMemorySaver(), store=store, llm=llm)
    context = Context(user_id="alice")  # required with memory on: HEF never guesses who is talking
    graph.invoke({"messages": [("user", EARLIER)]}, {"configurable": {"thread_id": "monday"}}, context=context)
    later = graph.invoke({"messages": [("user", LATER)]}, {"configurable": {"thread_id": "sunday"}}, context=context)
    forget_user(store, "alice")  # what `hef forget --user alice` does for a SQLite or Postgres store
    return later


def main() -> None:
    """Print what the later thread recalled and its reply."""
    later = run()
    for memory in later["recalled_memories"]:
        print(f"recalled from thread {memory['thread_id']}: {memory['emotion']} about {memory['cause']!r} "
              f"(similarity {memory['similarity']:.2f})")  # fmt: skip
    print(f"reply: {later['reply']}")


if __name__ == "__main__":
    main()
