"""Human hand-off: which turns a person must see before anything is sent, and how that person answers.

With ``Context(handoff=True)`` (or a ``reviewer``), a crisis turn and a turn in which the person asks for a
human pause in the ``hand_off`` node with LangGraph's ``interrupt()``. The pause carries a
``HandoffRequest``; the reviewer resumes with ``Command(resume={"action": ...})`` or, with the checks done
before anything reaches the thread, ``resume_handoff``. Without either setting nothing here runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, cast

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.constants import CONFIG_KEY_CHECKPOINTER
from langgraph.pregel import Pregel
from langgraph.types import Command
from langgraph.typing import ContextT
from typing_extensions import NotRequired  # typing has it from Python 3.11 only

from hef_graph.errors import HandoffError

HandoffReason = Literal["crisis", "asked_for_human", "taken_over"]
HandoffAction = Literal["send", "edit", "take_over", "hand_back"]
ACTIONS: tuple[HandoffAction, ...] = ("send", "edit", "take_over", "hand_back")
"""send: the draft as is; edit: the reviewer's ``reply`` instead; take_over: nothing now, and every later turn of
the thread waits for a person; hand_back: HEF answers the thread again from the next turn (``reply``, if given,
is sent now)."""

# A request for a person, in the writer's own words; negated forms ("I don't need a human") are left out.
HUMAN_REQUEST_PATTERNS = [
    r"\b(talk|speak|chat|write)\s+(to|with)\s+(a|an|some|one)?\s*(real\s+|actual\s+|live\s+)?"
    r"(human|person|people|someone\s+real|human\s+being|staff|counsel+or|therapist)\b",
    r"\b(want|need|prefer)\s+(a\s+|an\s+)?(real|actual|live)\s+(human|person)\b",
    r"\b(get|want|need|give)\s+(me\s+)?(a|an)\s+(human|person)\b",
    r"\bhuman\s+(agent|operator|being|please)\b",
    r"\bare\s+you\s+(a\s+)?(bot|robot|machine|an?\s+ai)\b.*\b(human|person)\b",
]
_HUMAN_REQUEST = [re.compile(pattern, re.IGNORECASE) for pattern in HUMAN_REQUEST_PATTERNS]
_NEGATED = re.compile(r"\b(don'?t|do\s+not|no|never|not)\b[^.!?]{0,25}$", re.IGNORECASE)


class HandoffRequest(TypedDict):
    """What the reviewer sees when a turn pauses (the ``interrupt()`` payload; plain JSON for the SDK)."""

    reason: HandoffReason
    dialogue: list[str]
    """The turns so far, user first, oldest first; the last is the one waiting for an answer."""
    emotion: str | None
    """The SEM's reading of the turn (None when no model ran: an explicit crisis statement)."""
    draft: str | None
    """What HEF would send: the safe reply (crisis), a short 'a person will answer' note (asked_for_human), or
    None on a thread a person has taken over."""
    reviewer: str | None
    actions: list[str]
    error: NotRequired[str]
    """Why the previous resume value was refused; the thread is still paused and waits for a valid one."""


class HandoffDecision(TypedDict):
    """The reviewer's answer as the state records it (``HEFState.handoff``)."""

    reason: HandoffReason
    action: HandoffAction
    reply: str | None
    """The text sent to the person; None when nothing was sent (take_over, or hand_back without a reply)."""
    reviewer: str | None


def asks_for_human(text: str) -> bool:
    """Tell whether the writer asks to talk to a person rather than the bot (negated requests do not count)."""
    for pattern in _HUMAN_REQUEST:
        for match in pattern.finditer(text):
            if not _NEGATED.search(text[: match.start()]):
                return True
    return False


def require_checkpointer(hands_off: bool) -> None:
    """Refuse a hand-off run that could never be resumed: without a checkpointer the paused turn is lost.

    ``hands_off`` is ``Context.hands_off()``: whether this run may pause for a person. Called from inside a
    node (``get_config`` needs a running graph); LangGraph's server supplies its own checkpointer, which counts.
    """
    if hands_off and get_config().get("configurable", {}).get(CONFIG_KEY_CHECKPOINTER) is None:
        raise HandoffError(
            "Context(handoff=True) or a reviewer needs a checkpointer to pause and resume turns: "
            "build_graph(checkpointer=InMemorySaver()) or hef_graph.sqlite_checkpointer(), and a thread_id"
        )


