"""Human hand-off node, hand_off: the turn pauses with interrupt() until a person says what to send."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from hef_graph.context import Context
from hef_graph.deps import settings
from hef_graph.handoff import ACTIONS, HandoffReason, HandoffRequest, decide, decision_problem
from hef_graph.prompting import render_prompt
from hef_graph.state import HEFState

log = logging.getLogger(__name__)

DRAFTS: dict[HandoffReason, str | None] = {
    "crisis": "safe_reply",
    "asked_for_human": "handoff_reply",
    "taken_over": None,
}
"""The prompt file each reason drafts from (None: on a taken-over thread the person writes the reply)."""


def hand_off(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pause until a reviewer answers, then send what they chose (or nothing) and record the decision.

    LangGraph reruns this node from the top on resume, so everything before ``interrupt()`` is a pure function
    of the state. A refused answer (an unknown action, 'edit' without text) pauses again with the reason in
    ``error`` instead of raising: a raised error would leave the refused value stored as the thread's answer.
    """
    request = handoff_request(state, settings(runtime))
    answer = interrupt(request)
    while (problem := decision_problem(answer, request)) is not None:
        log.warning("hand-off answer refused: %s", problem)
        answer = interrupt(HandoffRequest(**request, error=problem))
    decision = decide(answer, request)
    taken_over = {"take_over": True, "hand_back": False}.get(decision["action"], bool(state.get("taken_over")))
    update: dict[str, Any] = {"handoff": decision, "handoff_pending": False, "taken_over": taken_over,
                              "reply": decision["reply"] or ""}  # fmt: skip
    if decision["reply"]:
        update["messages"] = [AIMessage(decision["reply"])]
    return update


def handoff_request(state: HEFState, context: Context) -> HandoffRequest:
    """The pause's payload: the dialogue, the SEM's emotion, why it waits, and HEF's draft (if any)."""
    reason: HandoffReason = state.get("handoff_reason") or "asked_for_human"
    draft_prompt = DRAFTS[reason]
    return HandoffRequest(
        reason=reason, dialogue=list(state["dialogue"]), emotion=state.get("emotion"),
        draft=render_prompt(draft_prompt) if draft_prompt else None, reviewer=context.reviewer, actions=list(ACTIONS),
    )  # fmt: skip
