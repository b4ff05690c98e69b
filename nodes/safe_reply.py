"""Safety node, safe_reply: a person in crisis gets a fixed, reviewed reply instead of an LLM's."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.prompting import render_prompt
from hef_graph.state import HEFState


def safe_reply(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Acknowledge, encourage reaching out, and point to emergency services and crisis lines (no numbers)."""
    reply = render_prompt("safe_reply")
    return {"reply": reply, "messages": [AIMessage(reply)], "cause_words": state.get("sem_cause_words", [])}
