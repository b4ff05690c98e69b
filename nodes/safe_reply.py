"""Safety node, safe_reply: a person in crisis gets a fixed, reviewed reply instead of an LLM's."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import settings
from hef_graph.prompting import render_prompt
from hef_graph.state import HEFState


def safe_reply(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Acknowledge, encourage reaching out, and point to emergency services and crisis lines (no numbers).

    With a hand-off (``Context.handoff``, or a turn already waiting for a person) nothing is sent here: the
    turn is marked as a crisis for hand_off, which drafts the same safe reply for the reviewer.
    """
    causes = state.get("sem_cause_words", [])
    if settings(runtime).hands_off() or state.get("handoff_reason"):
        return {"handoff_reason": "crisis", "handoff_pending": True, "cause_words": causes}
    reply = render_prompt("safe_reply")
    return {"reply": reply, "messages": [AIMessage(reply)], "cause_words": causes}


def route_after_safe_reply(state: HEFState) -> Literal["hand_off", "__end__"]:
    """A crisis turn waiting for a person goes to hand_off; otherwise the safe reply was sent and the turn ends."""
    return "hand_off" if state.get("handoff_pending") else "__end__"
