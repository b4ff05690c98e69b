"""A human hand-off: a crisis turn pauses before any reply is sent, and a person decides what goes out.

Run: python examples/hand_off.py
(The crisis statement is caught before any model runs, so this example loads no model.)
"""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from hef_graph import Context, build_graph, pending_handoff, resume_handoff

MESSAGE = "I don't see the point anymore. I want to end my life."
REVIEWER = "on-call counsellor"
EDITED = "I'm Sam, a counsellor on the team, and I'm reading this now. Are you somewhere safe at the moment?"


def run(graph=None) -> tuple[dict, dict]:
    """One crisis turn on a thread with a reviewer: return the pause's payload and the state after the edit."""
    graph = graph or build_graph(checkpointer=InMemorySaver())  # hand-offs need a checkpointer
    config = {"configurable": {"thread_id": "hand-off-example"}}
    context = Context(reviewer=REVIEWER)
    paused = graph.invoke({"messages": [("user", MESSAGE)]}, config, context=context)
    request = paused["__interrupt__"][0].value  # also: pending_handoff(graph, config), e.g. after a restart
    assert pending_handoff(graph, config) == request
    # The reviewer may send the draft as is ("send"), send their own text ("edit"), take the thread over
    # ("take_over": nothing is sent, later turns wait for them) or hand it back ("hand_back").
    done = resume_handoff(graph, config, "edit", EDITED, context=context)
    return request, done


def main() -> None:
    """Show what the reviewer sees and what the person receives."""
    request, done = run()
    print(f"paused: {request['reason']} (reviewer: {request['reviewer']})")
    print(f"draft:  {request['draft']}")
    print(f"sent:   {done['messages'][-1].content}")
    print(f"record: {done['handoff']}")


if __name__ == "__main__":
    main()
