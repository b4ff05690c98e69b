"""(a) HEF as a subgraph node inside a parent MessagesState chatbot; both share `messages`.

Run: python examples/subgraph_chatbot.py
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from hef_graph import build_graph


def tidy_input(state: MessagesState) -> dict:
    """A parent-graph step before HEF: normalise the user's whitespace (replaces the message by id)."""
    last = state["messages"][-1]
    return {"messages": [HumanMessage(" ".join(str(last.content).split()), id=last.id)]}


def build_chatbot():
    """Parent graph: tidy_input -> hef (the compiled HEF graph as a node)."""
    parent = StateGraph(MessagesState)
    parent.add_node("tidy_input", tidy_input)
    parent.add_node("hef", build_graph())
    parent.add_edge(START, "tidy_input")
    parent.add_edge("tidy_input", "hef")
    parent.add_edge("hef", END)
    return parent.compile(checkpointer=InMemorySaver())


def main() -> None:
    """Two turns on one thread."""
    chatbot = build_chatbot()
    config = {"configurable": {"thread_id": "example"}}
    for text in ["I   failed my driving test   again.", "The examiner said I was too nervous."]:
        out = chatbot.invoke({"messages": [("user", text)]}, config)
        print(f"user: {text}\nbot:  {out['messages'][-1].content}\n")


if __name__ == "__main__":
    main()
