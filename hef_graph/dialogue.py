"""Turn chat messages into the dialogue HEF analyses, and format it for prompts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from hef_graph.errors import InvalidInput
from hef_graph.llm.runtime import message_text

_TAG = re.compile(r"</?\s*dialogue\s*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_PROMPT_CHARS = 1500
"""Dialogue characters an LLM prompt keeps (most recent first), about 400 tokens."""


def clean_text(text: str) -> str:
    """Drop control characters and replace invalid surrogates, so tokenizers and JSON never choke."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub(" ", text).strip()


def recent_turns(turns: Sequence[str], max_chars: int = MAX_PROMPT_CHARS) -> list[str]:
    """Keep the most recent turns that fit ``max_chars``; an overlong last turn keeps its end."""
    kept: list[str] = []
    budget = max_chars
    for turn in reversed(turns):
        if len(turn) <= budget:
            kept.append(turn)
            budget -= len(turn)
        else:
            if not kept:
                kept.append("…" + turn[-max_chars:].split(" ", 1)[-1])
            break
    return kept[::-1]


def dialogue_from_messages(messages: Sequence[AnyMessage]) -> list[str]:
    """Return the user/assistant turns, oldest first, starting at the user's first turn.

    Raises InvalidInput when there is nothing to answer: no messages, or a last message that is not
    the user's.
    """
    if not messages:
        raise InvalidInput(
            "messages is empty: send at least one user message, e.g. {'messages': [('user', 'I lost my job')]}"
        )
    last = messages[-1]
    if not isinstance(last, HumanMessage):
        raise InvalidInput(f"the last message must be the user's (a HumanMessage), got {type(last).__name__}")
    chat_turns = [m for m in messages if isinstance(m, (HumanMessage, AIMessage))]
    first_user = next(i for i, m in enumerate(chat_turns) if isinstance(m, HumanMessage))
    return [clean_text(message_text(m)) for m in chat_turns[first_user:]]


def format_dialogue(turns: Sequence[str], max_chars: int = MAX_PROMPT_CHARS) -> str:
    """Render the recent turns as 'Speaker:'/'Listener:' lines, neutralising dialogue tags in user text.

    Roles are counted from the end (the last turn is the speaker's), so truncation keeps them right.
    """
    kept = recent_turns(turns, max_chars)
    lines = []
    for index, turn in enumerate(kept):
        role = "Speaker" if (len(kept) - 1 - index) % 2 == 0 else "Listener"
        lines.append(f"{role}: {_TAG.sub('', turn).strip()}")
    return "\n".join(lines)
