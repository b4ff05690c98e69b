"""What both backends share about a turn: the run's events, the thread's open messages, the hand-off pauses."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from hef_graph.console.records import TurnEvent
from hef_graph.errors import LLMUnavailable
from hef_graph.handoff import HandoffReason

HANDOFF_REASONS = frozenset(get_args(HandoffReason))
TITLE_CHARS = 60
READING_TOP = 3
"""How many of the SEM's emotions the inbox shows for a paused turn."""
KEPT = "Your message is kept in this thread: press Retry to answer it."


def title_of(text: str) -> str:
    """A thread's title: the start of its first message, on one line."""
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def token_event(text: str) -> TurnEvent:
    """A reply token, stamped with this machine's clock in ms (the page reports how late it showed it)."""
    return TurnEvent("token", {"text": text, "t": time.time() * 1000})


def fault_event(error: BaseException) -> TurnEvent:
    """The page's message for a turn that stopped on a fault; the person's message stays in the thread."""
    if isinstance(error, LLMUnavailable):
        return TurnEvent("error", {"message": f"The LLM is not answering: {error}. {KEPT}", "retry": True})
    return TurnEvent("error", {"message": f"The turn stopped: {type(error).__name__}: {error}. {KEPT}", "retry": True})


def is_handoff(value: object) -> bool:
    """Whether an interrupt's value is a hand-off request (the only kind HEF's graph makes)."""
    return isinstance(value, Mapping) and value.get("reason") in HANDOFF_REASONS


def message_text(message: Any) -> tuple[str, str]:
    """A message's role ('human', 'ai', ...) and text, from a LangChain message or a served thread's dict."""
    if isinstance(message, Mapping):
        return str(message.get("type", "")), str(message.get("content", ""))
    return str(getattr(message, "type", "")), str(getattr(message, "content", ""))


def open_messages(current: Sequence[Any], answered: Sequence[Any]) -> list[str]:
    """The person's messages after the last answered turn (``answered``: that turn's messages)."""
    return [text for role, text in map(message_text, current[len(answered) :]) if role == "human"]


def reading(distribution: Mapping[str, float] | None) -> list[tuple[str, float]]:
    """The SEM's most likely emotions, best first."""
    ranked = sorted((distribution or {}).items(), key=lambda item: -item[1])
    return [(label, round(float(p), 3)) for label, p in ranked[:READING_TOP]]