def turn_reason(state: Mapping[str, Any], hands_off: bool, text: str) -> HandoffReason | None:
    """Why this user turn must wait for a person, before any model runs (crisis is decided by safe_reply).

    A taken-over thread always waits. A turn that arrives while an earlier one is still paused keeps that
    earlier reason: the earlier pause is dropped by LangGraph, so the reviewer answers both turns at once.
    ``hands_off`` is ``Context.hands_off()``: whether requests for a human wait for one.
    """
    if state.get("taken_over"):
        return "taken_over"
    if state.get("handoff_pending") and state.get("handoff_reason"):
        return cast(HandoffReason, state["handoff_reason"])
    return "asked_for_human" if hands_off and asks_for_human(text) else None


def decision_problem(answer: object, request: HandoffRequest) -> str | None:
    """Say what is wrong with a resume value, or None when it can be carried out as is."""
    if isinstance(answer, str):
        answer = {"action": answer}
    if not isinstance(answer, Mapping):
        return f"resume with a dict such as {{'action': 'send'}}, got {type(answer).__name__}"
    action = answer.get("action")
    if action not in ACTIONS:
        return f"unknown hand-off action {action!r}; expected one of {', '.join(ACTIONS)}"
    reply = answer.get("reply")
    if reply is not None and (not isinstance(reply, str) or not reply.strip()):
        return "'reply' must be non-empty text"
    if action == "edit" and reply is None:
        return "action 'edit' needs the text to send: {'action': 'edit', 'reply': '...'}"
    if action == "send" and not request["draft"]:
        return "there is no draft to send on this turn: use 'edit' with your reply, 'take_over' or 'hand_back'"
    return None


def decide(answer: object, request: HandoffRequest) -> HandoffDecision:
    """Turn a valid resume value into the recorded decision (``decision_problem`` must have passed)."""
    fields = {"action": answer} if isinstance(answer, str) else dict(cast(Mapping[str, Any], answer))
    action = cast(HandoffAction, fields["action"])
    reply = request["draft"] if action == "send" else cast(str | None, fields.get("reply"))
    if action == "take_over":
        reply = None
    reviewer = fields.get("reviewer") if isinstance(fields.get("reviewer"), str) else request["reviewer"]
    return HandoffDecision(reason=request["reason"], action=action, reply=reply, reviewer=reviewer)


def pending_handoff(graph: Pregel[Any, Any, Any, Any], config: RunnableConfig) -> HandoffRequest | None:
    """The hand-off request a thread is paused on, or None when it is not paused for one."""
    for pause in graph.get_state(config).interrupts:
        if isinstance(pause.value, dict) and pause.value.get("reason") in ("crisis", "asked_for_human", "taken_over"):
            return cast(HandoffRequest, pause.value)
    return None


def resume_handoff(
    graph: Pregel[Any, ContextT, Any, Any],
    config: RunnableConfig,
    action: str,
    reply: str | None = None,
    *,
    context: ContextT | None = None,
) -> dict[str, Any]:
    """Answer a paused turn, checking the answer first so a refused one never reaches the thread.

    Raises HandoffError when the thread is not paused for a hand-off or the action does not fit the request
    (an unknown action, 'edit' without text, 'send' with nothing drafted). Returns the thread's new state.
    """
    request = pending_handoff(graph, config)
    thread = config.get("configurable", {}).get("thread_id")
    if request is None:
        raise HandoffError(f"thread {thread!r} is not paused for a hand-off: there is nothing to resume")
    answer: dict[str, Any] = {"action": action} if reply is None else {"action": action, "reply": reply}
    if request["reviewer"] is not None:  # recorded even when the resume's Context names no reviewer
        answer["reviewer"] = request["reviewer"]
    problem = decision_problem(answer, request)
    if problem is not None:
        raise HandoffError(f"cannot resume thread {thread!r}: {problem}")
    return cast(dict[str, Any], graph.invoke(Command(resume=answer), config, context=context))
