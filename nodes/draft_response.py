"""Node 5, draft_response: the LLM writes the reply, grounded in the emotion and its cause words."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from hef_graph.context import Context
from hef_graph.deps import llm_of, settings
from hef_graph.dialogue import format_dialogue
from hef_graph.prompting import dialogue_prompt
from hef_graph.state import HEFState

_ROLE_PREFIX = re.compile(r"^\s*(listener|assistant|reply|response)\s*:\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NEXT_TURN = re.compile(r"\n\s*(speaker|user|listener)\s*:", re.IGNORECASE)


def draft_response(state: HEFState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Write the reply and append it to messages."""
    context = settings(runtime)
    causes = [cause["word"] for cause in state.get("cause_words", [])]
    messages = dialogue_prompt(
        "draft_response",
        format_dialogue(state["dialogue"], context.max_prompt_chars),
        emotion=str(state["emotion"]),
        cause_line=f" It is about: {', '.join(causes)}." if causes else "",
        cause_focus=f" and what caused it ({', '.join(causes)})" if causes else "",
    )
    raw = llm_of(context).reply(messages, context.reply_caps(), context.call_policy())
    reply = clean_reply(raw) or f"It sounds like you feel {state['emotion']}. I'm here and listening."
    return {"reply": reply, "messages": [AIMessage(reply)]}


def clean_reply(text: str, max_sentences: int = 2) -> str:
    """Strip role prefixes, quotes and any turn written for the other speaker; keep the first sentences.

    Small LLMs drift after a sentence or two, so the reply keeps at most ``max_sentences``.
    """
    text = _NEXT_TURN.split(text, maxsplit=1)[0]
    text = _ROLE_PREFIX.sub("", text.strip().strip('"')).strip().strip('"').strip()
    sentences = _SENTENCE_END.split(text)
    return " ".join(sentences[:max_sentences]).strip()
