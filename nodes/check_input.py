"""Input checks, before any model runs: an empty turn gets an invitation and a crisis turn the safe reply."""

from __future__ import annotations

import re
from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import settings
from hef_graph.dialogue import dialogue_from_messages
from hef_graph.handoff import require_checkpointer, turn_reason
from hef_graph.prompting import render_prompt
from hef_graph.safety import is_crisis
from hef_graph.state import HEFState


def check_input(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Read the dialogue and reset this turn's fields, so nothing stale survives from a past turn.

    An empty or whitespace-only turn is answered here with a short invitation (no model can read it);
    an explicit crisis statement is flagged for the safe reply. A turn that must wait for a person
    (``hef_graph.handoff.turn_reason``) is marked pending before any model runs, and gets no invitation.
    """
    dialogue = dialogue_from_messages(state.get("messages", []))
    context = settings(runtime)
    require_checkpointer(context.hands_off())
    reason = turn_reason(state, context.hands_off(), dialogue[-1])
    update: dict[str, Any] = {
        "dialogue": dialogue, "sem_distribution": {}, "primary_emotions": [], "sem_cause_words": [],
        "judgements": [], "emotion": None, "emotion_stage": None, "cause_words": [], "reply": "",
        "crisis": is_crisis(dialogue[-1]), "handoff_reason": reason, "handoff_pending": reason is not None,
        "handoff": None, "recalled_memories": [], "remembered": None,
    }  # fmt: skip
    if not update["crisis"] and reason is None and not re.search(r"\S", dialogue[-1]):
        reply = render_prompt("empty_turn")
        update |= {"reply": reply, "messages": [AIMessage(reply)]}
    return update


def route_after_input(state: HEFState) -> Literal["safe_reply", "detect_emotion", "hand_off", "__end__"]:
    """Crisis turns go to the safe reply and answered (empty) turns end; the rest meet the SEM.

    An empty turn that waits for a person goes straight to them: the SEM has nothing to read.
    """
    if state.get("crisis"):
        return "safe_reply"
    if state.get("reply"):
        return "__end__"
    if state.get("handoff_reason") and not re.search(r"\S", state["dialogue"][-1]):
        return "hand_off"
    return "detect_emotion"
