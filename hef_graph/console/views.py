"""What the chat page shows of a thread: per turn, the person's words, the reply and the trace ``hef trace`` draws."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from hef_graph.console.records import ThreadView
from hef_graph.console.turns import message_text
from hef_graph.trace import turn_html


@dataclass(frozen=True)
class TurnRow:
    """One finished turn of the chat: what the person wrote (several messages if they joined a paused turn)."""

    number: int
    asked: list[str]
    reply: str
    answered_by: str | None
    """The reviewer who answered a handed-off turn; None when HEF did."""
    trace: Markup


def turn_rows(view: ThreadView) -> list[TurnRow]:
    """Each finished turn of the thread with its trace section, oldest first."""
    rows, seen = [], 0
    for number, turn in enumerate(view.turns, start=1):
        messages = turn.state.get("messages", [])
        asked = [text for role, text in map(message_text, messages[seen:]) if role == "human"]
        seen = len(messages)
        decision = turn.state.get("handoff") or {}
        reviewer = (decision.get("reviewer") or "a reviewer") if decision.get("action") else None
        rows.append(TurnRow(number, asked, str(turn.state.get("reply", "")), reviewer, Markup(turn_html(number, turn))))
    return rows
