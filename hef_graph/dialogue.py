"""Turn chat messages into the dialogue HEF analyses, and format it for prompts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from hef_graph.errors import InvalidInput
from hef_graph.llm import message_text

_TAG = re.compile(r"</?\s*dialogue\s*>", re.IGNORECASE)


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
    return [message_text(m) for m in chat_turns[first_user:]]


def format_dialogue(turns: Sequence[str]) -> str:
    """Render turns as 'Speaker:'/'Listener:' lines, neutralising any dialogue tags in user text."""
    lines = []
    for index, turn in enumerate(turns):
        role = "Speaker" if index % 2 == 0 else "Listener"
        lines.append(f"{role}: {_TAG.sub('', turn).strip()}")
    return "\n".join(lines)
